"""Read-only REST API of the directory, under ``/api/v1/`` (see ``config/urls.py``).

Input serializers read the query string, output serializers shape the answer; neither checks a
permission. Every establishment comes from the selectors, which start from the user's scope: an
establishment outside it answers 404, as one that does not exist.

The views are marked ``login_not_required`` only so that ``LoginRequiredMiddleware`` does not
redirect API clients to the HTML login page: DRF authenticates them itself (session) and its
``IsAuthenticated`` default answers 403 with a JSON body.
"""

import re

from django.contrib.auth.decorators import login_not_required
from django.db.models import QuerySet
from django.urls import path
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics, serializers
from rest_framework.request import Request
from rest_framework.response import Response

from referentials import selectors
from referentials.forms import FINESS_PATTERN
from referentials.models import Establishment, FunctionalContact, Status

# --- Input ------------------------------------------------------------------------------------


def _code(name: str, pattern: str, rule: str, description: str) -> serializers.RegexField:
    return serializers.RegexField(
        re.compile(pattern, re.IGNORECASE),
        required=False,
        allow_blank=True,
        max_length=9,
        help_text=description,
        error_messages={
            "invalid": f"Paramètre « {name} » invalide : {rule}",
            "max_length": f"Paramètre « {name} » invalide : {rule}",
        },
    )


FINESS_RULE = "9 caractères, par exemple 750712184 ou 2A0000030."


class EstablishmentFilterInput(serializers.Serializer):
    """The filters of ``GET /api/v1/etablissements/``, as the search page offers them."""

    STATUS_ALL = "all"

    q = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=200,
        help_text="Recherche dans le nom, la raison sociale longue, la commune ou le numéro "
        "FINESS, sans tenir compte des accents ni de la casse.",
        error_messages={"max_length": "Paramètre « q » invalide : 200 caractères au plus."},
    )
    finess = _code(
        "finess",
        FINESS_PATTERN,
        FINESS_RULE,
        "Numéro FINESS : d'un établissement (ET), ou d'une entité juridique (EJ) pour lister "
        "ses établissements.",
    )
    category = _code(
        "category", r"^[0-9]{3}$", "3 chiffres, par exemple 355.", "Code de catégorie FINESS."
    )
    aggregate_category = _code(
        "aggregate_category",
        r"^[0-9]{4}$",
        "4 chiffres, par exemple 1102.",
        "Code de catégorie agrégée FINESS.",
    )
    region = _code(
        "region", r"^[0-9]{2,3}$", "code INSEE, par exemple 11 ou 01.", "Code INSEE de la région."
    )
    territory = _code(
        "territory",
        r"^(?:[0-9]{2,3}|2A|2B)$",
        "code INSEE, par exemple 75, 2A ou 977.",
        "Code INSEE du département ou de la collectivité (Saint-Barthélemy 977, Saint-Martin 978).",
    )
    legal_entity = _code(
        "legal_entity",
        FINESS_PATTERN,
        FINESS_RULE,
        "Numéro FINESS de l'entité juridique (EJ) : ses établissements.",
    )
    status = serializers.ChoiceField(
        choices=[
            (Status.OPEN, "Ouverts"),
            (Status.CLOSED, "Fermés"),
            (STATUS_ALL, "Tous"),
        ],
        required=False,
        default=Status.OPEN,
        help_text="Statut : « open » (par défaut), « closed » ou « all ».",
        error_messages={
            "invalid_choice": "Paramètre « status » invalide : « open », « closed » ou « all »."
        },
    )

    def selector_filters(self) -> dict[str, str]:
        """The keyword arguments of ``selectors.establishment_list``."""
        data = self.validated_data
        codes = ("finess", "category", "aggregate_category", "region", "territory", "legal_entity")
        status = data.get("status", Status.OPEN)
        return {
            "query": data.get("q", ""),
            **{name: data.get(name, "").upper() for name in codes},
            "status": "" if status == self.STATUS_ALL else status,
        }


# --- Output -----------------------------------------------------------------------------------


class LegalEntityOutput(serializers.Serializer):
    finess = serializers.CharField(help_text="Numéro FINESS de l'entité juridique (EJ).")
    name = serializers.CharField(help_text="Raison sociale.")
    long_name = serializers.CharField(help_text="Raison sociale longue.")
    siren = serializers.CharField(help_text="SIREN.")
    legal_status_code = serializers.CharField(help_text="Code du statut juridique.")
    legal_status_label = serializers.CharField(help_text="Libellé du statut juridique.")
    status = serializers.ChoiceField(
        choices=Status.choices, help_text="Statut : ouverte ou fermée."
    )


