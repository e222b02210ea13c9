import re

from django import forms
from django.core.validators import RegexValidator

from accounts.forms import DsfrForm
from referentials.models import Status
from referentials.selectors import FilterChoices

# Nine characters, the second one a letter for Corsica (2A, 2B); the check digit is not verified
# here: a search for a mistyped number should find nothing, not be refused.
FINESS_PATTERN = r"^[0-9][0-9AB][0-9]{7}$"
finess_validator = RegexValidator(
    FINESS_PATTERN,
    "Un numéro FINESS compte 9 caractères, par exemple 750712184 ou 2A0000030.",
    flags=re.IGNORECASE,
)


def _select(label: str, choices: list[tuple[str, str]], empty: str) -> forms.ChoiceField:
    return forms.ChoiceField(label=label, required=False, choices=[("", empty), *choices])


class EstablishmentSearchForm(DsfrForm):
    """The directory's search filters, read from the query string (GET)."""

    q = forms.CharField(
        label="Nom, commune ou numéro FINESS",
        required=False,
        max_length=200,
        widget=forms.SearchInput(attrs={"autocomplete": "off"}),
    )
    legal_entity = forms.CharField(
        label="Numéro FINESS de l'entité juridique",
        required=False,
        validators=[finess_validator],
    )
    include_closed = forms.BooleanField(label="Inclure les établissements fermés", required=False)

    def __init__(self, *args, choices: FilterChoices, **kwargs):
        super().__init__(*args, **kwargs)
        fields = {
            "category": _select("Catégorie", choices.categories, "Toutes les catégories"),
            "aggregate_category": _select(
                "Catégorie agrégée", choices.aggregate_categories, "Toutes les catégories agrégées"
            ),
            "region": _select("Région", choices.regions, "Toutes les régions"),
            "territory": _select(
                "Département ou territoire", choices.territories, "Tous les territoires"
            ),
        }
        for name, field in fields.items():
            self.fields[name] = field
            # DsfrBaseForm adds its classes in __init__, before these fields existed.
            field.widget.attrs["class"] = "fr-select"

    def clean_legal_entity(self) -> str:
        return self.cleaned_data["legal_entity"].strip().upper()

    def filters(self) -> dict[str, str]:
        """The keyword arguments of ``selectors.establishment_list`` (form must be valid)."""
        data = self.cleaned_data
        return {
            "query": data["q"],
            "category": data["category"],
            "aggregate_category": data["aggregate_category"],
            "region": data["region"],
            "territory": data["territory"],
            "legal_entity": data["legal_entity"],
            "status": "" if data["include_closed"] else Status.OPEN,
        }
