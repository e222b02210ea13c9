"""Serializers of the surveys and campaigns API: input (query strings, bodies) and output apart.

None checks a permission or writes: the views do the first, the services the second.
"""

from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from surveys.models import Campaign, Frequency, LegalBasis, Question, SurveyVersion

# --- Input ------------------------------------------------------------------------------------


class SurveyCreateInput(serializers.Serializer):
    """What the body of ``POST /api/v1/questionnaires/`` holds (the builder checks the rest)."""

    owner = serializers.IntegerField(
        required=False,
        allow_null=True,
        help_text="Identifiant de l'organisation propriétaire ; par défaut votre seule "
        "organisation où vous êtes demandeur.",
        error_messages={
            "invalid": "« owner » doit être l'identifiant (entier) d'une organisation."
        },
    )
    title = serializers.CharField(help_text="Titre du questionnaire.")
    purpose = serializers.CharField(help_text="Finalité de la collecte.")
    legal_basis = serializers.ChoiceField(
        choices=LegalBasis.choices, help_text="Base légale (article 6 du RGPD)."
    )
    legal_reference = serializers.CharField(
        required=False,
        allow_blank=True,
        help_text="Texte de référence, par exemple « CSP, art. L. 1435-6 ».",
    )
    sections = serializers.ListField(
        child=serializers.DictField(),
        help_text='Sections : [{"title", "description", "questions": [{"definition": "code"} | '
        '{"code", "label", "value_type", "choices", "unit", "minimum", "maximum", "decimals"}, '
        'avec "required", "help_text", "condition"]}].',
    )


OWNER_RULE = "Paramètre « owner » invalide : l'identifiant (entier) d'une organisation."


class CampaignFilterInput(serializers.Serializer):
    """The filters of ``GET /api/v1/campagnes/``."""

    status = serializers.ChoiceField(
        choices=Campaign.Status.choices,
        required=False,
        allow_blank=True,
        help_text="Statut : draft (vos brouillons), scheduled, open ou closed.",
        error_messages={
            "invalid_choice": "Paramètre « status » invalide : draft, scheduled, open ou closed."
        },
    )
    owner = serializers.IntegerField(
        required=False,
        min_value=1,
        help_text="Identifiant de l'organisation demandeuse.",
        error_messages={"invalid": OWNER_RULE, "min_value": OWNER_RULE},
    )


# --- Output: surveys --------------------------------------------------------------------------


class QuestionOutput(serializers.Serializer):
    code = serializers.CharField(help_text="Code de la question (celui de sa définition).")
    label = serializers.SerializerMethodField(help_text="Libellé affiché.")
    definition = serializers.SerializerMethodField(
        help_text="Code de la définition partagée (null : question libre)."
    )
    value_type = serializers.SerializerMethodField(help_text="Type de valeur.")
    unit = serializers.SerializerMethodField(help_text="Unité.")
    choices = serializers.JSONField(help_text="Choix d'une question libre ([{code, label}]).")
    required = serializers.BooleanField(help_text="Réponse obligatoire.")
    help_text = serializers.CharField(help_text="Aide (vide : la doctrine de la définition).")
    condition = serializers.CharField(help_text="Condition d'affichage (expression).")

    def get_label(self, question: Question) -> str:
        return question.definition.label if question.definition else question.label

    def get_definition(self, question: Question) -> str | None:
        return question.definition.code if question.definition else None

    def get_value_type(self, question: Question) -> str:
        return question.definition.value_type if question.definition else question.value_type

    def get_unit(self, question: Question) -> str:
        return question.definition.unit if question.definition else question.unit


class SectionOutput(serializers.Serializer):
    title = serializers.CharField(help_text="Titre de la section.")
    description = serializers.CharField(help_text="Présentation.")
    order = serializers.IntegerField(help_text="Ordre.")
    questions = QuestionOutput(many=True, help_text="Questions, dans l'ordre.")


