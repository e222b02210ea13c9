"""RPPS identity claims: a professional asks to answer for themself, a curator decides.

Views guard (any logged-in user asks; curators decide, within their scope: 404 outside), parse a
form, call one service of ``referentials.claims`` and redirect.
"""

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.decorators import role_required
from accounts.models import ProfessionalClaim, Role
from referentials import claims
from referentials.forms_claims import ClaimDecisionForm, ClaimRequestForm
from referentials.models import Professional

NOT_FOUND = "Demande de rattachement introuvable ou hors de votre périmètre."


@require_http_methods(["GET", "POST"])
def claim_request(request: HttpRequest) -> HttpResponse:
    own = ProfessionalClaim.objects.filter(user_id=request.user.pk or 0).order_by("-created_at")
    live = own.filter(status__in=claims.LIVE_STATUSES).first()
    form = ClaimRequestForm(request.POST or None)
    if request.method == "POST" and live is None and form.is_valid():
        try:
            claims.claim_request(
                user=request.user,  # type: ignore[arg-type]
                rpps=form.cleaned_data["rpps"],
                message=form.cleaned_data["message"],
            )
        except claims.ClaimError as error:
            form.add_error(error.field, str(error))
        else:
            messages.success(
                request,
                "Demande envoyée : un gestionnaire des référentiels la vérifiera. Vous pourrez "
                "ensuite répondre aux enquêtes qui vous sont adressées.",
            )
            return redirect("referentials:claim_request")
    professionals = {
        p.national_id: p
        for p in Professional.objects.filter(national_id__in=[c.national_id for c in own])
    }
    return render(
        request,
        "referentials/claims/request.html",
        {
            "title": "Rattacher mon compte à mon identité RPPS",
            "form": form,
            "live": live,
            "claims": [(claim, professionals.get(claim.national_id)) for claim in own],
        },
    )


@require_POST
def claim_withdraw(request: HttpRequest, pk: int) -> HttpResponse:
    claim = ProfessionalClaim.objects.filter(pk=pk, user_id=request.user.pk or 0).first()
    if claim is None:
        raise Http404(NOT_FOUND)
    try:
        claims.claim_withdraw(claim=claim, user=request.user)  # type: ignore[arg-type]
    except claims.ClaimError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, "Demande retirée.")
    return redirect("referentials:claim_request")


@require_GET
@role_required(Role.CURATOR)
def claim_list(request: HttpRequest) -> HttpResponse:
    visible = claims.claims_for_curator(request.user).select_related("user", "decided_by")
    pending = list(visible.filter(status=ProfessionalClaim.Status.PENDING).order_by("created_at"))
    decided = list(
        visible.exclude(status=ProfessionalClaim.Status.PENDING)
        .exclude(decided_at__isnull=True)
        .order_by("-decided_at")[:30]
    )
    names = {
        p.national_id: p
        for p in Professional.objects.filter(
            national_id__in=[c.national_id for c in [*pending, *decided]]
        )
    }
    return render(
        request,
        "referentials/claims/list.html",
        {
            "title": "Rattachements RPPS",
            "pending": [(c, names.get(c.national_id)) for c in pending],
            "decided": [(c, names.get(c.national_id)) for c in decided],
        },
    )


@role_required(Role.CURATOR)
@require_http_methods(["GET", "POST"])
def claim_decide(request: HttpRequest, pk: int) -> HttpResponse:
    claim = claims.claims_for_curator(request.user).select_related("user").filter(pk=pk).first()
    if claim is None:
        raise Http404(NOT_FOUND)
    form = ClaimDecisionForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        verify = request.POST.get("decision") == "verify"
        try:
            claims.claim_decide(
                claim=claim,
                decided_by=request.user,  # type: ignore[arg-type]
                verify=verify,
                comment=form.cleaned_data["comment"],
            )
        except claims.ClaimError as error:
            form.add_error(error.field if error.field in form.fields else None, str(error))
        else:
            messages.success(
                request,
                f"Rattachement de {claim.user} {'vérifié' if verify else 'refusé'}.",
            )
            return redirect("referentials:claim_list")
    professional = (
        Professional.objects.filter(national_id=claim.national_id)
        .prefetch_related("activities")
        .first()
    )
    others = ProfessionalClaim.objects.filter(national_id=claim.national_id).exclude(pk=claim.pk)
    return render(
        request,
        "referentials/claims/decide.html",
        {
            "title": f"Rattachement RPPS de {claim.user}",
            "claim": claim,
            "professional": professional,
            "others": others.select_related("user"),
            "form": form,
        },
    )
