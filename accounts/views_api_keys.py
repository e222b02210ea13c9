"""Pages of an organisation's API keys: list, create (the key shown once), revoke."""

from django import forms
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from accounts import api_keys
from accounts.decorators import role_required
from accounts.forms import DsfrForm
from accounts.models import Organisation, Role


class ApiKeyForm(DsfrForm):
    name = forms.CharField(
        label="Nom de la clé",
        max_length=100,
        help_text="Pour la reconnaître : le logiciel ou le script qui l'utilise, par exemple "
        "« DPI, envoi quotidien des lits ».",
        error_messages={"required": "Donnez un nom à la clé."},
    )
    organisation = forms.ModelChoiceField(
        label="Organisation",
        queryset=Organisation.objects.none(),
        empty_label=None,
        error_messages={
            "required": "Choisissez l'organisation pour laquelle la clé répondra.",
            "invalid_choice": "Choisissez une organisation de la liste.",
        },
    )

    def __init__(self, *args: object, organisations: "list[Organisation]", **kwargs: object):
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        field = self.fields["organisation"]
        field.queryset = Organisation.objects.filter(pk__in=[o.pk for o in organisations])  # type: ignore[attr-defined]
        if len(organisations) == 1:
            field.initial = organisations[0].pk
            field.widget = forms.HiddenInput()


@require_GET
@role_required(Role.RESPONDENT, Role.CURATOR)
def api_key_list(request: HttpRequest) -> HttpResponse:
    organisations = list(api_keys.manageable_organisations(request.user))
    return render(
        request,
        "accounts/api_keys/list.html",
        {
            "title": "Clés d'API",
            "keys": api_keys.api_key_list(user=request.user)[:500],
            "can_create": bool(organisations),
        },
    )


@never_cache
@require_http_methods(["GET", "POST"])
@role_required(Role.RESPONDENT, Role.CURATOR)
def api_key_create(request: HttpRequest) -> HttpResponse:
    organisations = list(api_keys.manageable_organisations(request.user))
    if not organisations:
        raise Http404("Aucune organisation dont vous gérez les clés.")
    form = ApiKeyForm(request.POST or None, organisations=organisations)
    if request.method == "POST" and form.is_valid():
        try:
            key, raw = api_keys.api_key_create(
                organisation=form.cleaned_data["organisation"],
                name=form.cleaned_data["name"],
                user=request.user,  # type: ignore[arg-type]
            )
        except api_keys.ApiKeyError as error:
            form.add_error(None, str(error))
        else:
            # Shown in this response only: never stored in clear, never in a redirect URL.
            return render(
                request,
                "accounts/api_keys/created.html",
                {"title": "Clé d'API créée", "key": key, "raw_key": raw},
            )
    return render(
        request, "accounts/api_keys/create.html", {"title": "Créer une clé d'API", "form": form}
    )


@require_http_methods(["GET", "POST"])
@role_required(Role.RESPONDENT, Role.CURATOR)
def api_key_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    key = api_keys.api_key_list(user=request.user).filter(pk=pk).first()
    if key is None:
        raise Http404("Clé d'API introuvable.")
    if request.method == "POST":
        try:
            api_keys.api_key_revoke(key=key, user=request.user)  # type: ignore[arg-type]
        except api_keys.ApiKeyError as error:
            messages.error(request, str(error))
        else:
            messages.success(
                request,
                f"La clé « {key.name} » ({key.prefix}…) est révoquée depuis le "
                f"{timezone.localtime(key.revoked_at):%d/%m/%Y à %H:%M} : elle n'ouvre plus "
                "l'API.",
            )
        return redirect("accounts:api_key_list")
    return render(
        request,
        "accounts/api_keys/revoke.html",
        {"title": "Révoquer une clé d'API", "key": key},
    )
