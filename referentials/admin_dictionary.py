"""Curation of the dictionary in the admin: edit, export and re-import (xlsx, csv).

Every write goes through ``referentials.dictionary``: the forms check with the services' own
``*_check`` functions (so a refusal shows on the form, in French), saves call the services
(history, version, audit). The spreadsheet import does the same row by row; its preview is
import-export's confirmation step, and an import with one refused row saves nothing.
An unchanged export re-imported changes nothing (rows skipped, no new version).
"""

from typing import Any

from django import forms
from django.contrib import admin
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.http import HttpRequest
from import_export import fields, resources
from import_export.admin import ImportExportModelAdmin
from import_export.widgets import ForeignKeyWidget, ManyToManyWidget, Widget

from accounts.models import Organisation
from referentials import dictionary
from referentials.models import (
    CodeList,
    CodeListItem,
    Definition,
    DefinitionRevision,
    DictionaryStatus,
    Indicator,
    Rule,
    Theme,
)

# --- Spreadsheet import and export -----------------------------------------------------------


# What a curator edits of a definition, in the admin form and in spreadsheets alike.
DEFINITION_FIELDS = (
    "code",
    "label",
    "doctrine",
    "value_type",
    "unit",
    "minimum",
    "maximum",
    "decimals",
    "code_list",
    "time_aggregation",
    "establishment_aggregation",
    "themes",
    "synonyms",
    "owner",
    "status",
    "replaced_by",
    "max_jump_ratio",
    "directory_maximum",
)


class ServiceResource(resources.ModelResource):
    """Rows are saved by a service; one refused row rolls the whole file back."""

    def import_data(self, dataset: Any, **kwargs: Any) -> Any:
        kwargs["rollback_on_validation_errors"] = True
        return super().import_data(dataset, **kwargs)

    def _acting_user(self, kwargs: dict) -> Any:
        user = kwargs.get("user")
        return user if getattr(user, "is_authenticated", False) else None

    def _duplicates_in_file(self, dataset: Any, columns: list[str], what: str) -> None:
        if not all(column in dataset.headers for column in columns):
            return
        seen: set[tuple] = set()
        for number, row in enumerate(dataset.dict, start=1):
            key = tuple(str(row[column] or "").strip() for column in columns)
            if key in seen:
                raise ValidationError(
                    f"Ligne {number} : {what} « {' / '.join(key)} » figure deux fois dans le "
                    "fichier. Rien n'a été importé."
                )
            seen.add(key)

    def _skip_save(self, kwargs: dict) -> bool:
        return not self._is_using_transactions(kwargs) and self._is_dry_run(kwargs)


class SynonymsWidget(Widget):
    """Synonyms as one cell, « ; » between them: readable in a spreadsheet, exact both ways."""

    def clean(self, value: Any, row: Any = None, **kwargs: Any) -> list[str]:
        return [part.strip() for part in str(value or "").split(";") if part.strip()]

    def render(self, value: Any, obj: Any = None, **kwargs: Any) -> str:
        return "; ".join(value or [])


def _refusal(error: ValidationError) -> ValidationError:
    return ValidationError({NON_FIELD_ERRORS: error.messages})


class DefinitionResource(ServiceResource):
    code_list = fields.Field(
        attribute="code_list",
        column_name="code_list",
        widget=ForeignKeyWidget(CodeList, field="code"),
    )
    replaced_by = fields.Field(
        attribute="replaced_by",
        column_name="replaced_by",
        widget=ForeignKeyWidget(Definition, field="code"),
    )
    owner = fields.Field(
        attribute="owner",
        column_name="owner",
        widget=ForeignKeyWidget(Organisation, field="short_name"),
    )
    themes = fields.Field(
        attribute="themes",
        column_name="themes",
        widget=ManyToManyWidget(Theme, field="code", separator=","),
    )
    synonyms = fields.Field(attribute="synonyms", column_name="synonyms", widget=SynonymsWidget())
    # Shown in the export, never imported: the service numbers versions.
    version = fields.Field(attribute="version", column_name="version", readonly=True)

    class Meta:
        model = Definition
        import_id_fields = ["code"]
        fields = [*DEFINITION_FIELDS, "version"]
        export_order = fields
        skip_unchanged = True
        report_skipped = True
        clean_model_instances = False  # the service checks, in French

    def before_import(self, dataset: Any, **kwargs: Any) -> None:
        self._duplicates_in_file(dataset, ["code"], "le code")

    def validate_instance(
        self,
        instance: Definition,
        import_validation_errors: dict | None = None,
        validate_unique: bool = True,
    ) -> None:
        super().validate_instance(instance, import_validation_errors, validate_unique)
        try:
            dictionary.definition_check(definition=instance)
        except dictionary.DictionaryError as error:
            raise _refusal(error) from None

    def save_instance(self, instance: Definition, is_create: bool, row: Any, **kwargs: Any) -> None:
        if self._skip_save(kwargs):
            return
        themes = list(self.fields["themes"].clean(row)) if "themes" in row else None
        try:
            dictionary.definition_save(
                definition=instance,
                acting_user=self._acting_user(kwargs),
                themes=themes,
                comment="Import de tableur",
            )
        except dictionary.DictionaryError as error:
            raise _refusal(error) from None

    def save_m2m(self, instance: Definition, row: Any, **kwargs: Any) -> None:
        """Themes are saved by ``definition_save``, with the history."""


