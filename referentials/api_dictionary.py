"""Read-only REST API of the dictionary, under ``/api/v1/dictionnaire/`` (public).

A common language is public: like the glossary, these endpoints answer without login
(``AllowAny``), read only. Drafts are not published here; deprecated definitions are, with the
code of their replacement. Output serializers only shape the answer.
"""

from django.contrib.auth.decorators import login_not_required
from django.db.models import Prefetch, QuerySet
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    extend_schema,
    extend_schema_field,
    extend_schema_view,
)
from rest_framework import generics, serializers
from rest_framework.permissions import AllowAny

from referentials.models import (
    VALUE_TYPE_LABELS,
    CodeList,
    CodeListItem,
    Definition,
    DictionaryStatus,
    Rule,
)
from referentials.selectors_dictionary import PUBLIC_STATUSES, definition_search

TAG = "Dictionnaire"

# --- Input ------------------------------------------------------------------------------------


class DefinitionFilterInput(serializers.Serializer):
    q = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=200,
        help_text="Recherche dans le libellé, les synonymes, le code et la doctrine, sans tenir "
        "compte des accents ni de la casse, en tolérant les fautes de frappe ; les plus proches "
        "en premier.",
        error_messages={"max_length": "Paramètre « q » invalide : 200 caractères au plus."},
    )
    theme = serializers.CharField(
        required=False, allow_blank=True, max_length=64, help_text="Code d'un thème."
    )
    value_type = serializers.ChoiceField(
        choices=[(t.value, label) for t, label in VALUE_TYPE_LABELS.items()],
        required=False,
        help_text="Type de valeur (integer, decimal, percentage, boolean, date, text, "
        "single_choice, multiple_choice, finess, rpps).",
        error_messages={"invalid_choice": "Paramètre « value_type » invalide : « {input} »."},
    )
    status = serializers.ChoiceField(
        choices=[(s.value, s.label) for s in PUBLIC_STATUSES],
        required=False,
        help_text="Statut : « published » ou « deprecated ».",
        error_messages={"invalid_choice": "Paramètre « status » invalide : « {input} »."},
    )


# --- Output -----------------------------------------------------------------------------------


class CodeListItemOutput(serializers.Serializer):
    code = serializers.CharField(help_text="Code enregistré.")
    label = serializers.CharField(help_text="Libellé affiché.")


class CodeListOutput(serializers.Serializer):
    code = serializers.CharField(help_text="Code de la liste.")
    label = serializers.CharField(help_text="Libellé de la liste.")
    items = CodeListItemOutput(many=True, help_text="Choix, dans l'ordre d'affichage.")


class DefinitionOutput(serializers.Serializer):
    code = serializers.CharField(help_text="Code stable de la définition.")
    label = serializers.CharField(help_text="Libellé.")
    value_type = serializers.CharField(help_text="Type de valeur.")
    unit = serializers.CharField(help_text="Unité.")
    minimum = serializers.DecimalField(
        max_digits=20,
        decimal_places=4,
        allow_null=True,
        normalize_output=True,
        help_text="Valeur minimale.",
    )
    maximum = serializers.DecimalField(
        max_digits=20,
        decimal_places=4,
        allow_null=True,
        normalize_output=True,
        help_text="Valeur maximale.",
    )
    decimals = serializers.IntegerField(allow_null=True, help_text="Décimales permises.")
    code_list = serializers.CharField(
        source="code_list.code", allow_null=True, help_text="Code de la liste de choix."
    )
    time_aggregation = serializers.CharField(
        help_text="Agrégation dans le temps : stock (dernière valeur), flow (somme), level "
        "(moyenne)."
    )
    establishment_aggregation = serializers.CharField(
        help_text="Agrégation entre établissements : sum, mean ou none."
    )
    status = serializers.CharField(help_text="Statut : published ou deprecated.")
    replaced_by = serializers.CharField(
        source="replaced_by.code",
        allow_null=True,
        help_text="Code de la définition qui la remplace.",
    )
    version = serializers.IntegerField(help_text="Version (augmente à chaque correction).")
    themes = serializers.SerializerMethodField(help_text="Codes des thèmes.")
    synonyms = serializers.ListField(child=serializers.CharField(), help_text="Synonymes.")

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_themes(self, definition: Definition) -> list[str]:
        return [theme.code for theme in definition.themes.all()]


class DefinitionDetailOutput(DefinitionOutput):
    doctrine = serializers.CharField(help_text="Doctrine de remplissage (texte).")
    choices = CodeListItemOutput(
        many=True, source="choice_items", help_text="Choix possibles (définitions à choix)."
    )
    updated_at = serializers.DateTimeField(help_text="Dernière modification.")


