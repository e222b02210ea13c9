"""REST API of surveys and campaigns, under /api/v1/ (see config/urls.py).

- ``questionnaires/``: the surveys of the caller's organisations (requesters and viewers), and
  the creation of a whole survey from one JSON document (``surveys.builder.survey_from_json``);
- ``campagnes/``: the register of collections (every organisation's scheduled, open and closed
  campaigns, and the caller's own drafts), one campaign, and its opening and closing
  (``surveys.campaigns.campaign_open`` / ``campaign_close``) by a requester of its owner.

As in ``referentials/api.py``: views are ``login_not_required`` so that DRF authenticates API
clients itself (a 403 in JSON, never a redirect); a campaign or survey outside what the caller
may see answers 404, as one that does not exist; a caller without the role answers 403;
refusals of the services come back as ``{"erreurs": [...]}`` in French.
"""

from collections.abc import Callable
from typing import Any

from django.contrib.auth.decorators import login_not_required
from django.db.models import Prefetch, QuerySet
from django.http import Http404
from django.urls import path
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    inline_serializer,
)
from rest_framework import generics, serializers, status
from rest_framework.exceptions import PermissionDenied
from rest_framework.permissions import BasePermission, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import Role
from accounts.scoping import has_role
from surveys import builder, campaigns, selectors_builder
from surveys import selectors_register as register
from surveys.models import OverlapChoice, Question, Section, Survey, SurveyVersion
from surveys.serializers import (
    CampaignDetailOutput,
    CampaignFilterInput,
    CampaignOutput,
    SurveyCreateInput,
    SurveyOutput,
)

ERRORS = inline_serializer(
    "Erreurs", {"erreurs": serializers.ListField(child=serializers.CharField())}
)


class IsRequesterOrViewer(BasePermission):
    message = "Réservé aux demandeurs et aux lecteurs des administrations (directions, ARS)."

    def has_permission(self, request: Request, view: APIView) -> bool:
        return has_role(request.user, Role.REQUESTER, Role.VIEWER)


PERMISSIONS = [IsAuthenticated, IsRequesterOrViewer]


def _id_parameter(description: str) -> OpenApiParameter:
    return OpenApiParameter("id", OpenApiTypes.INT, OpenApiParameter.PATH, description=description)


# --- Surveys ----------------------------------------------------------------------------------


def _surveys(user: Any) -> QuerySet[Survey]:
    questions = Question.objects.select_related("definition").order_by("order", "pk")
    sections = Section.objects.order_by("order", "pk").prefetch_related(
        Prefetch("questions", queryset=questions)
    )
    versions = SurveyVersion.objects.order_by("-number").prefetch_related(
        Prefetch("sections", queryset=sections)
    )
    return (
        selectors_builder.surveys_visible_to(user)
        .prefetch_related(Prefetch("versions", queryset=versions))
        .order_by("-created_at", "-pk")
    )


def _owner_for(user: Any, owner_id: int | None) -> Any:
    """The organisation a new survey belongs to, or a 400 saying which to choose."""
    organisations = list(selectors_builder.requester_organisations(user))
    if not organisations:
        raise PermissionDenied("Seuls les demandeurs créent des questionnaires.")
    if owner_id is not None:
        for organisation in organisations:
            if organisation.pk == owner_id:
                return organisation
        raise _Refused([f"owner : vous n'êtes pas demandeur de l'organisation n° {owner_id}."])
    if len(organisations) > 1:
        choices = ", ".join(f"{o.pk} ({o})" for o in organisations)
        raise _Refused([f"owner : précisez l'organisation propriétaire parmi {choices}."])
    return organisations[0]


class _Refused(Exception):
    def __init__(self, messages: list[str]) -> None:
        self.messages = messages


def _errors(messages: list[str], code: int = status.HTTP_400_BAD_REQUEST) -> Response:
    return Response({"erreurs": messages}, status=code)


def _serializer_errors(errors: Any, prefix: str = "") -> list[str]:
    """DRF's nested error dict as flat French sentences (« title : Ce champ est obligatoire. »)."""
    if isinstance(errors, dict):
        return [
            message
            for field, nested in errors.items()
            for message in _serializer_errors(
                nested, f"{prefix}{field}" if not prefix else f"{prefix}.{field}"
            )
        ]
    if isinstance(errors, list):
        messages: list[str] = []
        for index, nested in enumerate(errors):
            if isinstance(nested, dict | list):
                messages.extend(_serializer_errors(nested, f"{prefix}[{index}]"))
            else:
                messages.append(f"{prefix} : {nested}" if prefix else str(nested))
        return messages
    return [f"{prefix} : {errors}" if prefix else str(errors)]