class VersionOutput(serializers.Serializer):
    number = serializers.IntegerField(help_text="Numéro de version.")
    title = serializers.CharField(help_text="Titre.")
    purpose = serializers.CharField(help_text="Finalité.")
    legal_basis = serializers.ChoiceField(choices=LegalBasis.choices, help_text="Base légale.")
    legal_reference = serializers.CharField(help_text="Texte de référence.")
    status = serializers.ChoiceField(
        choices=SurveyVersion.Status.choices, help_text="draft (en cours) ou frozen (envoyée)."
    )
    frozen_at = serializers.DateTimeField(allow_null=True, help_text="Figée le.")
    sections = SectionOutput(many=True, help_text="Sections, dans l'ordre.")


class SurveyOutput(serializers.Serializer):
    id = serializers.IntegerField(help_text="Identifiant du questionnaire.")
    owner = serializers.IntegerField(source="owner_id", help_text="Organisation propriétaire.")
    owner_name = serializers.CharField(source="owner.name", help_text="Son nom.")
    created_at = serializers.DateTimeField(help_text="Créé le.")
    versions = VersionOutput(many=True, help_text="Versions, la plus récente d'abord.")


# --- Output: campaigns (rows of the register) -------------------------------------------------


class DefinitionAskedOutput(serializers.Serializer):
    code = serializers.CharField(help_text="Code de la définition.")
    label = serializers.CharField(help_text="Libellé.")


class CampaignOutput(serializers.Serializer):
    id = serializers.IntegerField(source="pk", help_text="Identifiant de la campagne.")
    title = serializers.CharField(help_text="Titre.")
    status = serializers.ChoiceField(choices=Campaign.Status.choices, help_text="Statut.")
    owner = serializers.IntegerField(source="owner_id", help_text="Organisation demandeuse.")
    owner_name = serializers.CharField(source="owner_label", help_text="Son sigle ou son nom.")
    is_own = serializers.BooleanField(help_text="Campagne de l'une de vos organisations.")
    survey = serializers.IntegerField(source="survey_id", help_text="Questionnaire envoyé.")
    version = serializers.IntegerField(source="version_number", help_text="Version envoyée.")
    unit_kind = serializers.CharField(help_text="establishment ou professional.")
    audience_size = serializers.IntegerField(help_text="Nombre de destinataires.")
    frequency = serializers.ChoiceField(choices=Frequency.choices, help_text="Fréquence.")
    crisis_frequency = serializers.CharField(help_text="Fréquence en crise (vide : aucune).")
    in_crisis = serializers.BooleanField(help_text="En mode crise.")
    start_date = serializers.DateField(help_text="Début (première période).")
    end_date = serializers.DateField(allow_null=True, help_text="Fin (dernière période).")
    opened_at = serializers.DateTimeField(allow_null=True, help_text="Ouverte le.")
    closed_at = serializers.DateTimeField(allow_null=True, help_text="Clôturée le.")
    definitions = serializers.SerializerMethodField(help_text="Définitions demandées.")
    question_count = serializers.IntegerField(help_text="Questions de la version envoyée.")
    ad_hoc_count = serializers.IntegerField(help_text="Dont questions libres.")
    opened_periods = serializers.IntegerField(help_text="Périodes ouvertes.")
    planned_periods = serializers.IntegerField(help_text="Périodes encore prévues.")
    cells_per_period = serializers.IntegerField(
        help_text="Cellules demandées par période (destinataires fois questions)."
    )
    cells_total = serializers.IntegerField(
        help_text="Cellules demandées au total (périodes ouvertes et prévues)."
    )
    open_ended = serializers.BooleanField(help_text="Récurrente sans date de fin.")

    @extend_schema_field(DefinitionAskedOutput(many=True))
    def get_definitions(self, row: Any) -> list[dict[str, str]]:
        return [{"code": code, "label": label} for code, label in row.definitions]


class PeriodOutput(serializers.Serializer):
    key = serializers.CharField(help_text="Période (2026-11-30, 2026-W49, 2026-11…).")
    start = serializers.DateField(help_text="Premier jour.")
    end = serializers.DateField(help_text="Dernier jour.")
    due_at = serializers.DateTimeField(help_text="Échéance.")


class CampaignDetailOutput(CampaignOutput):
    periods = PeriodOutput(many=True, help_text="Périodes ouvertes.")
