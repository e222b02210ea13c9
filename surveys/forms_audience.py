"""The audience page's forms: criteria as checkboxes, explicit lists as pasted text or a file.

The forms only read the request; what a choice means and whether it is allowed is decided by
``surveys.audience`` (unknown codes, territories outside the owner's scope), so that a code
that is not offered on the page (a crafted request) is refused AND logged there rather than
dropped here as "not a valid choice".
"""

from typing import Any

from django import forms

from accounts.forms import DsfrForm
from accounts.models import Organisation
from surveys import audience

# A FINESS or RPPS list of a whole region fits; past that, a file is the better tool.
MAX_LIST_CHARS = 200_000


class CodesField(forms.MultipleChoiceField):
    """Checkboxes whose values are judged by ``surveys.audience.check_filters``, not here."""

    widget = forms.CheckboxSelectMultiple

    def valid_value(self, value: Any) -> bool:
        return True


def _list_field(label: str, help_text: str) -> forms.CharField:
    return forms.CharField(
        label=label,
        help_text=help_text,
        required=False,
        max_length=MAX_LIST_CHARS,
        widget=forms.Textarea(attrs={"rows": 3, "spellcheck": "false", "autocomplete": "off"}),
    )


FINESS_HELP = "Un numéro FINESS ET par ligne, ou séparés par des points-virgules ou des espaces."
RPPS_HELP = "Un numéro RPPS par ligne, ou séparés par des points-virgules ou des espaces."


