from django import forms

from accounts.forms import DsfrForm
from notifications.models import Preference
from notifications.services import MUTABLE_KINDS


class PreferenceForm(DsfrForm):
    digest_mode = forms.ChoiceField(
        label="Récapitulatif des nouvelles demandes",
        help_text="Un courriel par demande reçue, ou un seul courriel chaque matin.",
        choices=Preference.DigestMode.choices,
        widget=forms.RadioSelect,
    )
    emailed_kinds = forms.MultipleChoiceField(
        label="Recevoir aussi par courriel",
        help_text=(
            "Décochez ce que vous ne voulez plus recevoir par courriel : ces notifications "
            "restent visibles dans votre centre de notifications."
        ),
        choices=list(MUTABLE_KINDS.items()),
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )

    def muted_kinds(self) -> list[str]:
        return [kind for kind in MUTABLE_KINDS if kind not in self.cleaned_data["emailed_kinds"]]
