from axes.utils import reset as axes_reset
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse_lazy
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from accounts import forms, scoping, selectors, services


def home(request: HttpRequest) -> HttpResponse:
    target = selectors.home_url_name(user=request.user)
    if target:
        return redirect(target)
    return render(request, "accounts/no_membership.html", {"title": "Accueil"})


class LoginView(auth_views.LoginView):
    template_name = "accounts/login.html"
    authentication_form = forms.LoginForm
    redirect_authenticated_user = True
    extra_context = {"title": "Connexion"}


class PasswordResetView(auth_views.PasswordResetView):
    # Django's view answers the same page whether or not the address exists: no enumeration.
    template_name = "accounts/password_reset.html"
    form_class = forms.ResetRequestForm
    email_template_name = "accounts/emails/password_reset.txt"
    html_email_template_name = "accounts/emails/password_reset.html"
    subject_template_name = "accounts/emails/password_reset_subject.txt"
    success_url = reverse_lazy("accounts:password_reset_done")
    extra_context = {"title": "Mot de passe oublié"}


class PasswordResetDoneView(auth_views.PasswordResetDoneView):
    template_name = "accounts/password_reset_done.html"
    extra_context = {"title": "Vérifiez votre messagerie"}


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    template_name = "accounts/password_reset_confirm.html"
    form_class = forms.ResetSetPasswordForm
    success_url = reverse_lazy("accounts:password_reset_complete")
    extra_context = {"title": "Nouveau mot de passe"}

    def form_valid(self, form):
        response = super().form_valid(form)
        # The lockout page sends people here: a password set through the e-mailed link ends the
        # lockout of that account, instead of leaving them blocked with their new password.
        axes_reset(username=form.user.get_username())
        return response


class PasswordResetCompleteView(auth_views.PasswordResetCompleteView):
    template_name = "accounts/password_reset_complete.html"
    extra_context = {"title": "Mot de passe modifié"}


class PasswordChangeView(auth_views.PasswordChangeView):
    template_name = "accounts/password_change.html"
    form_class = forms.ChangePasswordForm
    success_url = reverse_lazy("accounts:profile")
    extra_context = {"title": "Changer de mot de passe"}

    def form_valid(self, form):
        messages.success(self.request, "Votre mot de passe a été modifié.")
        return super().form_valid(form)


@require_http_methods(["GET", "POST"])
def profile(request: HttpRequest) -> HttpResponse:
    form = forms.ProfileForm(request.POST or None, instance=request.user)
    if request.method == "POST" and form.is_valid():
        services.user_update_profile(
            user=request.user,
            first_name=form.cleaned_data["first_name"],
            last_name=form.cleaned_data["last_name"],
            phone=form.cleaned_data["phone"],
        )
        messages.success(request, "Votre profil a été enregistré.")
        return redirect("accounts:profile")
    return render(
        request,
        "accounts/profile.html",
        {
            "title": "Mon profil",
            "form": form,
            "memberships": selectors.memberships_of(user=request.user),
        },
    )


@require_http_methods(["GET", "POST"])
def invitation_list(request: HttpRequest) -> HttpResponse:
    organisations = scoping.invitable_organisations(request.user)
    form = forms.InvitationForm(request.POST or None, organisations=organisations)
    if request.method == "POST" and form.is_valid():
        try:
            invitation, _token = services.invitation_create(
                email=form.cleaned_data["email"],
                organisation=form.cleaned_data["organisation"],
                role=form.cleaned_data["role"],
                invited_by=request.user,
            )
        except services.AccountsError as error:
            form.add_error(None, str(error))
        else:
            messages.success(
                request,
                f"Invitation envoyée à {invitation.email}. Le lien est valable jusqu'au "
                f"{timezone.localtime(invitation.expires_at):%d/%m/%Y}.",
            )
            return redirect("accounts:invitation_list")
    return render(
        request,
        "accounts/invitation_list.html",
        {
            "title": "Invitations",
            "form": form,
            "can_invite": bool(organisations),
            "invitations": selectors.invitations_visible_to(user=request.user)[:200],
        },
    )


@login_not_required
@require_http_methods(["GET", "POST"])
def invitation_accept(request: HttpRequest, token: str) -> HttpResponse:
    try:
        invitation = services.invitation_get(token=token)
    except services.InvitationError as error:
        return render(
            request,
            "accounts/invitation_invalid.html",
            {"title": "Invitation inutilisable", "reason": str(error)},
            status=410,
        )
    existing_account = selectors.account_exists(email=invitation.email)
    form = None
    if not existing_account:
        form = forms.InvitationAcceptForm(request.POST or None, email=invitation.email)
    if request.method == "POST":
        try:
            if existing_account:
                user = services.invitation_accept(token=token, user=request.user)
            elif form is not None and form.is_valid():
                user = services.invitation_accept(
                    token=token,
                    password=form.cleaned_data["password1"],
                    first_name=form.cleaned_data["first_name"],
                    last_name=form.cleaned_data["last_name"],
                )
                login(request, user, backend="django.contrib.auth.backends.ModelBackend")
            else:
                user = None
        except services.InvitationError as error:
            messages.error(request, str(error))
        else:
            if user is not None:
                messages.success(
                    request, f"Bienvenue : vous avez rejoint {invitation.organisation.name}."
                )
                return redirect("home")
    return render(
        request,
        "accounts/invitation_accept.html",
        {
            "title": "Accepter l'invitation",
            "invitation": invitation,
            "form": form,
            "existing_account": existing_account,
        },
    )


def _error(request: HttpRequest, status: int, title: str, message: str) -> HttpResponse:
    return render(request, "errors/error.html", {"title": title, "message": message}, status=status)


def error_403(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return _error(
        request,
        403,
        "Accès refusé",
        "Vous n'avez pas accès à cette page avec votre profil. Si vous pensez que c'est une "
        "erreur, contactez le gestionnaire de votre organisation.",
    )


def error_404(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return _error(
        request,
        404,
        "Page introuvable",
        "La page que vous cherchez n'existe pas, a été déplacée, ou ne fait pas partie de votre "
        "périmètre.",
    )


def error_500(request: HttpRequest) -> HttpResponse:
    return render(request, "errors/500.html", status=500)
