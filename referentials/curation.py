"""Curation that survives imports: corrections, functional contacts, proposals, admin imports.

Every write is one keyword-only function taking the acting user. Each change to the directory
leaves a ``DirectoryChange`` row (who, when, from which source); decisions on proposals leave an
``accounts.AuditEvent``. A correction is kept over later imports: the importer reads the active
``Correction`` rows and reports where the source now disagrees.
"""

import hashlib
import re
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.core.validators import validate_email
from django.db import transaction
from django.utils import timezone

from accounts.models import Role, User
from accounts.services import audit_record
from referentials.models import (
    ChangeProposal,
    Correction,
    DirectoryChange,
    Establishment,
    FunctionalContact,
    ImportRun,
)
from referentials.search import establishment_search_text

PROPOSAL_REASON = "Proposition de l'établissement"
SEARCHED_FIELDS = frozenset({"name", "long_name", "city"})

FIELD_LABELS = {
    "name": "Raison sociale",
    "long_name": "Raison sociale longue",
    "address": "Adresse",
    "postcode": "Code postal",
    "city": "Commune",
    "phone": "Téléphone",
    "email": "Adresse électronique",
}

EMAIL_ERROR = (
    "Saisissez une adresse électronique valide, par exemple cellule.crise@etablissement.fr."
)
PHONE_ERROR = (
    "Saisissez un numéro de téléphone à 10 chiffres (par exemple 01 23 45 67 89) ou au format "
    "international (par exemple +590 590 12 34 56)."
)
POSTCODE_ERROR = "Saisissez un code postal à 5 chiffres, par exemple 97133."

_PHONE_SEPARATORS = re.compile(r"[\s.\-()]")
_NATIONAL_PHONE = re.compile(r"^0[1-9]\d{8}$")
_INTERNATIONAL_PHONE = re.compile(r"^\+[1-9]\d{7,14}$")
_POSTCODE = re.compile(r"^\d{5}$")


class CurationError(Exception):
    """A curation step that cannot happen in the current state (message in French)."""


# --- Who may curate, who may propose --------------------------------------------------------


def can_curate(*, user: Any, establishment: Establishment) -> bool:
    return (
        Establishment.objects.visible_to(user, roles=[Role.CURATOR])
        .filter(pk=establishment.pk)
        .exists()
    )


def can_propose(*, user: Any, establishment: Establishment) -> bool:
    return (
        Establishment.objects.visible_to(user, roles=[Role.RESPONDENT])
        .filter(pk=establishment.pk)
        .exists()
    )


def _check_curator(*, user: User, establishment: Establishment) -> None:
    if not can_curate(user=user, establishment=establishment):
        raise PermissionDenied(
            "Vous n'êtes pas gestionnaire des référentiels pour cet établissement."
        )


def _check_respondent(*, user: User, establishment: Establishment) -> None:
    if not can_propose(user=user, establishment=establishment):
        raise PermissionDenied(
            "Seuls les répondants de l'établissement peuvent proposer des corrections."
        )


# --- Validation (French messages, shared with the forms) -------------------------------------


def clean_email(value: str) -> str:
    value = (value or "").strip().lower()
    try:
        validate_email(value)
    except ValidationError:
        raise ValidationError(EMAIL_ERROR, code="invalid") from None
    return value


def clean_phone(value: str) -> str:
    """``"05 90 12 34 56"`` -> ``"0590123456"``; empty stays empty."""
    compact = _PHONE_SEPARATORS.sub("", value or "")
    if not compact:
        return ""
    if not (_NATIONAL_PHONE.match(compact) or _INTERNATIONAL_PHONE.match(compact)):
        raise ValidationError(PHONE_ERROR, code="invalid")
    return compact


