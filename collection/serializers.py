"""Shapes of the answering API (``collection.api``): query strings in, JSON out.

Input serializers read and check what a client sends (French messages); output serializers
document and shape what it gets back. Neither checks a permission nor validates an answer:
answers are the engine's business (``collection.values``), the same for every channel.
"""

import re

from rest_framework import serializers

from surveys.models import Assignment
from surveys.periods import parse_period

# --- Input ------------------------------------------------------------------------------------


class AssignmentFilterInput(serializers.Serializer):
    """The filters of ``GET /api/v1/demandes/``."""

    statut = serializers.ChoiceField(
        choices=Assignment.Status.choices,
        required=False,
        help_text="Statut : todo, in_progress, submitted, late ou exempted.",
        error_messages={
            "invalid_choice": "Paramètre « statut » invalide : todo, in_progress, submitted, "
            "late ou exempted."
        },
    )
    campagne = serializers.IntegerField(
        required=False,
        min_value=1,
        help_text="Identifiant de la campagne.",
        error_messages={"invalid": "Paramètre « campagne » invalide : un identifiant numérique."},
    )
    periode = serializers.CharField(
        required=False,
        max_length=10,
        help_text="Clé de la période : 2026-11-30, 2026-W49, 2026-11, 2026-T4 ou 2026.",
    )
    finess = serializers.RegexField(
        re.compile(r"^[0-9][0-9AB][0-9]{7}$", re.IGNORECASE),
        required=False,
        help_text="Numéro FINESS de l'établissement (ET) : ses demandes seulement.",
        error_messages={
            "invalid": "Paramètre « finess » invalide : 9 caractères, par exemple 750100042."
        },
    )

    def validate_periode(self, value: str) -> str:
        try:
            return parse_period(value).key
        except (ValueError, KeyError):
            raise serializers.ValidationError(
                f"Paramètre « periode » invalide : « {value} » n'est pas une période (exemples : "
                "2026-11-30, 2026-W49, 2026-11, 2026-T4, 2026)."
            ) from None


class AnswersInput(serializers.Serializer):
    """The body of ``POST /api/v1/demandes/<id>/reponses/``."""

    valeurs = serializers.DictField(
        child=serializers.JSONField(allow_null=True),
        help_text='Réponses par code de question : {"lits_rea_occupes": 12}. Un code absent '
        "garde la valeur connue ; une valeur vide ou null l'efface.",
        error_messages={
            "required": "« valeurs » est obligatoire : un objet {{code: valeur}}.",
            "not_a_dict": "« valeurs » doit être un objet {{code: valeur}}.",
        },
    )
    commentaires = serializers.DictField(
        child=serializers.CharField(allow_blank=True, max_length=2000),
        required=False,
        help_text="Justification par code, obligatoire pour chaque avertissement.",
        error_messages={"not_a_dict": "« commentaires » doit être un objet {{code: texte}}."},
    )
    revision = serializers.IntegerField(
        required=False,
        min_value=0,
        help_text="Révision de la demande lue avant de répondre : si elle a changé entre-temps, "
        "rien n'est écrit (409).",
    )


class BatchItemInput(AnswersInput):
    demande = serializers.IntegerField(
        min_value=1,
        help_text="Identifiant de la demande.",
        error_messages={"required": "« demande » est obligatoire (identifiant de la demande)."},
    )


class BatchInput(serializers.Serializer):
    demandes = BatchItemInput(
        many=True,
        allow_empty=False,
        max_length=500,
        error_messages={"max_length": "500 demandes au plus par appel : découpez le lot."},
    )


# --- Output -----------------------------------------------------------------------------------


class AnswerIssueOutput(serializers.Serializer):
    demande = serializers.IntegerField(allow_null=True, help_text="Identifiant de la demande.")
    code = serializers.CharField(help_text="Code de la question ou de la règle.")
    gravite = serializers.ChoiceField(
        choices=[("error", "erreur"), ("warning", "avertissement")],
        help_text="« error » bloque ; « warning » bloque tant qu'il n'est pas justifié.",
    )
    message = serializers.CharField(help_text="Message en français.")
    source = serializers.CharField(help_text="Où : « valeurs.lits », « demandes[0].valeurs.lits ».")


