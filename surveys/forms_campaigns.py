"""Forms of the campaign pages: the draft, the schedule, the crisis switch, exemptions."""

import datetime as dt
from typing import Any

from django import forms

from accounts.forms import DsfrForm
from accounts.models import Organisation
from referentials.models import ReportingUnit
from surveys.campaigns import ESCALATE_MAX_DAYS, FREQUENCY_KIND, POLICY_FIELDS, REMIND_MAX_DAYS
from surveys.models import Frequency, Survey
from surveys.periods import PERIOD_KIND_CHOICES

FIELDS = (
    "title",
    "unit_kind",
    "frequency",
    "period_kind",
    "start_date",
    "end_date",
    "due_offset_days",
    "due_time",
    "correction_days",
    "crisis_frequency",
    *POLICY_FIELDS,
)


class _Days(forms.IntegerField):
    """Left empty, the policy's default (the model's): a form posted without the « Relances »
    fieldset keeps the usual policy rather than failing."""

    def __init__(self, *, default: int, **kwargs: Any) -> None:
        self.default = default
        super().__init__(required=False, initial=default, **kwargs)

    def clean(self, value: Any) -> int:
        cleaned = super().clean(value)
        return self.default if cleaned is None else cleaned


def _days(label: str, *, initial: int, limit: int, help_text: str) -> forms.IntegerField:
    """A number of days from 0 (switched off) to ``limit``, with errors that say what to type."""
    bounds = f"Saisissez un nombre de jours entre 0 (aucune) et {limit}."
    return _Days(
        label=label,
        default=initial,
        min_value=0,
        max_value=limit,
        help_text=f"{help_text} Laissé vide : {initial}.",
        error_messages={
            "invalid": f"{bounds} Un nombre entier, sans unité.",
            "min_value": f"{bounds} Un nombre négatif n'a pas de sens ici.",
            "max_value": f"{bounds} Au-delà, le message n'a plus l'effet d'une relance.",
        },
        widget=forms.NumberInput(attrs={"min": 0, "max": limit}),
    )


class CampaignForm(DsfrForm):
    """A draft campaign. On creation the survey and the owner are chosen too."""

    survey = forms.ModelChoiceField(label="Enquête", queryset=Survey.objects.none())
    owner = forms.ModelChoiceField(
        label="Organisation demandeuse", queryset=Organisation.objects.none()
    )
    title = forms.CharField(label="Titre de la campagne", max_length=200)
    unit_kind = forms.ChoiceField(
        label="Destinataires",
        choices=ReportingUnit.Kind.choices,
        initial=ReportingUnit.Kind.ESTABLISHMENT,
    )
    frequency = forms.ChoiceField(label="Fréquence", choices=Frequency.choices)
    period_kind = forms.ChoiceField(
        label="Période demandée (campagne unique)",
        choices=PERIOD_KIND_CHOICES,
        required=False,
        help_text="Pour une campagne récurrente, la période suit la fréquence (un jour pour "
        "« Chaque jour »).",
    )
    start_date = forms.DateField(
        label="Début (première période)", widget=forms.DateInput(attrs={"type": "date"})
    )
    end_date = forms.DateField(
        label="Fin (dernière période)",
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text="Obligatoire pour une campagne récurrente.",
    )
    due_offset_days = forms.IntegerField(
        label="Délai après la fin de la période (jours)",
        initial=0,
        help_text="0 : la réponse est due le dernier jour de la période.",
    )
    due_time = forms.TimeField(
        label="Heure limite (heure de Paris)",
        initial=dt.time(14, 0),
        widget=forms.TimeInput(attrs={"type": "time"}),
    )
    correction_days = forms.IntegerField(
        label="Jours de correction après l'échéance", initial=30, min_value=0
    )
    crisis_frequency = forms.ChoiceField(
        label="Fréquence en crise",
        choices=[("", "Aucune"), *[(f.value, f.label) for f in Frequency if f != Frequency.ONCE]],
        required=False,
        help_text="Par exemple « Chaque jour » pour une campagne mensuelle qui peut basculer.",
    )
    # Reminder policy: the « Relances » fieldset (surveys.notices.send_reminders reads it).
    remind_days_before = _days(
        "Relance avant l'échéance (jours)",
        initial=2,
        limit=REMIND_MAX_DAYS,
        help_text="Ceux qui n'ont pas encore répondu reçoivent un rappel ce nombre de jours "
        "avant l'échéance, à partir de 7 h. 0 : pas de rappel avant.",
    )
    remind_on_due_day = forms.BooleanField(
        label="Relance le matin de l'échéance",
        required=False,
        initial=True,
        help_text="Un rappel à 7 h le jour même, s'il reste une réponse attendue.",
    )
    remind_days_after = _days(
        "Relance après l'échéance (jours)",
        initial=1,
        limit=REMIND_MAX_DAYS,
        help_text="Un message « réponse en retard » ce nombre de jours après l'échéance. "
        "0 : aucune relance après.",
    )
    escalate_after_days = _days(
        "Signalement du retard à l'ARS (jours)",
        initial=3,
        limit=ESCALATE_MAX_DAYS,
        help_text="Au-delà de ce retard, les demandeurs de l'agence régionale reçoivent la liste "
        "de leurs établissements en retard. 0 : aucun signalement.",
    )

    def __init__(
        self,
        *args: Any,
        surveys: Any = None,
        owners: list[Organisation] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        if surveys is None:
            del self.fields["survey"]
            del self.fields["owner"]
        else:
            self.fields["survey"].queryset = surveys
            self.fields["survey"].label_from_instance = lambda s: f"{s} (n° {s.pk})"
            self.fields["owner"].queryset = Organisation.objects.filter(
                pk__in=[o.pk for o in owners or []]
            )
            if owners and len(owners) == 1:
                self.fields["owner"].initial = owners[0].pk

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        frequency = data.get("frequency")
        if frequency in FREQUENCY_KIND:
            data["period_kind"] = FREQUENCY_KIND[frequency].value
        elif frequency == Frequency.ONCE and not data.get("period_kind"):
            self.add_error("period_kind", "Choisissez la période sur laquelle porte la campagne.")
        after, escalate = data.get("remind_days_after"), data.get("escalate_after_days")
        if after is not None and escalate and escalate < after:
            self.add_error(
                "escalate_after_days",
                f"Le retard serait signalé à l'ARS ({escalate} j) avant la relance après "
                f"l'échéance ({after} j) : saisissez au moins {after}, ou 0 pour ne pas signaler.",
            )
        return data

    def values(self) -> dict[str, Any]:
        return {name: self.cleaned_data[name] for name in FIELDS}


class ScheduleForm(DsfrForm):
    opens_at = forms.DateTimeField(
        label="Ouverture programmée le (heure de Paris)",
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%d/%m/%Y %H:%M"],
    )


class CommentForm(DsfrForm):
    comment = forms.CharField(
        label="Commentaire", widget=forms.Textarea(attrs={"rows": 3}), max_length=2000
    )


class ReasonForm(DsfrForm):
    reason = forms.CharField(
        label="Motif de la dispense", widget=forms.Textarea(attrs={"rows": 3}), max_length=2000
    )


class DecisionForm(DsfrForm):
    decision = forms.ChoiceField(
        label="Décision",
        choices=[("accept", "Accorder la dispense"), ("refuse", "Refuser")],
        widget=forms.RadioSelect,
    )
    comment = forms.CharField(
        label="Commentaire (obligatoire en cas de refus)",
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        max_length=2000,
    )
