"""Curator tools (corrections, contacts, review of proposals) and the respondents' proposals.

Each view guards (role: 403; scope: 404, like ``selectors.establishment_access``), parses a
form, calls one service of ``referentials.curation`` and redirects.
"""

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.forms import Form
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.decorators import role_required
from accounts.models import Role
from accounts.scoping import scope_for
from notifications.selectors import address_problems
from referentials import curation
from referentials.forms_curation import ContactForm, CorrectionForm, ProposalForm, ReviewForm
from referentials.models import (
    ChangeProposal,
    Correction,
    DirectoryChange,
    Establishment,
    FunctionalContact,
)

NOT_FOUND = "Établissement introuvable ou hors de votre périmètre."


# --- Fetch and check: outside the user's scope is the same as not found ----------------------


def _scope_q(request: HttpRequest, role: str, prefix: str = "") -> Q:
    return scope_for(request.user, roles=[role]).establishments_q(
        territory=f"{prefix}territory_code",
        legal_entity=f"{prefix}legal_entity__finess",
        finess=f"{prefix}finess",
    )


def _establishment(request: HttpRequest, finess: str, role: str) -> Establishment:
    establishment = (
        Establishment.objects.visible_to(request.user, roles=[role])
        .select_related("legal_entity")
        .filter(finess=finess)
        .first()
    )
    if establishment is None:
        raise Http404(NOT_FOUND)
    return establishment


def _in_curator_scope(request: HttpRequest, model: Any, pk: int) -> Any:
    found = (
        model.objects.filter(_scope_q(request, Role.CURATOR, "establishment__"), pk=pk)
        .select_related("establishment")
        .first()
    )
    if found is None:
        raise Http404(NOT_FOUND)
    return found


def _form_errors(form: Form, error: ValidationError) -> None:
    """Hand a service's ValidationError back to the form, on the fields it names."""
    if hasattr(error, "error_dict"):
        for field, errors in error.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, error.messages)


# --- Corrections -----------------------------------------------------------------------------


@role_required(Role.CURATOR)
@require_http_methods(["GET", "POST"])
def establishment_corrections(request: HttpRequest, finess: str) -> HttpResponse:
    establishment = _establishment(request, finess, Role.CURATOR)
    form = CorrectionForm(request.POST or None, establishment=establishment)
    if request.method == "POST" and form.is_valid():
        try:
            corrections = curation.establishment_correct(
                establishment=establishment,
                values=form.values(),
                reason=form.cleaned_data["reason"],
                acting_user=request.user,
            )
        except ValidationError as error:
            _form_errors(form, error)
        except curation.CurationError as error:
            form.add_error(None, str(error))
        else:
            fields = ", ".join(curation.FIELD_LABELS[c.field].lower() for c in corrections)
            messages.success(request, f"Correction enregistrée ({fields}).")
            return redirect("referentials:curation_corrections", finess=establishment.finess)
    return render(
        request,
        "referentials/curation/corrections.html",
        {
            "title": f"Corriger la fiche — {establishment.name}",
            "establishment": establishment,
            "form": form,
            "corrections": _labelled(
                establishment.corrections.filter(cleared_at__isnull=True).select_related(
                    "created_by"
                )
            ),
            "history": DirectoryChange.objects.filter(establishment=establishment).select_related(
                "actor"
            )[:30],
        },
    )


def _labelled(corrections: Any) -> list[dict[str, Any]]:
    return [
        {"correction": c, "label": curation.FIELD_LABELS.get(c.field, c.field)} for c in corrections
    ]


@require_POST
@role_required(Role.CURATOR)
def correction_clear(request: HttpRequest, pk: int) -> HttpResponse:
    correction = _in_curator_scope(request, Correction, pk)
    try:
        curation.correction_clear(correction=correction, acting_user=request.user)
    except curation.CurationError as error:
        messages.error(request, str(error))
    else:
        messages.success(
            request,
            f"Correction levée : « {curation.FIELD_LABELS[correction.field]} » reprend la valeur "
            "de la source, que le prochain import mettra à jour.",
        )
    return redirect("referentials:curation_corrections", finess=correction.establishment.finess)


# --- Contacts --------------------------------------------------------------------------------


@role_required(Role.CURATOR)
@require_http_methods(["GET", "POST"])
def establishment_contacts(request: HttpRequest, finess: str) -> HttpResponse:
    establishment = _establishment(request, finess, Role.CURATOR)
    form = ContactForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            contact = curation.contact_add(
                establishment=establishment, acting_user=request.user, **form.cleaned_data
            )
        except ValidationError as error:
            _form_errors(form, error)
        else:
            messages.success(request, f"Contact ajouté : {contact}.")
            return redirect("referentials:curation_contacts", finess=establishment.finess)
    return render(
        request,
        "referentials/curation/contacts.html",
        {
            "title": f"Contacts — {establishment.name}",
            "establishment": establishment,
            "form": form,
            "contacts": _with_address_problems(
                establishment.contacts.select_related("verified_by").order_by(
                    "-is_active", "role", "email"
                )
            ),
        },
    )


def _with_address_problems(contacts: Any) -> list[FunctionalContact]:
    """Each contact with ``address_problem``: what the mail server said of its address (a
    refusal, a malformed address), or None."""
    rows = list(contacts)
    problems = address_problems([c.email for c in rows])
    for contact in rows:
        contact.address_problem = problems.get(contact.email)  # type: ignore[attr-defined]
    return rows