class ContactOutput(serializers.Serializer):
    role = serializers.ChoiceField(
        choices=FunctionalContact.Role.choices, help_text="Fonction (code)."
    )
    role_label = serializers.CharField(source="get_role_display", help_text="Fonction.")
    label = serializers.CharField(help_text="Intitulé.")
    email = serializers.EmailField(help_text="Adresse électronique fonctionnelle.")
    phone = serializers.CharField(help_text="Téléphone.")
    verified_on = serializers.DateField(
        allow_null=True, help_text="Date de la dernière vérification."
    )


class EstablishmentOutput(serializers.Serializer):
    finess = serializers.CharField(help_text="Numéro FINESS de l'établissement (ET).")
    legal_entity_finess = serializers.CharField(
        source="legal_entity.finess", help_text="Numéro FINESS de l'entité juridique (EJ)."
    )
    name = serializers.CharField(help_text="Raison sociale.")
    long_name = serializers.CharField(help_text="Raison sociale longue.")
    category_code = serializers.CharField(help_text="Code de catégorie FINESS.")
    category_label = serializers.CharField(help_text="Libellé de catégorie.")
    aggregate_category_code = serializers.CharField(help_text="Code de catégorie agrégée.")
    aggregate_category_label = serializers.CharField(help_text="Libellé de catégorie agrégée.")
    postcode = serializers.CharField(help_text="Code postal.")
    city = serializers.CharField(help_text="Commune (libellé d'acheminement).")
    commune_code = serializers.CharField(help_text="Code commune INSEE.")
    territory_code = serializers.CharField(
        help_text="Code INSEE du département ou de la collectivité."
    )
    region_code = serializers.CharField(help_text="Code INSEE de la région.")
    status = serializers.ChoiceField(choices=Status.choices, help_text="Statut : ouvert ou fermé.")
    closed_at = serializers.DateField(allow_null=True, help_text="Date de fermeture.")


class EstablishmentDetailOutput(EstablishmentOutput):
    legal_entity = LegalEntityOutput(help_text="Entité juridique (EJ).")
    address = serializers.CharField(help_text="Adresse.")
    phone = serializers.CharField(help_text="Téléphone.")
    email = serializers.EmailField(help_text="Adresse électronique.")
    siret = serializers.CharField(help_text="SIRET.")
    opened_on = serializers.DateField(allow_null=True, help_text="Date d'ouverture.")
    latitude = serializers.FloatField(allow_null=True, help_text="Latitude (WGS84).")
    longitude = serializers.FloatField(allow_null=True, help_text="Longitude (WGS84).")
    contacts = ContactOutput(
        many=True, source="active_contacts", help_text="Contacts fonctionnels actifs."
    )


# --- Views ------------------------------------------------------------------------------------


@extend_schema(
    summary="Rechercher des établissements",
    description="Établissements de votre périmètre, filtrés comme dans la recherche de "
    "l'annuaire, par pages de 100.",
    parameters=[EstablishmentFilterInput],
    tags=["Annuaire"],
)
class EstablishmentListApi(generics.ListAPIView):
    serializer_class = EstablishmentOutput

    def get_queryset(self) -> QuerySet[Establishment]:
        filters = EstablishmentFilterInput(data=self.request.query_params)
        filters.is_valid(raise_exception=True)
        return selectors.establishment_list(user=self.request.user, **filters.selector_filters())


class EstablishmentDetailApi(generics.GenericAPIView):
    serializer_class = EstablishmentDetailOutput

    @extend_schema(
        summary="Fiche d'un établissement",
        description="Identité, entité juridique et contacts fonctionnels d'un établissement de "
        "votre périmètre (404 s'il n'existe pas ou s'il est hors de votre périmètre).",
        parameters=[
            OpenApiParameter(
                "finess",
                OpenApiTypes.STR,
                OpenApiParameter.PATH,
                description="Numéro FINESS de l'établissement (ET).",
            )
        ],
        tags=["Annuaire"],
    )
    def get(self, request: Request, finess: str) -> Response:
        establishment: Establishment = selectors.establishment_with_contacts(
            user=request.user, finess=finess
        )
        return Response(self.get_serializer(establishment).data)


urlpatterns = [
    path(
        "etablissements/",
        login_not_required(EstablishmentListApi.as_view()),
        name="establishment_list",
    ),
    path(
        "etablissements/<str:finess>/",
        login_not_required(EstablishmentDetailApi.as_view()),
        name="establishment_detail",
    ),
]
