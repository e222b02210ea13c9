"""The filters of the curators' list of establishments without contact (read from GET)."""

from django import forms

from accounts.forms import DsfrForm


class MissingContactsFilterForm(DsfrForm):
    def __init__(self, *args, choices: dict[str, list[tuple[str, str]]], **kwargs):
        super().__init__(*args, **kwargs)
        for name, key, label, empty in (
            ("category", "categories", "Catégorie", "Toutes les catégories"),
            ("territory", "territories", "Département ou territoire", "Tous les territoires"),
        ):
            field = forms.ChoiceField(
                label=label, required=False, choices=[("", empty), *choices[key]]
            )
            # DsfrBaseForm adds its classes in __init__, before these fields existed.
            field.widget.attrs["class"] = "fr-select"
            self.fields[name] = field