def clean_field_value(*, field: str, value: str) -> str:
    """The value a curatable field would store, or a ValidationError in French."""
    if field not in Establishment.CURATABLE_FIELDS:
        raise ValidationError(f"Le champ « {field} » ne peut pas être corrigé.", code="field")
    value = (value or "").strip()
    if field == "email":
        return clean_email(value) if value else ""
    if field == "phone":
        return clean_phone(value)
    if field == "postcode" and value and not _POSTCODE.match(value):
        raise ValidationError(POSTCODE_ERROR, code="invalid")
    if field == "name" and not value:
        raise ValidationError("La raison sociale ne peut pas être vide.", code="required")
    max_length = getattr(Establishment._meta.get_field(field), "max_length", None) or 255
    if len(value) > max_length:
        raise ValidationError(
            f"{max_length} caractères au plus (vous en avez saisi {len(value)}).",
            code="max_length",
        )
    return value


def clean_contact(data: dict[str, Any]) -> dict[str, str]:
    """A proposed or imported contact, cleaned: role, label, email, phone."""
    errors: dict[str, list[str]] = {}
    role = (data.get("role") or "").strip()
    if role not in FunctionalContact.Role.values:
        errors["role"] = ["Choisissez une fonction dans la liste."]
    label = (data.get("label") or "").strip()[:150]
    try:
        email = clean_email(data.get("email") or "")
    except ValidationError as error:
        errors["email"] = error.messages
        email = ""
    try:
        phone = clean_phone(data.get("phone") or "")
    except ValidationError as error:
        errors["phone"] = error.messages
        phone = ""
    if errors:
        raise ValidationError(errors)
    return {"role": role, "label": label, "email": email, "phone": phone}


# --- Corrections -----------------------------------------------------------------------------


def _lock(establishment: Establishment) -> None:
    """Lock the row and refresh the caller's instance: two curators correcting at once each see
    the other's correction, and the caller's object shows what was written."""
    list(Establishment.objects.select_for_update().filter(pk=establishment.pk).values_list("pk"))
    establishment.refresh_from_db()


def _set_column(*, establishment: Establishment, field: str, value: str) -> None:
    setattr(establishment, field, value)
    update_fields = [field, "updated_at"]
    if field in SEARCHED_FIELDS:
        establishment.search_text = establishment_search_text(
            name=establishment.name,
            long_name=establishment.long_name,
            city=establishment.city,
            finess=establishment.finess,
        )
        update_fields.append("search_text")
    establishment.save(update_fields=update_fields)


def _history(
    *,
    establishment: Establishment,
    field: str,
    old_value: str,
    new_value: str,
    source: str,
    actor: User | None,
) -> DirectoryChange:
    return DirectoryChange.objects.create(
        establishment=establishment,
        field=field,
        old_value=old_value or "",
        new_value=new_value or "",
        source=source,
        actor=actor,
    )


def _correction_write(
    *,
    establishment: Establishment,
    field: str,
    value: str,
    reason: str,
    acting_user: User,
    source: str,
) -> Correction:
    value = clean_field_value(field=field, value=value)
    _lock(establishment)
    now = timezone.now()
    active = Correction.objects.filter(
        establishment=establishment, field=field, cleared_at__isnull=True
    ).first()
    old_value = getattr(establishment, field) or ""
    # What the source said: kept from the correction being replaced, else the column as it is.
    source_value = active.source_value if active else old_value
    if active:
        active.cleared_at = now
        active.cleared_by = acting_user
        active.save(update_fields=["cleared_at", "cleared_by"])
    correction = Correction.objects.create(
        establishment=establishment,
        field=field,
        value=value,
        source_value=source_value,
        reason=reason.strip(),
        created_by=acting_user,
    )
    _set_column(establishment=establishment, field=field, value=value)
    _history(
        establishment=establishment,
        field=field,
        old_value=old_value,
        new_value=value,
        source=source,
        actor=acting_user,
    )
    return correction


@transaction.atomic
def correction_apply(
    *,
    establishment: Establishment,
    field: str,
    value: str,
    reason: str,
    acting_user: User,
) -> Correction:
    """Correct one field; the correction replaces the active one and survives later imports."""
    _check_curator(user=acting_user, establishment=establishment)
    return _correction_write(
        establishment=establishment,
        field=field,
        value=value,
        reason=reason,
        acting_user=acting_user,
        source=DirectoryChange.Source.CURATOR,
    )