class AnswerErrorsOutput(serializers.Serializer):
    erreurs = AnswerIssueOutput(many=True)


class AssignmentCampaignOutput(serializers.Serializer):
    id = serializers.IntegerField()
    titre = serializers.CharField()
    demandeur = serializers.CharField(help_text="Organisation qui demande (sigle).")


class AssignmentPeriodOutput(serializers.Serializer):
    cle = serializers.CharField(help_text="2026-11-30, 2026-W49, 2026-11, 2026-T4 ou 2026.")
    debut = serializers.DateField()
    fin = serializers.DateField()


class AssignmentUnitOutput(serializers.Serializer):
    type = serializers.CharField(help_text="establishment ou professional.")
    libelle = serializers.CharField()
    finess = serializers.CharField(help_text="FINESS ET (vide pour un professionnel).")
    identifiant_national = serializers.CharField(help_text="RPPS (vide pour un établissement).")


class AssignmentOutput(serializers.Serializer):
    id = serializers.IntegerField()
    campagne = AssignmentCampaignOutput()
    enquete = serializers.CharField(help_text="Titre de l'enquête (version demandée).")
    periode = AssignmentPeriodOutput()
    unite = AssignmentUnitOutput()
    echeance = serializers.DateTimeField()
    statut = serializers.CharField()
    en_retard = serializers.BooleanField()
    revision = serializers.IntegerField()


class FormChoiceOutput(serializers.Serializer):
    code = serializers.CharField()
    libelle = serializers.CharField()


class FormServedOutput(serializers.Serializer):
    etat = serializers.ChoiceField(choices=["disponible", "en_attente"])
    valeur = serializers.JSONField(help_text="Valeur canonique ; null tant qu'en attente.")
    affichage = serializers.CharField()
    provenance = serializers.CharField()
    correction = serializers.CharField(help_text="Page où corriger la valeur partagée.")


class FormQuestionOutput(serializers.Serializer):
    code = serializers.CharField()
    libelle = serializers.CharField()
    section = serializers.CharField()
    type = serializers.CharField(
        help_text="integer, decimal, percentage, boolean, date, text, "
        "single_choice, multiple_choice, finess, rpps."
    )
    unite = serializers.CharField()
    minimum = serializers.CharField(allow_null=True, help_text="Nombre en chaîne décimale.")
    maximum = serializers.CharField(allow_null=True, help_text="Nombre en chaîne décimale.")
    decimales = serializers.IntegerField(allow_null=True)
    choix = FormChoiceOutput(many=True)
    obligatoire = serializers.BooleanField()
    aide = serializers.CharField(help_text="Aide ou doctrine de la définition.")
    condition = serializers.CharField(help_text="Affichée si cette expression est vraie.")
    servie = serializers.BooleanField(
        help_text="Vrai : la question n'est pas demandée, sa valeur vient d'une autre "
        "déclaration (réutilisation) ; une soumission qui la contient est refusée."
    )
    valeur_servie = FormServedOutput(allow_null=True)


class FormRuleOutput(serializers.Serializer):
    code = serializers.CharField()
    expression = serializers.CharField()
    message = serializers.CharField()
    gravite = serializers.CharField()


class FormKnownValueOutput(serializers.Serializer):
    valeur = serializers.JSONField(help_text="Valeur canonique (nombres en chaîne décimale).")
    affichage = serializers.CharField()
    commentaire = serializers.CharField()
    provenance = serializers.CharField()


class AssignmentDetailOutput(AssignmentOutput):
    questions = FormQuestionOutput(many=True)
    regles = FormRuleOutput(many=True)
    valeurs_connues = serializers.DictField(child=FormKnownValueOutput())
    periode_precedente = serializers.DictField(child=serializers.JSONField())


class SubmissionOutput(serializers.Serializer):
    demande = serializers.IntegerField()
    statut = serializers.CharField()
    revision = serializers.IntegerField()
    creees = serializers.ListField(child=serializers.CharField())
    modifiees = serializers.ListField(child=serializers.CharField())
    inchangees = serializers.ListField(child=serializers.CharField())
    avertissements = AnswerIssueOutput(many=True)


class BatchOutput(serializers.Serializer):
    demandes = SubmissionOutput(many=True)