class AudienceForm(DsfrForm):
    """Base: maps form fields to filter keys and explicit lists to their parser."""

    unit_kind: str = ""
    # form field -> filter key (the criteria, as checkboxes)
    CODE_FIELDS: dict[str, str] = {}
    # form field -> filter key (codes typed or pasted as text)
    TEXT_CODE_FIELDS: dict[str, str] = {}
    # form field -> filter key (the explicit lists, as pasted text, parsed line by line)
    LIST_FIELDS: dict[str, str] = {}
    # the list a file's numbers are added to
    upload_target = ""

    def __init__(self, *args: Any, owner: Organisation, with_choices: bool = True, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.owner = owner
        if with_choices:
            for name, choices in self.choices().items():
                self.fields[name].choices = choices  # type: ignore[attr-defined]
        self.list_errors: list[str] = []

    def choices(self) -> dict[str, list[tuple[str, str]]]:
        raise NotImplementedError

    def parse(self, text: str) -> tuple[list[str], list[str]]:
        raise NotImplementedError

    @classmethod
    def initial_from(cls, filters: dict[str, Any]) -> dict[str, Any]:
        """The form's initial data from stored filters (lists shown one number per line)."""
        initial: dict[str, Any] = {}
        for name, key in cls.CODE_FIELDS.items():
            initial[name] = list(filters.get(key) or [])
        for name, key in {**cls.TEXT_CODE_FIELDS, **cls.LIST_FIELDS}.items():
            initial[name] = "\n".join(filters.get(key) or [])
        if cls.unit_kind == audience.ESTABLISHMENT and filters.get("departments"):
            initial["territories"] = [*initial["territories"], *filters["departments"]]
        return initial

    def filters(self, *, upload_text: str = "") -> dict[str, list[str]]:
        """The filters of a valid form; line errors of the lists go to ``list_errors``."""
        data = self.cleaned_data
        filters: dict[str, list[str]] = {}
        for name, key in self.CODE_FIELDS.items():
            if data.get(name):
                filters[key] = list(data[name])
        for name, key in self.TEXT_CODE_FIELDS.items():
            numbers = [token for _, token in audience.split_numbers(data.get(name) or "")]
            if numbers:
                filters[key] = numbers
        self.list_errors = []
        for name, key in self.LIST_FIELDS.items():
            text = data.get(name) or ""
            if not text.strip():
                continue
            numbers, errors = self.parse(text)
            label = str(self.fields[name].label)
            self.list_errors += [f"{label}, {error}" for error in errors]
            if numbers:
                filters[key] = numbers
        if upload_text.strip():
            numbers, errors = self.parse(upload_text)
            self.list_errors += [f"Fichier, {error}" for error in errors]
            key = self.LIST_FIELDS[self.upload_target]
            filters[key] = list(dict.fromkeys([*filters.get(key, []), *numbers]))
        return audience.normalize_filters(filters, unit_kind=self.unit_kind)


class EstablishmentAudienceForm(AudienceForm):
    unit_kind = audience.ESTABLISHMENT
    CODE_FIELDS = {
        "categories": "categories",
        "aggregate_categories": "aggregate_categories",
        "regions": "regions",
        "territories": "territories",
        "legal_statuses": "legal_statuses",
        "exclude_categories": "exclude_categories",
    }
    # Legal entities (EJ numbers) are checked by check_filters, not by the ET list parser.
    TEXT_CODE_FIELDS = {"legal_entities": "legal_entities"}
    LIST_FIELDS = {"finess": "finess", "exclude_finess": "exclude_finess"}
    upload_target = "finess"

    categories = CodesField(label="Catégories d'établissement", required=False)
    aggregate_categories = CodesField(label="Catégories agrégées", required=False)
    regions = CodesField(label="Régions", required=False)
    territories = CodesField(label="Départements et collectivités", required=False)
    legal_statuses = CodesField(label="Statut juridique de l'entité", required=False)
    legal_entities = _list_field(
        "Entités juridiques (FINESS EJ)",
        "Tous les établissements de ces entités juridiques, un numéro par ligne.",
    )
    finess = _list_field("Établissements ajoutés (FINESS ET)", FINESS_HELP)
    finess_file = forms.FileField(
        label="Ou un fichier de numéros FINESS",
        help_text="CSV ou TXT : la première colonne est lue, une ligne d'en-tête est permise. "
        "Pris en compte à l'enregistrement.",
        required=False,
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,.txt,text/csv,text/plain"}),
    )
    exclude_categories = CodesField(label="Catégories exclues", required=False)
    exclude_finess = _list_field("Établissements exclus (FINESS ET)", FINESS_HELP)

    def choices(self) -> dict[str, list[tuple[str, str]]]:
        categories = [(c, f"{label} ({c})") for c, label in audience.category_choices()]
        return {
            "categories": categories,
            "aggregate_categories": [
                (c, f"{label} ({c})") for c, label in audience.aggregate_category_choices()
            ],
            "regions": audience.region_choices(self.owner),
            "territories": audience.territory_choices(self.owner),
            "legal_statuses": [
                (c, f"{label} ({c})") for c, label in audience.legal_status_choices()
            ],
            "exclude_categories": categories,
        }

    def parse(self, text: str) -> tuple[list[str], list[str]]:
        return audience.parse_finess_list(text, owner=self.owner)


class ProfessionalAudienceForm(AudienceForm):
    unit_kind = audience.PROFESSIONAL
    CODE_FIELDS = {
        "professions": "professions",
        "specialties": "specialties",
        "modes": "modes",
        "territories": "territories",
    }
    LIST_FIELDS = {"rpps": "rpps", "exclude_rpps": "exclude_rpps"}
    upload_target = "rpps"

    professions = CodesField(label="Professions", required=False)
    specialties = CodesField(label="Savoir-faire (spécialités)", required=False)
    modes = CodesField(label="Modes d'exercice", required=False)
    territories = CodesField(label="Territoires d'exercice", required=False)
    rpps = _list_field("Professionnels ajoutés (RPPS)", RPPS_HELP)
    rpps_file = forms.FileField(
        label="Ou un fichier de numéros RPPS",
        help_text="CSV ou TXT : la première colonne est lue. Pris en compte à l'enregistrement.",
        required=False,
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,.txt,text/csv,text/plain"}),
    )
    exclude_rpps = _list_field("Professionnels exclus (RPPS)", RPPS_HELP)

    def choices(self) -> dict[str, list[tuple[str, str]]]:
        return {
            "professions": audience.profession_choices(),
            "specialties": audience.specialty_choices(),
            "modes": audience.mode_choices(),
            "territories": audience.territory_choices(self.owner),
        }

    def parse(self, text: str) -> tuple[list[str], list[str]]:
        return audience.parse_rpps_list(text, owner=self.owner)


def form_class(unit_kind: str) -> type[AudienceForm]:
    if unit_kind == audience.PROFESSIONAL:
        return ProfessionalAudienceForm
    return EstablishmentAudienceForm
