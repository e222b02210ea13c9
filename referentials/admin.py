"""The technical admin of the directory: browse everything, import and export what curators
maintain in spreadsheets (contacts, categories), and start a FINESS or RPPS import from a file.

History and import runs are read-only: the directory changes through ``referentials.curation``
and the importers, which write the history; the admin only reads it.
"""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from import_export import fields, resources
from import_export.admin import ExportMixin, ImportExportModelAdmin
from import_export.widgets import ForeignKeyWidget

from referentials import curation
from referentials.models import (
    Category,
    ChangeProposal,
    Commune,
    Correction,
    DirectoryChange,
    Establishment,
    FunctionalContact,
    ImportRun,
    LegalEntity,
    Professional,
    ProfessionalActivity,
    Region,
    Territory,
)


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


# --- Territories -----------------------------------------------------------------------------


@admin.register(Region)
class RegionAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "zone"]
    list_filter = ["zone"]
    search_fields = ["code", "name"]


@admin.register(Territory)
class TerritoryAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "region"]
    list_filter = ["region"]
    search_fields = ["code", "name"]


@admin.register(Commune)
class CommuneAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "territory"]
    list_filter = ["territory"]
    search_fields = ["code", "name"]
    raw_id_fields = ["territory"]


# --- FINESS ----------------------------------------------------------------------------------


class CategoryResource(resources.ModelResource):
    class Meta:
        model = Category
        import_id_fields = ["code"]
        fields = ["code", "label", "aggregate_code", "aggregate_label"]
        export_order = fields
        skip_unchanged = True
        report_skipped = True
        clean_model_instances = True


@admin.register(Category)
class CategoryAdmin(ImportExportModelAdmin):
    resource_classes = [CategoryResource]
    list_display = ["code", "label", "aggregate_code", "aggregate_label"]
    search_fields = ["code", "label"]


@admin.register(LegalEntity)
class LegalEntityAdmin(admin.ModelAdmin):
    list_display = ["finess", "name", "territory_code", "status"]
    list_filter = ["status"]
    search_fields = ["finess", "name", "siren"]
    readonly_fields = ["last_import", "row_hash", "created_at", "updated_at"]


class CorrectionInline(admin.TabularInline):
    model = Correction
    fields = ["field", "value", "source_value", "reason", "created_by", "created_at", "cleared_at"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = False

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(Establishment)
class EstablishmentAdmin(admin.ModelAdmin):
    list_display = ["finess", "name", "category_label", "territory_code", "status"]
    list_filter = ["status", "territory_code", "aggregate_category_code"]
    search_fields = ["finess", "name", "search_text"]
    raw_id_fields = ["legal_entity"]
    readonly_fields = ["search_text", "last_import", "row_hash", "created_at", "updated_at"]
    inlines = [CorrectionInline]


# --- Curation --------------------------------------------------------------------------------


class CorrectionResource(resources.ModelResource):
    finess = fields.Field(attribute="establishment__finess", column_name="finess")
    establishment_name = fields.Field(attribute="establishment__name", column_name="etablissement")
    created_by_email = fields.Field(attribute="created_by__email", column_name="corrige_par")
    cleared_by_email = fields.Field(attribute="cleared_by__email", column_name="leve_par")

    class Meta:
        model = Correction
        fields = [
            "finess",
            "establishment_name",
            "field",
            "value",
            "source_value",
            "reason",
            "created_by_email",
            "created_at",
            "cleared_by_email",
            "cleared_at",
        ]
        export_order = fields


@admin.register(Correction)
class CorrectionAdmin(ExportMixin, ReadOnlyAdmin):
    """Corrections are made and lifted on the curator pages, which write the history."""

    resource_classes = [CorrectionResource]
    list_display = ["establishment", "field", "value", "source_value", "created_by", "cleared_at"]
    list_filter = ["field", ("cleared_at", admin.EmptyFieldListFilter)]
    search_fields = ["establishment__finess", "establishment__name", "value"]
    list_select_related = ["establishment", "created_by"]


class FunctionalContactResource(resources.ModelResource):
    """One row per contact, identified by establishment FINESS + role + e-mail."""

    establishment = fields.Field(
        attribute="establishment",
        column_name="finess",
        widget=ForeignKeyWidget(Establishment, field="finess"),
    )

    class Meta:
        model = FunctionalContact
        import_id_fields = ["establishment", "role", "email"]
        fields = ["establishment", "role", "label", "email", "phone", "is_active", "verified_on"]
        export_order = fields
        skip_unchanged = True
        report_skipped = True
        clean_model_instances = True

    def before_import_row(self, row: dict, **kwargs: object) -> None:
        # Same e-mail and phone shapes as the curator pages, so that a re-import matches.
        if row.get("email"):
            row["email"] = str(row["email"]).strip().lower()
        if row.get("phone"):
            try:
                row["phone"] = curation.clean_phone(str(row["phone"]))
            except forms.ValidationError as error:
                raise ValueError(f"{row['phone']} : {error.messages[0]}") from None

    def after_save_instance(self, instance: FunctionalContact, row: dict, **kwargs: object) -> None:
        if kwargs.get("dry_run"):
            return
        user = kwargs.get("user")
        DirectoryChange.objects.create(
            establishment=instance.establishment,
            field=f"contact:{instance.role}",
            new_value=" ".join(p for p in [instance.email, instance.phone, instance.label] if p),
            source=DirectoryChange.Source.CURATOR,
            actor=user if getattr(user, "is_authenticated", False) else None,
        )


@admin.register(FunctionalContact)
class FunctionalContactAdmin(ImportExportModelAdmin):
    resource_classes = [FunctionalContactResource]
    list_display = ["establishment", "role", "email", "phone", "verified_on", "is_active"]
    list_filter = ["role", "is_active"]
    search_fields = ["establishment__finess", "establishment__name", "email"]
    raw_id_fields = ["establishment"]
    readonly_fields = ["verified_by", "created_at"]
    list_select_related = ["establishment"]


@admin.register(ChangeProposal)
class ChangeProposalAdmin(ReadOnlyAdmin):
    """Proposals are reviewed on the curator pages (Gestion > Propositions)."""

    list_display = ["establishment", "status", "proposed_by", "created_at", "reviewed_by"]
    list_filter = ["status"]
    search_fields = ["establishment__finess", "establishment__name"]
    list_select_related = ["establishment", "proposed_by", "reviewed_by"]


@admin.register(DirectoryChange)
class DirectoryChangeAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "establishment", "legal_entity", "field", "source", "actor"]
    list_filter = ["source"]
    search_fields = ["establishment__finess", "legal_entity__finess", "field"]
    list_select_related = ["establishment", "legal_entity", "actor"]