@transaction.atomic
def establishment_correct(
    *,
    establishment: Establishment,
    values: dict[str, str],
    reason: str,
    acting_user: User,
) -> list[Correction]:
    """Correct the fields whose value differs from the record (the correction page's form)."""
    _check_curator(user=acting_user, establishment=establishment)
    _lock(establishment)
    errors: dict[str, list[str]] = {}
    changed: dict[str, str] = {}
    for field, value in values.items():
        try:
            cleaned = clean_field_value(field=field, value=value)
        except ValidationError as error:
            errors[field] = error.messages
            continue
        if cleaned != (getattr(establishment, field) or ""):
            changed[field] = cleaned
    if errors:
        raise ValidationError(errors)
    corrections = [
        _correction_write(
            establishment=establishment,
            field=field,
            value=value,
            reason=reason,
            acting_user=acting_user,
            source=DirectoryChange.Source.CURATOR,
        )
        for field, value in changed.items()
    ]
    if not corrections:
        raise CurationError("Aucune valeur n'a changé : rien n'a été corrigé.")
    return corrections


@transaction.atomic
def correction_clear(*, correction: Correction, acting_user: User) -> Correction:
    """Lift a correction: the source's value comes back (the next import refreshes it)."""
    establishment = correction.establishment
    _check_curator(user=acting_user, establishment=establishment)
    correction = Correction.objects.select_for_update().get(pk=correction.pk)
    if correction.cleared_at is not None:
        raise CurationError("Cette correction a déjà été levée.")
    correction.cleared_at = timezone.now()
    correction.cleared_by = acting_user
    correction.save(update_fields=["cleared_at", "cleared_by"])
    _lock(establishment)
    old_value = getattr(establishment, correction.field) or ""
    _set_column(establishment=establishment, field=correction.field, value=correction.source_value)
    # The source may have changed since the correction was made: forgetting the row's hash makes
    # the next import compare the row again instead of skipping it as unchanged.
    establishment.row_hash = ""
    establishment.save(update_fields=["row_hash"])
    _history(
        establishment=establishment,
        field=correction.field,
        old_value=old_value,
        new_value=correction.source_value,
        source=DirectoryChange.Source.CURATOR,
        actor=acting_user,
    )
    return correction


# --- Functional contacts ---------------------------------------------------------------------


def _contact_text(contact: FunctionalContact | None) -> str:
    if contact is None:
        return ""
    parts = [contact.email, contact.phone, contact.label]
    text = " ".join(p for p in parts if p)
    if not contact.is_active:
        text += " (désactivé)"
    return text


def _contact_history(
    *,
    contact: FunctionalContact,
    old: str,
    source: str = DirectoryChange.Source.CURATOR,
    actor: User,
) -> None:
    _history(
        establishment=contact.establishment,
        field=f"contact:{contact.role}",
        old_value=old,
        new_value=_contact_text(contact),
        source=source,
        actor=actor,
    )


def _contact_upsert(
    *,
    establishment: Establishment,
    data: dict[str, Any],
    acting_user: User,
    verified: bool,
    source: str,
) -> FunctionalContact:
    cleaned = clean_contact(data)
    contact = FunctionalContact.objects.filter(
        establishment=establishment, role=cleaned["role"], email=cleaned["email"]
    ).first()
    if contact is not None and contact.is_active and not verified:
        raise ValidationError(
            {"email": ["Ce contact existe déjà pour cette fonction."]}, code="duplicate"
        )
    old = _contact_text(contact)
    if contact is None:
        contact = FunctionalContact(establishment=establishment, **cleaned)
    else:  # an inactive one comes back, or a proposal confirms an existing one
        contact.label = cleaned["label"] or contact.label
        contact.phone = cleaned["phone"] or contact.phone
        contact.is_active = True
    if verified:
        contact.verified_on = timezone.localdate()
        contact.verified_by = acting_user
    contact.save()
    _contact_history(contact=contact, old=old, source=source, actor=acting_user)
    return contact


