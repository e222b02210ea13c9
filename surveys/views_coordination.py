"""Coordination requests between requesters: the list (received and sent) and one request,
with its decision (accept or decline, by the target's requesters) or its withdrawal."""

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods

from accounts.decorators import role_required
from accounts.forms import DsfrForm
from accounts.models import Role
from surveys import coordination
from surveys import selectors_coordination as selectors


class CoordinationDecisionForm(DsfrForm):
    decision = forms.ChoiceField(
        label="Décision",
        choices=[
            ("accept", "Accepter : ajouter ces questions à partir de la prochaine période"),
            ("decline", "Refuser"),
        ],
        widget=forms.RadioSelect,
    )
    response = forms.CharField(
        label="Réponse au demandeur",
        help_text="Obligatoire en cas de refus : le demandeur la lit.",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=2000,
    )


@require_GET
@role_required(Role.REQUESTER, Role.VIEWER)
def coordination_list(request: HttpRequest) -> HttpResponse:
    lists = selectors.coordination_lists(user=request.user)
    return render(
        request,
        "surveys/coordination/list.html",
        {"title": "Demandes de coordination", "received": lists.received, "sent": lists.sent},
    )


@require_http_methods(["GET", "POST"])
@role_required(Role.REQUESTER, Role.VIEWER)
def coordination_detail(request: HttpRequest, pk: int) -> HttpResponse:
    access = selectors.coordination_access(user=request.user, pk=pk)
    item = access.request
    withdrawing = request.method == "POST" and request.POST.get("action") == "withdraw"
    form = CoordinationDecisionForm(
        request.POST if request.method == "POST" and not withdrawing else None
    )
    if request.method == "POST":
        user = request.user
        try:
            if withdrawing:
                coordination.coordination_withdraw(request=item, user=user)  # type: ignore[arg-type]
                messages.success(request, "Demande de coordination retirée.")
                return redirect("surveys:coordination_detail", pk=item.pk)
            if form.is_valid():
                if form.cleaned_data["decision"] == "accept":
                    decided = coordination.coordination_accept(
                        request=item,
                        user=user,  # type: ignore[arg-type]
                        response=form.cleaned_data["response"],
                    )
                    version = decided.applied_version
                    messages.success(
                        request,
                        f"Demande acceptée : la version {version.number if version else ''} de "
                        "l'enquête pose ces questions à partir de la prochaine période.",
                    )
                else:
                    coordination.coordination_decline(
                        request=item,
                        user=user,  # type: ignore[arg-type]
                        response=form.cleaned_data["response"],
                    )
                    messages.success(request, "Demande refusée : le demandeur est prévenu.")
                return redirect("surveys:coordination_detail", pk=item.pk)
        except coordination.CoordinationError as error:
            if withdrawing:
                messages.error(request, str(error))
                return redirect("surveys:coordination_detail", pk=item.pk)
            form.add_error(None, str(error))
    return render(
        request,
        "surveys/coordination/detail.html",
        {
            "title": f"Coordination : « {item.target_campaign.title} »",
            "item": item,
            "can_decide": access.can_decide,
            "can_withdraw": access.can_withdraw,
            "form": form,
        },
    )
