"""Forms of the curation pages. Values are checked once, by ``referentials.curation``: the views
hand its ``ValidationError`` back to the form, field by field."""

from django import forms

from accounts.forms import DsfrForm
from referentials.curation import FIELD_LABELS
from referentials.models import Establishment, FunctionalContact

FIELD_HELP = {
    "phone": "10 chiffres, par exemple 05 90 12 34 56, ou format international.",
    "postcode": "5 chiffres.",
    "email": "Adresse générique de l'établissement, par exemple accueil@etablissement.fr.",
}


def _record_fields(establishment: Establishment) -> dict[str, forms.Field]:
    fields: dict[str, forms.Field] = {}
    for name in Establishment.CURATABLE_FIELDS:
        fields[name] = forms.CharField(
            label=FIELD_LABELS[name],
            required=name == "name",
            initial=getattr(establishment, name) or "",
            help_text=FIELD_HELP.get(name, ""),
            max_length=255,
            widget=forms.EmailInput if name == "email" else forms.TextInput,
        )
    return fields


class CorrectionForm(DsfrForm):
    """Every curatable field with its current value; the ones changed become corrections."""

    reason = forms.CharField(
        label="Motif de la correction",
        help_text="Par exemple : « appel de l'établissement le 12/03 », « site internet ».",
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def __init__(self, *args, establishment: Establishment, **kwargs):
        super().__init__(*args, **kwargs)
        record = _record_fields(establishment)
        self.fields = {**record, "reason": self.fields["reason"]}

    def values(self) -> dict[str, str]:
        return {name: self.cleaned_data[name] for name in Establishment.CURATABLE_FIELDS}


class ContactForm(DsfrForm):
    role = forms.ChoiceField(label="Fonction", choices=FunctionalContact.Role.choices)
    label = forms.CharField(
        label="Intitulé",
        required=False,
        max_length=150,
        help_text="Par exemple : « Cellule de crise — astreinte de direction ».",
    )
    email = forms.CharField(
        label="Adresse électronique",
        max_length=254,
        help_text="Une adresse fonctionnelle plutôt que celle d'une personne.",
        widget=forms.EmailInput(attrs={"autocomplete": "off"}),
    )
    phone = forms.CharField(
        label="Téléphone", required=False, max_length=20, help_text=FIELD_HELP["phone"]
    )


class ProposalForm(DsfrForm):
    """What a respondent sees: its record as it stands, and one contact to add or confirm."""

    contact_role = forms.ChoiceField(
        label="Fonction du contact",
        required=False,
        choices=[("", "— Aucun contact à proposer —"), *FunctionalContact.Role.choices],
    )
    contact_label = forms.CharField(label="Intitulé du contact", required=False, max_length=150)
    contact_email = forms.CharField(
        label="Adresse électronique du contact",
        required=False,
        max_length=254,
        widget=forms.EmailInput(attrs={"autocomplete": "off"}),
    )
    contact_phone = forms.CharField(
        label="Téléphone du contact", required=False, max_length=20, help_text=FIELD_HELP["phone"]
    )
    comment = forms.CharField(
        label="Commentaire pour le gestionnaire",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def __init__(self, *args, establishment: Establishment, **kwargs):
        super().__init__(*args, **kwargs)
        declared = dict(self.fields)
        self.fields = {**_record_fields(establishment), **declared}

    def values(self) -> dict[str, str]:
        return {name: self.cleaned_data[name] for name in Establishment.CURATABLE_FIELDS}

    def contacts(self) -> list[dict[str, str]]:
        data = self.cleaned_data
        keys = ("role", "label", "email", "phone")
        contact = {key: data[f"contact_{key}"] for key in keys}
        return [contact] if any(contact.values()) else []


class ReviewForm(DsfrForm):
    comment = forms.CharField(
        label="Réponse à l'établissement",
        required=False,
        help_text="Obligatoire en cas de refus : l'établissement lira ce motif.",
        widget=forms.Textarea(attrs={"rows": 3}),
    )