@transaction.atomic
def contact_add(
    *,
    establishment: Establishment,
    role: str,
    email: str,
    acting_user: User,
    phone: str = "",
    label: str = "",
) -> FunctionalContact:
    _check_curator(user=acting_user, establishment=establishment)
    return _contact_upsert(
        establishment=establishment,
        data={"role": role, "email": email, "phone": phone, "label": label},
        acting_user=acting_user,
        verified=False,
        source=DirectoryChange.Source.CURATOR,
    )


@transaction.atomic
def contact_update(
    *,
    contact: FunctionalContact,
    role: str,
    email: str,
    acting_user: User,
    phone: str = "",
    label: str = "",
) -> FunctionalContact:
    _check_curator(user=acting_user, establishment=contact.establishment)
    cleaned = clean_contact({"role": role, "email": email, "phone": phone, "label": label})
    duplicate = (
        FunctionalContact.objects.filter(
            establishment=contact.establishment, role=cleaned["role"], email=cleaned["email"]
        )
        .exclude(pk=contact.pk)
        .exists()
    )
    if duplicate:
        raise ValidationError({"email": ["Ce contact existe déjà pour cette fonction."]})
    old = _contact_text(contact)
    for name, value in cleaned.items():
        setattr(contact, name, value)
    contact.save()
    _contact_history(contact=contact, old=old, actor=acting_user)
    return contact


@transaction.atomic
def contact_deactivate(*, contact: FunctionalContact, acting_user: User) -> FunctionalContact:
    _check_curator(user=acting_user, establishment=contact.establishment)
    if not contact.is_active:
        raise CurationError("Ce contact est déjà désactivé.")
    old = _contact_text(contact)
    contact.is_active = False
    contact.save(update_fields=["is_active"])
    _contact_history(contact=contact, old=old, actor=acting_user)
    return contact


@transaction.atomic
def contact_verify(*, contact: FunctionalContact, acting_user: User) -> FunctionalContact:
    _check_curator(user=acting_user, establishment=contact.establishment)
    contact.verified_on = timezone.localdate()
    contact.verified_by = acting_user
    contact.save(update_fields=["verified_on", "verified_by"])
    _history(
        establishment=contact.establishment,
        field=f"contact:{contact.role}",
        old_value=_contact_text(contact),
        new_value=f"vérifié le {contact.verified_on:%d/%m/%Y}",
        source=DirectoryChange.Source.CURATOR,
        actor=acting_user,
    )
    return contact


# --- Proposals from establishments -----------------------------------------------------------


@transaction.atomic
def proposal_submit(
    *,
    establishment: Establishment,
    fields: dict[str, str],
    contacts: list[dict[str, Any]],
    comment: str,
    acting_user: User,
) -> ChangeProposal:
    """A respondent proposes values for its own record; nothing is applied until accepted."""
    _check_respondent(user=acting_user, establishment=establishment)
    errors: dict[str, list[str]] = {}
    proposed: dict[str, str] = {}
    for field, value in fields.items():
        try:
            cleaned = clean_field_value(field=field, value=value)
        except ValidationError as error:
            errors[field] = error.messages
            continue
        if cleaned != (getattr(establishment, field) or ""):
            proposed[field] = cleaned
    proposed_contacts = []
    for number, contact in enumerate(contacts, start=1):
        try:
            proposed_contacts.append(clean_contact(contact))
        except ValidationError as error:
            for name, messages in error.message_dict.items():
                errors.setdefault(f"contact_{name}", []).extend(
                    f"Contact {number} : {message}" if len(contacts) > 1 else message
                    for message in messages
                )
    if errors:
        raise ValidationError(errors)
    if not proposed and not proposed_contacts:
        raise ValidationError(
            "Proposez au moins une modification : aucune valeur ne diffère de la fiche actuelle."
        )
    proposal = ChangeProposal.objects.create(
        establishment=establishment,
        changes={"fields": proposed, "contacts": proposed_contacts},
        comment=comment.strip(),
        proposed_by=acting_user,
    )
    audit_record(actor=acting_user, action="proposal.submit", target=proposal)
    return proposal