class RuleOutput(serializers.Serializer):
    code = serializers.CharField(help_text="Code de la règle.")
    expression = serializers.CharField(help_text="Ce qui doit être vrai.")
    condition = serializers.CharField(help_text="Quand la règle s'applique (vide : toujours).")
    severity = serializers.CharField(
        help_text="error (bloque l'envoi) ou warning (demande un commentaire)."
    )
    message = serializers.CharField(help_text="Message affiché quand la règle n'est pas tenue.")
    status = serializers.CharField(help_text="Statut.")


# --- Views ------------------------------------------------------------------------------------


class PublicReadApi:
    """Public and read-only: no authentication needed, nothing but GET."""

    permission_classes = [AllowAny]
    http_method_names = ["get", "head", "options"]


def _definitions() -> QuerySet[Definition]:
    return (
        Definition.objects.filter(status__in=PUBLIC_STATUSES)
        .select_related("code_list", "replaced_by")
        .prefetch_related("themes")
    )


@extend_schema_view(
    get=extend_schema(
        summary="Rechercher des définitions",
        description="Définitions publiées et obsolètes du dictionnaire partagé, par pages de "
        "100 ; avec « q », les plus proches de la recherche en premier.",
        parameters=[DefinitionFilterInput],
        tags=[TAG],
    )
)
class DefinitionListApi(PublicReadApi, generics.ListAPIView):
    serializer_class = DefinitionOutput

    def get_queryset(self) -> list[Definition]:  # type: ignore[override]
        filters = DefinitionFilterInput(data=self.request.query_params)
        filters.is_valid(raise_exception=True)
        data = filters.validated_data
        return definition_search(
            query=data.get("q", ""),
            theme=data.get("theme", ""),
            value_type=data.get("value_type", ""),
            status=data.get("status", ""),
            queryset=_definitions(),
        )


CODE_PARAMETER = OpenApiParameter("code", OpenApiTypes.STR, OpenApiParameter.PATH)


@extend_schema_view(
    get=extend_schema(
        summary="Une définition",
        description="Doctrine, format, choix possibles d'une définition (404 pour un brouillon "
        "ou un code inconnu).",
        parameters=[CODE_PARAMETER],
        tags=[TAG],
    )
)
class DefinitionDetailApi(PublicReadApi, generics.RetrieveAPIView):
    serializer_class = DefinitionDetailOutput
    lookup_field = "code"

    def get_queryset(self) -> QuerySet[Definition]:
        return _definitions()

    def get_object(self) -> Definition:
        definition: Definition = super().get_object()
        items = list(definition.code_list.items.all()) if definition.code_list else []
        definition.choice_items = items  # type: ignore[attr-defined]
        return definition


@extend_schema_view(
    get=extend_schema(
        summary="Règles de cohérence",
        description="Règles entre définitions, écrites dans le langage d'expressions du "
        "dictionnaire.",
        tags=[TAG],
    )
)
class RuleListApi(PublicReadApi, generics.ListAPIView):
    serializer_class = RuleOutput

    def get_queryset(self) -> QuerySet[Rule]:
        return Rule.objects.exclude(status=DictionaryStatus.DRAFT).order_by("code")


@extend_schema_view(get=extend_schema(summary="Une règle", parameters=[CODE_PARAMETER], tags=[TAG]))
class RuleDetailApi(PublicReadApi, generics.RetrieveAPIView):
    serializer_class = RuleOutput
    lookup_field = "code"

    def get_queryset(self) -> QuerySet[Rule]:
        return Rule.objects.exclude(status=DictionaryStatus.DRAFT)


def _code_lists() -> QuerySet[CodeList]:
    return CodeList.objects.prefetch_related(
        Prefetch("items", queryset=CodeListItem.objects.order_by("order", "code"))
    ).order_by("code")


@extend_schema_view(
    get=extend_schema(
        summary="Listes de codes",
        description="Listes de choix réutilisables, avec leurs codes et libellés.",
        tags=[TAG],
    )
)
class CodeListListApi(PublicReadApi, generics.ListAPIView):
    serializer_class = CodeListOutput

    def get_queryset(self) -> QuerySet[CodeList]:
        return _code_lists()


@extend_schema_view(
    get=extend_schema(summary="Une liste de codes", parameters=[CODE_PARAMETER], tags=[TAG])
)
class CodeListDetailApi(PublicReadApi, generics.RetrieveAPIView):
    serializer_class = CodeListOutput
    lookup_field = "code"

    def get_queryset(self) -> QuerySet[CodeList]:
        return _code_lists()


def public(view: type[generics.GenericAPIView]):  # type: ignore[no-untyped-def]
    """The view function, opted out of LoginRequiredMiddleware: these endpoints are public."""
    return login_not_required(view.as_view())