class SurveyListApi(generics.ListAPIView):
    serializer_class = SurveyOutput
    permission_classes = PERMISSIONS

    def get_queryset(self) -> QuerySet[Survey]:
        return _surveys(self.request.user)

    @extend_schema(
        summary="Lister les questionnaires",
        description="Questionnaires des organisations où vous êtes demandeur ou lecteur, avec "
        "leurs versions, sections et questions, par pages de 100.",
        tags=["Questionnaires"],
    )
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)

    @extend_schema(
        summary="Créer un questionnaire depuis un document JSON",
        description="Crée le questionnaire, sa version brouillon, ses sections et ses questions "
        "(liées à une définition du dictionnaire, ou libres). Rien n'est écrit si une seule "
        "erreur est trouvée : toutes sont rendues dans « erreurs », chacune disant où.",
        request=SurveyCreateInput,
        responses={
            201: SurveyOutput,
            400: OpenApiResponse(ERRORS, description="Document refusé."),
            403: OpenApiResponse(description="Vous n'êtes demandeur d'aucune organisation."),
        },
        tags=["Questionnaires"],
    )
    def post(self, request: Request) -> Response:
        data = request.data if isinstance(request.data, dict) else None
        if data is None:
            return _errors(["Le document doit être un objet JSON."])
        owner_input = SurveyCreateInput(data={"owner": data.get("owner")}, partial=True)
        if not owner_input.is_valid():
            return _errors(_serializer_errors(owner_input.errors))
        try:
            owner = _owner_for(request.user, owner_input.validated_data.get("owner"))
            document = {key: value for key, value in data.items() if key != "owner"}
            survey = builder.survey_from_json(data=document, owner=owner, user=request.user)
        except _Refused as refused:
            return _errors(refused.messages)
        except builder.BuilderError as error:
            return _errors(error.messages)
        created = _surveys(request.user).get(pk=survey.pk)
        return Response(SurveyOutput(created).data, status=status.HTTP_201_CREATED)


class SurveyDetailApi(generics.GenericAPIView):
    serializer_class = SurveyOutput
    permission_classes = PERMISSIONS

    @extend_schema(
        summary="Un questionnaire",
        description="Ses versions, sections et questions (404 s'il n'est pas de l'une de vos "
        "organisations).",
        parameters=[_id_parameter("Identifiant du questionnaire.")],
        tags=["Questionnaires"],
    )
    def get(self, request: Request, pk: int) -> Response:
        survey = _surveys(request.user).filter(pk=pk).first()
        if survey is None:
            raise Http404("Aucun questionnaire de vos organisations ne porte ce numéro.")
        return Response(self.get_serializer(survey).data)


# --- Campaigns --------------------------------------------------------------------------------


@extend_schema(
    summary="Registre des campagnes",
    description="Les campagnes programmées, ouvertes ou clôturées de toutes les organisations, "
    "et les brouillons des vôtres, avec la charge demandée (cellules = destinataires fois "
    "questions, par période et au total), par pages de 100.",
    parameters=[CampaignFilterInput],
    tags=["Campagnes"],
)
class CampaignListApi(generics.ListAPIView):
    serializer_class = CampaignOutput
    permission_classes = PERMISSIONS

    def get_queryset(self) -> Any:
        filters = CampaignFilterInput(data=self.request.query_params)
        filters.is_valid(raise_exception=True)
        rows = register.register_rows(
            user=self.request.user,
            filters=register.RegisterFilters(
                status=filters.validated_data.get("status", ""),
                owner=filters.validated_data.get("owner"),
            ),
        )
        return rows

    def paginate_queryset(self, queryset: Any) -> Any:
        page = super().paginate_queryset(queryset)
        return register.attach_definitions(page) if page is not None else None


def _campaign_detail(request: Request, pk: int) -> Response:
    detail = register.register_detail(user=request.user, pk=pk)
    row: Any = detail.row
    row.periods = detail.periods
    return Response(CampaignDetailOutput(row).data)


class CampaignDetailApi(APIView):
    permission_classes = PERMISSIONS

    @extend_schema(
        summary="Une campagne du registre",
        description="Sa charge et ses périodes ouvertes (404 si le registre ne vous la montre "
        "pas : brouillon d'une autre organisation, ou numéro inconnu).",
        parameters=[_id_parameter("Identifiant de la campagne.")],
        responses={200: CampaignDetailOutput},
        tags=["Campagnes"],
    )
    def get(self, request: Request, pk: int) -> Response:
        return _campaign_detail(request, pk)