class CodeListItemResource(ServiceResource):
    code_list = fields.Field(
        attribute="code_list",
        column_name="code_list",
        widget=ForeignKeyWidget(CodeList, field="code"),
    )

    class Meta:
        model = CodeListItem
        import_id_fields = ["code_list", "code"]
        fields = ["code_list", "code", "label", "order"]
        export_order = fields
        skip_unchanged = True
        report_skipped = True
        clean_model_instances = False

    def before_import(self, dataset: Any, **kwargs: Any) -> None:
        self._duplicates_in_file(dataset, ["code_list", "code"], "le code")

    def save_instance(
        self, instance: CodeListItem, is_create: bool, row: Any, **kwargs: Any
    ) -> None:
        if self._skip_save(kwargs):
            return
        try:
            dictionary.code_list_item_save(item=instance, acting_user=self._acting_user(kwargs))
        except dictionary.DictionaryError as error:
            raise _refusal(error) from None


# --- Forms that ask the services first --------------------------------------------------------


class ServiceCheckedForm(forms.ModelForm):
    """After the model's own checks, the service's: its French refusal shows on the form."""

    def service_check(self, instance: Any) -> None:
        raise NotImplementedError

    def _post_clean(self) -> None:
        super()._post_clean()
        if self.errors:
            return
        try:
            self.service_check(self.instance)
        except dictionary.DictionaryError as error:
            self.add_error(None, error.messages)


class DefinitionForm(ServiceCheckedForm):
    class Meta:
        model = Definition
        fields = list(DEFINITION_FIELDS)

    def service_check(self, instance: Definition) -> None:
        dictionary.definition_check(definition=instance)


class RuleForm(ServiceCheckedForm):
    class Meta:
        model = Rule
        fields = ["code", "expression", "condition", "severity", "message", "status", "owner"]

    def service_check(self, instance: Rule) -> None:
        dictionary.rule_check(rule=instance)


class IndicatorForm(ServiceCheckedForm):
    class Meta:
        model = Indicator
        fields = ["code", "label", "expression", "unit", "doctrine", "status", "owner"]

    def service_check(self, instance: Indicator) -> None:
        dictionary.indicator_check(indicator=instance)


# --- Admin pages ------------------------------------------------------------------------------


@admin.register(Theme)
class ThemeAdmin(admin.ModelAdmin):
    list_display = ["code", "label"]
    search_fields = ["code", "label"]


class CodeListItemInline(admin.TabularInline):
    model = CodeListItem
    fields = ["code", "label", "order"]
    extra = 0
    can_delete = False  # a code may be in use: lists are changed through code_list_save


@admin.register(CodeList)
class CodeListAdmin(admin.ModelAdmin):
    list_display = ["code", "label"]
    search_fields = ["code", "label"]
    inlines = [CodeListItemInline]

    def save_formset(self, request: HttpRequest, form: Any, formset: Any, change: bool) -> None:
        for item in formset.save(commit=False):
            dictionary.code_list_item_save(item=item, acting_user=request.user)


@admin.register(CodeListItem)
class CodeListItemAdmin(ImportExportModelAdmin):
    resource_classes = [CodeListItemResource]
    list_display = ["code_list", "code", "label", "order"]
    list_filter = ["code_list"]
    search_fields = ["code", "label"]

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        dictionary.code_list_item_save(item=obj, acting_user=request.user)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class RevisionInline(admin.TabularInline):
    model = DefinitionRevision
    fields = ["version", "changed_at", "changed_by", "comment"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Definition)
class DefinitionAdmin(ImportExportModelAdmin):
    form = DefinitionForm
    resource_classes = [DefinitionResource]
    list_display = ["code", "label", "value_type", "unit", "status", "version"]
    list_filter = ["status", "value_type", "themes"]
    search_fields = ["code", "label", "search_text"]
    readonly_fields = ["version", "created_at", "updated_at"]
    filter_horizontal = ["themes"]
    raw_id_fields = ["replaced_by", "owner"]
    inlines = [RevisionInline]

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        dictionary.definition_save(
            definition=obj,
            acting_user=request.user,
            themes=list(form.cleaned_data.get("themes") or []),
            comment="Modifié dans l'administration",
        )

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        for formset in formsets:  # themes were saved with the definition, by the service
            self.save_formset(request, form, formset, change=change)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # A published definition is deprecated, never deleted: values may point to it.
        return obj is not None and obj.status == DictionaryStatus.DRAFT


@admin.register(DefinitionRevision)
class DefinitionRevisionAdmin(admin.ModelAdmin):
    list_display = ["definition", "version", "changed_at", "changed_by", "comment"]
    search_fields = ["definition__code"]
    list_select_related = ["definition", "changed_by"]

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Rule)
class RuleAdmin(admin.ModelAdmin):
    form = RuleForm
    list_display = ["code", "expression", "condition", "severity", "status"]
    list_filter = ["severity", "status"]
    search_fields = ["code", "expression", "message"]
    raw_id_fields = ["owner"]

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        dictionary.rule_save(rule=obj, acting_user=request.user)


@admin.register(Indicator)
class IndicatorAdmin(admin.ModelAdmin):
    form = IndicatorForm
    list_display = ["code", "label", "expression", "unit", "status"]
    list_filter = ["status"]
    search_fields = ["code", "label", "expression"]
    raw_id_fields = ["owner"]

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        dictionary.indicator_save(indicator=obj, acting_user=request.user)
