from django import forms

from accounts.forms import DsfrForm


class ClaimRequestForm(DsfrForm):
    rpps = forms.CharField(
        label="Numéro RPPS",
        max_length=20,
        help_text="11 chiffres, sur votre carte CPS ou dans l'annuaire santé (annuaire.sante.fr).",
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
    )
    message = forms.CharField(
        label="Message au gestionnaire",
        required=False,
        max_length=2000,
        help_text="Ce qui aide à vous reconnaître : lieu d'exercice, adresse professionnelle…",
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class ClaimDecisionForm(DsfrForm):
    comment = forms.CharField(
        label="Motif de la décision",
        required=False,
        max_length=2000,
        help_text="Obligatoire en cas de refus : le demandeur lira ce motif.",
        widget=forms.Textarea(attrs={"rows": 3}),
    )