@role_required(Role.CURATOR)
@require_http_methods(["GET", "POST"])
def contact_edit(request: HttpRequest, pk: int) -> HttpResponse:
    contact = _in_curator_scope(request, FunctionalContact, pk)
    initial = {"role": contact.role, "label": contact.label, "email": contact.email}
    form = ContactForm(request.POST or None, initial={**initial, "phone": contact.phone})
    if request.method == "POST" and form.is_valid():
        try:
            curation.contact_update(contact=contact, acting_user=request.user, **form.cleaned_data)
        except ValidationError as error:
            _form_errors(form, error)
        else:
            messages.success(request, "Contact modifié.")
            return redirect("referentials:curation_contacts", finess=contact.establishment.finess)
    return render(
        request,
        "referentials/curation/contact_edit.html",
        {
            "title": "Modifier un contact",
            "establishment": contact.establishment,
            "contact": contact,
            "form": form,
        },
    )


@require_POST
@role_required(Role.CURATOR)
def contact_deactivate(request: HttpRequest, pk: int) -> HttpResponse:
    contact = _in_curator_scope(request, FunctionalContact, pk)
    try:
        curation.contact_deactivate(contact=contact, acting_user=request.user)
    except curation.CurationError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, f"Contact désactivé : {contact.email}.")
    return redirect("referentials:curation_contacts", finess=contact.establishment.finess)


@require_POST
@role_required(Role.CURATOR)
def contact_verify(request: HttpRequest, pk: int) -> HttpResponse:
    contact = _in_curator_scope(request, FunctionalContact, pk)
    curation.contact_verify(contact=contact, acting_user=request.user)
    messages.success(request, f"Contact marqué comme vérifié : {contact.email}.")
    return redirect("referentials:curation_contacts", finess=contact.establishment.finess)


# --- Proposals -------------------------------------------------------------------------------


@role_required(Role.RESPONDENT)
@require_http_methods(["GET", "POST"])
def establishment_propose(request: HttpRequest, finess: str) -> HttpResponse:
    establishment = _establishment(request, finess, Role.RESPONDENT)
    form = ProposalForm(request.POST or None, establishment=establishment)
    if request.method == "POST" and form.is_valid():
        try:
            curation.proposal_submit(
                establishment=establishment,
                fields=form.values(),
                contacts=form.contacts(),
                comment=form.cleaned_data["comment"],
                acting_user=request.user,
            )
        except ValidationError as error:
            _form_errors(form, error)
        else:
            messages.success(
                request,
                "Votre proposition a été transmise au gestionnaire des référentiels. La fiche "
                "sera mise à jour quand il l'aura acceptée.",
            )
            return redirect("referentials:curation_propose", finess=establishment.finess)
    return render(
        request,
        "referentials/curation/propose.html",
        {
            "title": f"Proposer une correction — {establishment.name}",
            "establishment": establishment,
            "form": form,
            "contacts": establishment.contacts.filter(is_active=True),
            "proposals": establishment.proposals.all()[:10],
        },
    )


@require_GET
@role_required(Role.CURATOR)
def proposal_list(request: HttpRequest) -> HttpResponse:
    proposals = (
        ChangeProposal.objects.filter(
            _scope_q(request, Role.CURATOR, "establishment__"),
            status=ChangeProposal.Status.PENDING,
        )
        .select_related("establishment", "proposed_by")
        .order_by("created_at")
    )
    return render(
        request,
        "referentials/curation/proposal_list.html",
        {"title": "Propositions à examiner", "proposals": proposals[:200]},
    )


@role_required(Role.CURATOR)
@require_http_methods(["GET", "POST"])
def proposal_review(request: HttpRequest, pk: int) -> HttpResponse:
    proposal = _in_curator_scope(request, ChangeProposal, pk)
    form = ReviewForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        decision = request.POST.get("decision")
        comment = form.cleaned_data["comment"]
        try:
            if decision == "accept":
                curation.proposal_accept(
                    proposal=proposal, acting_user=request.user, comment=comment
                )
                messages.success(request, "Proposition acceptée : la fiche est corrigée.")
            elif decision == "reject":
                curation.proposal_reject(
                    proposal=proposal, acting_user=request.user, comment=comment
                )
                messages.success(request, "Proposition refusée.")
            else:
                raise ValidationError("Choisissez d'accepter ou de refuser la proposition.")
        except ValidationError as error:
            _form_errors(form, error)
        except curation.CurationError as error:
            form.add_error(None, str(error))
        else:
            return redirect("referentials:curation_proposal_list")
    establishment = proposal.establishment
    fields = [
        {
            "label": curation.FIELD_LABELS.get(field, field),
            "current": getattr(establishment, field, ""),
            "proposed": value,
        }
        for field, value in (proposal.changes.get("fields") or {}).items()
    ]
    roles = dict(FunctionalContact.Role.choices)
    contacts = [
        {**contact, "role_label": roles.get(contact.get("role", ""), contact.get("role", ""))}
        for contact in proposal.changes.get("contacts") or []
    ]
    return render(
        request,
        "referentials/curation/proposal_review.html",
        {
            "title": f"Proposition — {establishment.name}",
            "proposal": proposal,
            "establishment": establishment,
            "fields": fields,
            "contacts": contacts,
            "current_contacts": establishment.contacts.filter(is_active=True),
            "form": form,
        },
    )