# --- Imports ---------------------------------------------------------------------------------


class ImportUploadForm(forms.Form):
    source = forms.ChoiceField(label="Source", choices=ImportRun.Source.choices)
    file = forms.FileField(
        label="Fichier",
        help_text="Le fichier est conservé tel quel avec le compte rendu de l'import.",
    )
    dry_run = forms.BooleanField(
        label="Simulation : lire et compter sans rien modifier", required=False
    )
    force = forms.BooleanField(
        label="Forcer : importer même si ce fichier a déjà été importé ou semble incomplet",
        required=False,
    )


@admin.register(ImportRun)
class ImportRunAdmin(ReadOnlyAdmin):
    list_display = ["started_at", "source", "file_name", "status", "progress", "dry_run"]
    list_filter = ["source", "status", "dry_run"]
    search_fields = ["file_name", "checksum"]
    readonly_fields = [
        "status",
        "progress",
        "counts",
        "message",
        "source",
        "file_name",
        "stored_file",
        "checksum",
        "extract_date",
        "dry_run",
        "forced",
        "started_by",
        "started_at",
        "finished_at",
        "rejected_lines",
        "disagreements",
    ]
    fields = readonly_fields

    def get_urls(self):
        upload = path(
            "importer/",
            self.admin_site.admin_view(self.upload_view),
            name="referentials_importrun_upload",
        )
        return [upload, *super().get_urls()]

    def upload_view(self, request: HttpRequest) -> HttpResponse:
        if not request.user.has_perm("referentials.add_importrun"):
            raise PermissionDenied
        form = ImportUploadForm(request.POST or None, request.FILES or None)
        if request.method == "POST" and form.is_valid():
            run = curation.import_run_start(
                source=form.cleaned_data["source"],
                uploaded_file=form.cleaned_data["file"],
                dry_run=form.cleaned_data["dry_run"],
                forced=form.cleaned_data["force"],
                acting_user=request.user,
            )
            messages.success(request, f"Import lancé : {run.file_name}.")
            return redirect(reverse("admin:referentials_importrun_change", args=[run.pk]))
        context = {
            **self.admin_site.each_context(request),
            "title": "Importer un fichier",
            "opts": self.model._meta,
            "form": form,
        }
        return TemplateResponse(request, "admin/referentials/importrun/upload.html", context)


# --- RPPS ------------------------------------------------------------------------------------


class ProfessionalActivityInline(admin.TabularInline):
    model = ProfessionalActivity
    extra = 0


@admin.register(Professional)
class ProfessionalAdmin(admin.ModelAdmin):
    list_display = ["rpps", "last_name", "first_name", "profession_label", "status"]
    list_filter = ["status", "profession_label"]
    search_fields = ["rpps", "national_id", "last_name"]
    readonly_fields = ["last_import", "row_hash"]
    inlines = [ProfessionalActivityInline]


@admin.register(ProfessionalActivity)
class ProfessionalActivityAdmin(admin.ModelAdmin):
    list_display = ["professional", "mode_label", "structure_name", "finess_site"]
    search_fields = ["professional__rpps", "finess_site", "siret", "structure_name"]
    raw_id_fields = ["professional"]


from referentials import admin_dictionary  # noqa: E402, F401