def _pending(proposal: ChangeProposal) -> ChangeProposal:
    proposal = ChangeProposal.objects.select_for_update().get(pk=proposal.pk)
    if proposal.status != ChangeProposal.Status.PENDING:
        raise CurationError(
            f"Cette proposition a déjà été examinée ({proposal.get_status_display().lower()})."
        )
    return proposal


@transaction.atomic
def proposal_accept(
    *, proposal: ChangeProposal, acting_user: User, comment: str = ""
) -> ChangeProposal:
    """Apply each proposed field as a correction, add the contacts as verified."""
    _check_curator(user=acting_user, establishment=proposal.establishment)
    proposal = _pending(proposal)
    establishment = proposal.establishment
    for field, value in (proposal.changes.get("fields") or {}).items():
        _correction_write(
            establishment=establishment,
            field=field,
            value=value,
            reason=PROPOSAL_REASON,
            acting_user=acting_user,
            source=DirectoryChange.Source.PROPOSAL,
        )
    for contact in proposal.changes.get("contacts") or []:
        _contact_upsert(
            establishment=establishment,
            data=contact,
            acting_user=acting_user,
            verified=True,
            source=DirectoryChange.Source.PROPOSAL,
        )
    proposal.status = ChangeProposal.Status.ACCEPTED
    proposal.reviewed_by = acting_user
    proposal.reviewed_at = timezone.now()
    proposal.review_comment = comment.strip()
    proposal.save(update_fields=["status", "reviewed_by", "reviewed_at", "review_comment"])
    audit_record(actor=acting_user, action="proposal.accept", target=proposal)
    return proposal


@transaction.atomic
def proposal_reject(*, proposal: ChangeProposal, acting_user: User, comment: str) -> ChangeProposal:
    _check_curator(user=acting_user, establishment=proposal.establishment)
    if not (comment or "").strip():
        raise ValidationError(
            {"comment": ["Indiquez le motif du refus : l'établissement le lira."]},
            code="required",
        )
    proposal = _pending(proposal)
    proposal.status = ChangeProposal.Status.REJECTED
    proposal.reviewed_by = acting_user
    proposal.reviewed_at = timezone.now()
    proposal.review_comment = comment.strip()
    proposal.save(update_fields=["status", "reviewed_by", "reviewed_at", "review_comment"])
    audit_record(
        actor=acting_user, action="proposal.reject", target=proposal, details={"comment": comment}
    )
    return proposal


# --- Imports started from the admin ----------------------------------------------------------


@transaction.atomic
def import_run_start(
    *,
    source: str,
    uploaded_file: UploadedFile,
    dry_run: bool,
    forced: bool,
    acting_user: User,
) -> ImportRun:
    """Keep the uploaded file, record the run, and hand it to the worker once committed."""
    # Imported here: tasks imports the importers, which may import this module.
    from referentials.tasks import import_file_run

    digest = hashlib.sha256()
    for chunk in uploaded_file.chunks():
        digest.update(chunk)
    uploaded_file.seek(0)
    run = ImportRun(
        source=source,
        file_name=(uploaded_file.name or "")[:255],
        checksum=digest.hexdigest(),
        dry_run=dry_run,
        forced=forced,
        started_by=acting_user,
        status=ImportRun.Status.RUNNING,
    )
    run.stored_file.save(uploaded_file.name or "import", uploaded_file, save=False)
    run.save()
    audit_record(
        actor=acting_user,
        action="import_run.start",
        target=run,
        details={"source": source, "dry_run": dry_run, "forced": forced},
    )
    transaction.on_commit(lambda: import_file_run.delay(run.pk))
    return run
