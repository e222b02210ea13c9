"""The register's filters, read from the query string (GET)."""

from django import forms

from accounts.forms import DsfrForm
from accounts.scoping import AnyUser
from surveys import selectors_register as register
from surveys.models import Campaign


def _select(label: str, choices: list[tuple[str, str]], empty: str) -> forms.ChoiceField:
    return forms.ChoiceField(
        label=label,
        required=False,
        choices=[("", empty), *choices],
        error_messages={
            "invalid_choice": f"« %(value)s » n'est pas un choix possible pour « {label} »."
        },
    )


class RegisterFilterForm(DsfrForm):
    def __init__(self, *args, user: AnyUser, **kwargs):
        super().__init__(*args, **kwargs)
        fields = {
            "theme": _select("Thème", register.theme_choices(), "Tous les thèmes"),
            "definition": _select(
                "Définition demandée", register.definition_choices(user), "Toutes les définitions"
            ),
            "territory": _select(
                "Territoire couvert", register.territory_choices(), "Tous les territoires"
            ),
            "owner": _select(
                "Organisation demandeuse", register.owner_choices(user), "Toutes les organisations"
            ),
            "status": _select("Statut", list(Campaign.Status.choices), "Tous les statuts"),
            "order": forms.ChoiceField(
                label="Trier par", required=False, choices=register.Order.CHOICES
            ),
        }
        for name, field in fields.items():
            self.fields[name] = field
            # DsfrBaseForm adds its classes in __init__, before these fields existed.
            field.widget.attrs["class"] = "fr-select"

    def filters(self) -> register.RegisterFilters:
        """The register's filters (the form must be valid)."""
        data = self.cleaned_data
        return register.RegisterFilters(
            theme=data["theme"],
            definition=data["definition"],
            territory=data["territory"],
            owner=int(data["owner"]) if data["owner"] else None,
            status=data["status"],
        )

    def order(self) -> str:
        return self.cleaned_data["order"]
