"""Forms of the survey builder: they read what was typed; ``surveys.builder`` decides."""

from typing import Any, cast

from django import forms
from django.db.models import QuerySet
from django.urls import reverse

from accounts.forms import DsfrForm
from accounts.models import Organisation
from referentials.models import VALUE_TYPE_LABELS, Definition
from referentials.validation import ValueType
from surveys.builder import slugify_code
from surveys.models import LegalBasis, Question, SurveyVersion


class VersionForm(DsfrForm, forms.Form):
    title = forms.CharField(label="Titre", max_length=200)
    purpose = forms.CharField(
        label="Finalité",
        help_text="À quoi serviront les données : ce que le délégué à la protection des données "
        "et les répondants liront.",
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    legal_basis = forms.ChoiceField(label="Base légale", choices=LegalBasis.choices)
    legal_reference = forms.CharField(
        label="Texte de référence",
        max_length=300,
        required=False,
        help_text="Par exemple « CSP, art. L. 1435-6 ».",
    )

    @classmethod
    def for_version(cls, version: SurveyVersion) -> "VersionForm":
        return cls(
            initial={
                "title": version.title,
                "purpose": version.purpose,
                "legal_basis": version.legal_basis,
                "legal_reference": version.legal_reference,
            }
        )


class SurveyForm(VersionForm):
    owner = forms.ModelChoiceField(
        label="Organisation propriétaire",
        queryset=Organisation.objects.none(),
        empty_label=None,
    )

    field_order = ["owner", "title", "purpose", "legal_basis", "legal_reference"]

    def __init__(self, *args: Any, organisations: QuerySet[Organisation], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        owner = cast(forms.ModelChoiceField, self.fields["owner"])
        owner.queryset = organisations
        if organisations.count() == 1:
            owner.initial = organisations.first()
            owner.widget = forms.HiddenInput()


class SectionForm(DsfrForm, forms.Form):
    title = forms.CharField(label="Titre de la section", max_length=200)
    description = forms.CharField(
        label="Présentation", required=False, widget=forms.Textarea(attrs={"rows": 2})
    )


VALUE_TYPE_CHOICES = [("", "Choisir un type")] + [
    (t.value, VALUE_TYPE_LABELS[t]) for t in ValueType
]


def parse_choices(text: str) -> list[dict[str, str]]:
    """One choice a line: « code ; Libellé » or just « Libellé » (the code is slugged)."""
    choices = []
    for line in (text or "").splitlines():
        line = line.strip()
        if not line:
            continue
        if ";" in line:
            code, label = (part.strip() for part in line.split(";", 1))
        else:
            code, label = slugify_code(line), line
        choices.append({"code": code, "label": label})
    return choices


def choices_text(choices: list[dict[str, str]]) -> str:
    return "\n".join(f"{c['code']} ; {c.get('label', '')}" for c in choices or [])


class QuestionForm(DsfrForm, forms.Form):
    """A question: ``definition`` (a code picked in the search) or the ad-hoc fields."""

    definition = forms.CharField(required=False, widget=forms.HiddenInput())
    label = forms.CharField(
        label="Libellé de la question",
        max_length=300,
        required=False,
        help_text="En le tapant, les définitions proches du dictionnaire vous sont proposées.",
    )
    code = forms.CharField(
        label="Code",
        max_length=64,
        required=False,
        help_text="Vide : tiré du libellé. Minuscules, chiffres et « _ », commence par une lettre.",
    )
    value_type = forms.ChoiceField(
        label="Type de valeur", choices=VALUE_TYPE_CHOICES, required=False
    )
    choices = forms.CharField(
        label="Choix proposés",
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="Un choix par ligne : « code ; Libellé » ou seulement « Libellé ».",
    )
    unit = forms.CharField(label="Unité", max_length=40, required=False)
    minimum = forms.DecimalField(label="Minimum", required=False, max_digits=20, decimal_places=4)
    maximum = forms.DecimalField(label="Maximum", required=False, max_digits=20, decimal_places=4)
    decimals = forms.IntegerField(label="Décimales", required=False, min_value=0, max_value=6)
    required = forms.BooleanField(label="Réponse obligatoire", required=False)
    help_text = forms.CharField(
        label="Aide au remplissage",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Vide : la doctrine de la définition est affichée.",
    )
    condition = forms.CharField(
        label="Condition d'affichage",
        required=False,
        help_text="Vide : toujours affichée. Par exemple « lits_rea_ouverts > 0 » : la question "
        "n'apparaît que si l'expression est vraie.",
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Typing an ad-hoc label asks for the closest definitions (htmx, no script of ours).
        self.fields["label"].widget.attrs.update(
            {
                "hx-get": reverse("surveys:builder_definition_search"),
                "hx-trigger": "input changed delay:400ms",
                "hx-target": "#similar-definitions",
                "hx-sync": "this:replace",
                "autocomplete": "off",
            }
        )

    @classmethod
    def for_question(cls, question: Question) -> "QuestionForm":
        return cls(
            initial={
                "definition": question.definition.code if question.definition else "",
                "label": question.label,
                "code": "" if question.definition else question.code,
                "value_type": question.value_type,
                "choices": choices_text(question.choices),
                "unit": question.unit,
                "minimum": question.minimum,
                "maximum": question.maximum,
                "decimals": question.decimals,
                "required": question.required,
                "help_text": question.help_text,
                "condition": question.condition,
            }
        )

    def clean_definition(self) -> Definition | None:
        code = (self.cleaned_data.get("definition") or "").strip()
        if not code:
            return None
        definition = Definition.objects.select_related("replaced_by").filter(code=code).first()
        if definition is None:
            raise forms.ValidationError(f"Définition « {code} » inconnue.")
        return definition

    def service_kwargs(self) -> dict[str, Any]:
        data = self.cleaned_data
        definition = data.get("definition")
        if definition is not None:
            return {
                "definition": definition,
                "required": data["required"],
                "help_text": data["help_text"],
                "condition": data["condition"],
            }
        return {
            "definition": None,
            "code": data["code"],
            "label": data["label"],
            "value_type": data["value_type"],
            "choices": parse_choices(data["choices"]),
            "unit": data["unit"],
            "minimum": data["minimum"],
            "maximum": data["maximum"],
            "decimals": data["decimals"],
            "required": data["required"],
            "help_text": data["help_text"],
            "condition": data["condition"],
        }
