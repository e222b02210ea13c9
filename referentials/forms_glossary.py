from django import forms

from accounts.forms import DsfrForm
from referentials.models import VALUE_TYPE_LABELS, DictionaryStatus, Theme
from referentials.selectors_dictionary import PUBLIC_STATUSES


class GlossarySearchForm(DsfrForm):
    """The glossary's search and filters, read from the query string (GET)."""

    q = forms.CharField(
        label="Rechercher une définition",
        help_text="Libellé, synonyme, code ou mot de la doctrine ; accents, majuscules et "
        "fautes de frappe sont tolérés.",
        required=False,
        max_length=200,
        widget=forms.SearchInput(attrs={"autocomplete": "off"}),
    )
    theme = forms.ChoiceField(label="Thème", required=False)
    value_type = forms.ChoiceField(
        label="Type de valeur",
        required=False,
        choices=[
            ("", "Tous les types"),
            *((t.value, label) for t, label in VALUE_TYPE_LABELS.items()),
        ],
    )
    status = forms.ChoiceField(
        label="Statut",
        required=False,
        choices=[
            ("", "Tous les statuts"),
            *((s.value, s.label) for s in DictionaryStatus if s in PUBLIC_STATUSES),
        ],
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["theme"].choices = [
            ("", "Tous les thèmes"),
            *Theme.objects.values_list("code", "label"),
        ]

    def filters(self) -> dict[str, str]:
        data = self.cleaned_data
        return {name: data.get(name) or "" for name in ("theme", "value_type", "status")}