class _CampaignActionApi(APIView):
    """Guard, call one service of ``surveys.campaigns``, answer with the campaign as it is now."""

    permission_classes = PERMISSIONS
    action_name = ""
    # campaigns.campaign_open or campaigns.campaign_close (keyword arguments campaign, user).
    service: Callable[..., Any] = staticmethod(campaigns.campaign_close)
    # Opening waits for the choice recorded after the overlap analysis (collection.overlaps).
    needs_overlap_choice = False

    def post(self, request: Request, pk: int) -> Response:
        campaign = register.register_campaigns(request.user).filter(pk=pk).first()
        if campaign is None:
            raise Http404("Aucune campagne du registre ne porte ce numéro.")
        if not campaigns.is_requester_of(request.user, campaign.owner_id):
            raise PermissionDenied(
                f"Seuls les demandeurs de l'organisation propriétaire peuvent {self.action_name} "
                "cette campagne."
            )
        if self.needs_overlap_choice and campaigns.awaits_overlap_choice(campaign):
            address = f"/api/v1/campagnes/{campaign.pk}/chevauchements/"
            return _errors(
                [
                    "Une coordination est demandée pour cette campagne : quand l'autre "
                    "propriétaire aura répondu, enregistrez « reutiliser » (acceptée) ou "
                    f"« envoyer_malgre_tout » avec une justification (refusée) : POST {address}."
                    if campaign.overlap_choice == OverlapChoice.COORDINATE
                    else "Analysez d'abord les chevauchements de la campagne et enregistrez "
                    f"votre choix : GET puis POST {address}."
                ],
                status.HTTP_409_CONFLICT,
            )
        try:
            self.service(campaign=campaign, user=request.user)
        except campaigns.CampaignError as error:
            return _errors([str(error)], status.HTTP_409_CONFLICT)
        return _campaign_detail(request, pk)


_ACTION_RESPONSES = {
    200: CampaignDetailOutput,
    403: OpenApiResponse(description="Vous n'êtes pas demandeur de l'organisation propriétaire."),
    404: OpenApiResponse(description="Campagne inconnue ou hors du registre qui vous est montré."),
    409: OpenApiResponse(ERRORS, description="Changement refusé dans l'état de la campagne."),
}


class CampaignOpenApi(_CampaignActionApi):
    action_name = "ouvrir"
    service = staticmethod(campaigns.campaign_open)
    needs_overlap_choice = True

    @extend_schema(
        summary="Ouvrir une campagne",
        description="Fige la version, arrête la liste des destinataires et ouvre les périodes "
        "commencées (brouillon ou campagne programmée). Refusé (409) tant que le choix qui suit "
        "l'analyse des chevauchements n'est pas enregistré (``chevauchements/``).",
        request=None,
        parameters=[_id_parameter("Identifiant de la campagne.")],
        responses=_ACTION_RESPONSES,
        tags=["Campagnes"],
    )
    def post(self, request: Request, pk: int) -> Response:
        return super().post(request, pk)


class CampaignCloseApi(_CampaignActionApi):
    action_name = "clôturer"
    service = staticmethod(campaigns.campaign_close)

    @extend_schema(
        summary="Clôturer une campagne",
        description="Plus aucune période ne s'ouvre (campagne ouverte ou programmée).",
        request=None,
        parameters=[_id_parameter("Identifiant de la campagne.")],
        responses=_ACTION_RESPONSES,
        tags=["Campagnes"],
    )
    def post(self, request: Request, pk: int) -> Response:
        return super().post(request, pk)


urlpatterns = [
    path("questionnaires/", login_not_required(SurveyListApi.as_view()), name="survey_list"),
    path(
        "questionnaires/<int:pk>/",
        login_not_required(SurveyDetailApi.as_view()),
        name="survey_detail",
    ),
    path("campagnes/", login_not_required(CampaignListApi.as_view()), name="campaign_list"),
    path(
        "campagnes/<int:pk>/",
        login_not_required(CampaignDetailApi.as_view()),
        name="campaign_detail",
    ),
    path(
        "campagnes/<int:pk>/ouvrir/",
        login_not_required(CampaignOpenApi.as_view()),
        name="campaign_open",
    ),
    path(
        "campagnes/<int:pk>/cloturer/",
        login_not_required(CampaignCloseApi.as_view()),
        name="campaign_close",
    ),
]
