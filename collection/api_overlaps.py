"""REST API of a campaign's overlaps, under /api/v1/campagnes/<id>/chevauchements/.

- ``GET``: the overlap analysis (``collection.overlaps.analyse``) of a draft or scheduled
  campaign, now; for a campaign already sent, the analysis recorded with the choice;
- ``POST {"choix": ..., "justification": ..., "message_coordination": ...}``: records the
  requester's choice (``collection.sending.overlap_decide``); then ``POST .../ouvrir/`` sends
  (refused while the choice is ``coordonner``: the other owner's answer comes first).

Scoped like the surveys campaigns API (``surveys/api.py``): requesters and viewers, the
campaigns the register shows them (404 otherwise); only the owner's requesters record a choice
(403). Refusals come back as ``{"erreurs": [...]}`` in French.
"""

from typing import Any

from django.contrib.auth.decorators import login_not_required
from django.http import Http404
from django.urls import path
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import PermissionDenied
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from collection import overlaps, sending
from surveys import campaigns
from surveys import selectors_register as register
from surveys.api import ERRORS, PERMISSIONS
from surveys.models import Campaign, OverlapChoice

# The API's French words for the choices, and back.
CHOICE_WORDS = {
    "aucun": OverlapChoice.NONE,
    "reutiliser": OverlapChoice.REUSE,
    "coordonner": OverlapChoice.COORDINATE,
    "envoyer_malgre_tout": OverlapChoice.SEND_ANYWAY,
}
WORD_OF_CHOICE = {str(choice): word for word, choice in CHOICE_WORDS.items()}


class OverlapCampaignOutput(serializers.Serializer):
    campaign_id = serializers.IntegerField(help_text="La campagne qui demande déjà ces données.")
    title = serializers.CharField()
    owner = serializers.CharField(help_text="Son organisation.")
    status = serializers.CharField()
    period_kind = serializers.CharField(help_text="Le type de ses périodes (day, week...).")
    definitions = serializers.ListField(
        child=serializers.DictField(), help_text="Définitions en commun (id, code, label)."
    )
    units_in_common = serializers.IntegerField(help_text="Établissements en commun.")
    periods = serializers.ListField(
        child=serializers.CharField(), help_text="Périodes de la campagne analysée couvertes."
    )
    covered_cells = serializers.IntegerField()


class DefinitionOverlapOutput(serializers.Serializer):
    id = serializers.IntegerField()
    code = serializers.CharField()
    label = serializers.CharField()
    asked = serializers.IntegerField()
    covered = serializers.IntegerField()
    in_store = serializers.IntegerField()
    new = serializers.IntegerField()
    sources = serializers.ListField(child=serializers.IntegerField())


class AnalysisOutput(serializers.Serializer):
    asked = serializers.IntegerField(help_text="Cellules demandées (unité, définition, période).")
    covered = serializers.IntegerField(help_text="Déjà demandées par une autre campagne.")
    in_store = serializers.IntegerField(help_text="Déjà dans l'entrepôt de valeurs.")
    new = serializers.IntegerField(help_text="Vraiment nouvelles.")
    overlaps = OverlapCampaignOutput(many=True)
    definitions = DefinitionOverlapOutput(many=True)


class OverlapOutput(serializers.Serializer):
    campagne = serializers.IntegerField()
    statut = serializers.CharField()
    chevauchement = serializers.BooleanField(help_text="Un choix est-il à faire ?")
    choix = serializers.CharField(
        allow_blank=True, help_text="Le choix enregistré : " + ", ".join(CHOICE_WORDS) + " ou vide."
    )
    justification = serializers.CharField(allow_blank=True)
    analyse_le = serializers.DateTimeField(allow_null=True)
    analyse = AnalysisOutput()


class OverlapChoiceInput(serializers.Serializer):
    choix = serializers.ChoiceField(
        choices=list(CHOICE_WORDS),
        help_text="reutiliser, coordonner ou envoyer_malgre_tout (aucun quand rien ne chevauche).",
    )
    justification = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=4000,
        help_text=f"Obligatoire pour envoyer_malgre_tout ({sending.JUSTIFICATION_MIN_LENGTH} "
        "caractères au moins) ; figure au registre.",
    )
    message_coordination = serializers.CharField(required=False, allow_blank=True, max_length=2000)


def _campaign(request: Request, pk: int) -> Campaign:
    campaign = (
        register.register_campaigns(request.user)
        .select_related("owner", "version")
        .filter(pk=pk)
        .first()
    )
    if campaign is None:
        raise Http404("Aucune campagne du registre ne porte ce numéro.")
    return campaign


