from django import forms
from django.contrib.auth import password_validation
from django.contrib.auth.forms import (
    AuthenticationForm,
    PasswordChangeForm,
    PasswordResetForm,
    SetPasswordForm,
)
from dsfr.forms import DsfrBaseForm

from accounts.models import ROLES_BY_KIND, Organisation, Role, User, normalize_email


class DsfrForm(DsfrBaseForm):
    """Base of every form of the service: DSFR rendering, optional fields marked.

    The DSFR now marks optional fields rather than required ones. django-dsfr 3.6 warns about
    that change from its form's get_context whichever way it is configured, so this one sets
    the context itself; the labels follow settings.DSFR_MARK_OPTIONAL_FIELDS.
    """

    def get_context(self):
        context = super(DsfrBaseForm, self).get_context()
        context["DSFR_MARK_OPTIONAL_FIELDS"] = True
        return context


class LoginForm(DsfrForm, AuthenticationForm):
    username = forms.EmailField(
        label="Adresse électronique",
        widget=forms.EmailInput(attrs={"autocomplete": "email", "autofocus": True}),
        error_messages={
            "invalid": "Saisissez une adresse électronique valide, par exemple "
            "prenom.nom@ars.sante.fr.",
            "required": "Saisissez votre adresse électronique.",
        },
    )
    password = forms.CharField(
        label="Mot de passe",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )
    error_messages = {
        "invalid_login": (
            "Adresse électronique ou mot de passe incorrect. Après plusieurs échecs, la "
            "connexion est bloquée quelques minutes pour protéger votre compte."
        ),
        "inactive": "Ce compte est désactivé. Contactez votre gestionnaire.",
    }

    def clean_username(self) -> str:
        # Normalised before authenticate(): django-axes counts failures per username as given,
        # so "Alice@..." and "alice@..." must be one person, or changing case dodges the lockout.
        return normalize_email(self.cleaned_data["username"])


class ResetRequestForm(DsfrForm, PasswordResetForm):
    email = forms.EmailField(
        label="Adresse électronique",
        max_length=254,
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )


class ResetSetPasswordForm(DsfrForm, SetPasswordForm):
    pass


class ChangePasswordForm(DsfrForm, PasswordChangeForm):
    pass


class ProfileForm(DsfrForm, forms.ModelForm):
    class Meta:
        model = User
        fields = ["first_name", "last_name", "phone"]


class InvitationForm(DsfrForm):
    email = forms.EmailField(label="Adresse électronique de la personne invitée")
    organisation = forms.ModelChoiceField(
        label="Organisation", queryset=Organisation.objects.none(), empty_label="Choisir…"
    )
    role = forms.ChoiceField(label="Rôle", choices=Role.choices)

    def __init__(self, *args, organisations: list[Organisation], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["organisation"].queryset = Organisation.objects.filter(
            pk__in=[o.pk for o in organisations]
        ).order_by("kind", "name")

    def clean(self):
        cleaned = super().clean()
        organisation, role = cleaned.get("organisation"), cleaned.get("role")
        if organisation and role and role not in ROLES_BY_KIND[organisation.kind]:
            allowed = ", ".join(Role(r).label for r in ROLES_BY_KIND[organisation.kind])
            self.add_error(
                "role",
                f"Pour « {organisation.get_kind_display()} », les rôles possibles sont : "
                f"{allowed}.",
            )
        return cleaned


class InvitationAcceptForm(DsfrForm):
    first_name = forms.CharField(label="Prénom", max_length=150)
    last_name = forms.CharField(label="Nom", max_length=150)
    password1 = forms.CharField(
        label="Mot de passe",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=password_validation.password_validators_help_text_html(),
    )
    password2 = forms.CharField(
        label="Confirmation du mot de passe",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def __init__(self, *args, email: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.email = email

    def clean(self):
        cleaned = super().clean()
        p1, p2 = cleaned.get("password1"), cleaned.get("password2")
        if p1 and p2 and p1 != p2:
            self.add_error("password2", "Les deux mots de passe ne sont pas identiques.")
        elif p1:
            candidate = User(
                email=self.email,
                first_name=cleaned.get("first_name", ""),
                last_name=cleaned.get("last_name", ""),
            )
            try:
                password_validation.validate_password(p1, user=candidate)
            except forms.ValidationError as error:
                self.add_error("password1", error)
        return cleaned