def _output(campaign: Campaign) -> dict[str, Any]:
    if campaign.status in sending.DECIDABLE:
        analysis = overlaps.analyse(campaign=campaign)
        summary = analysis.as_summary()
        overlapping = sending.has_overlap(analysis)
    else:
        summary = campaign.overlap_summary or {}
        overlapping = bool(summary.get("overlaps")) or bool(summary.get("in_store"))
    empty = {"asked": 0, "covered": 0, "in_store": 0, "new": 0, "overlaps": [], "definitions": []}
    return {
        "campagne": campaign.pk,
        "statut": campaign.status,
        "chevauchement": overlapping,
        "choix": WORD_OF_CHOICE.get(campaign.overlap_choice, ""),
        "justification": campaign.overlap_justification,
        "analyse_le": campaign.overlap_analysed_at,
        "analyse": {**empty, **summary},
    }


_PK = OpenApiParameter(
    "id", OpenApiTypes.INT, OpenApiParameter.PATH, description="Identifiant de la campagne."
)


class CampaignOverlapsApi(APIView):
    permission_classes = PERMISSIONS

    @extend_schema(
        summary="Chevauchements d'une campagne",
        description="Les cellules (un établissement, une définition, une période) que la campagne "
        "demande, celles qu'une autre campagne programmée ou ouverte demande déjà, celles que "
        "l'entrepôt contient déjà et celles qui sont nouvelles ; chaque campagne qui chevauche "
        "(organisation, définitions, établissements et périodes en commun). Analyse faite à "
        "l'appel pour un brouillon ou une campagne programmée ; celle enregistrée avec le "
        "choix pour une campagne envoyée.",
        parameters=[_PK],
        responses={200: OverlapOutput},
        tags=["Campagnes"],
    )
    def get(self, request: Request, pk: int) -> Response:
        return Response(OverlapOutput(_output(_campaign(request, pk))).data)

    @extend_schema(
        summary="Enregistrer la suite donnée aux chevauchements",
        description="Refait l'analyse et enregistre le choix : reutiliser (les cellules "
        "couvertes ne sont pas demandées, elles sont servies depuis l'entrepôt), coordonner "
        "(une demande part au propriétaire de chaque campagne qui chevauche ; la campagne "
        "attend sa réponse : ``ouvrir/`` est refusée jusqu'à un nouveau choix, reutiliser si "
        "elle est acceptée, envoyer_malgre_tout si elle est refusée), "
        "envoyer_malgre_tout (avec une justification). Sans chevauchement, le choix enregistré "
        "est « aucun ». L'ouverture (``ouvrir/``) est refusée tant qu'aucun choix n'est "
        "enregistré.",
        parameters=[_PK],
        request=OverlapChoiceInput,
        responses={
            200: OverlapOutput,
            400: OpenApiResponse(ERRORS, description="Choix refusé (justification manquante...)."),
            403: OpenApiResponse(description="Vous n'êtes pas demandeur de son organisation."),
            404: OpenApiResponse(description="Campagne inconnue ou hors du registre."),
            409: OpenApiResponse(ERRORS, description="La campagne est déjà ouverte ou close."),
        },
        tags=["Campagnes"],
    )
    def post(self, request: Request, pk: int) -> Response:
        campaign = _campaign(request, pk)
        if not campaigns.is_requester_of(request.user, campaign.owner_id):  # type: ignore[arg-type]
            raise PermissionDenied(
                "Seuls les demandeurs de l'organisation propriétaire choisissent la suite à "
                "donner aux chevauchements."
            )
        data = OverlapChoiceInput(data=request.data)
        if not data.is_valid():
            return Response(
                {
                    "erreurs": [
                        f"{field} : {message}"
                        for field, messages in data.errors.items()
                        for message in messages
                    ]
                },
                status=status.HTTP_400_BAD_REQUEST,
            )
        try:
            decided = sending.overlap_decide(
                campaign=campaign,
                choice=CHOICE_WORDS[data.validated_data["choix"]],
                justification=data.validated_data.get("justification", ""),
                coordination_message=data.validated_data.get("message_coordination", ""),
                user=request.user,  # type: ignore[arg-type]
            )
        except sending.SendingStateError as error:
            return Response({"erreurs": [str(error)]}, status=status.HTTP_409_CONFLICT)
        except sending.SendingError as error:
            return Response({"erreurs": [str(error)]}, status=status.HTTP_400_BAD_REQUEST)
        return Response(OverlapOutput(_output(decided)).data)


urlpatterns = [
    path(
        "campagnes/<int:pk>/chevauchements/",
        login_not_required(CampaignOverlapsApi.as_view()),
        name="campaign_overlaps",
    ),
]
