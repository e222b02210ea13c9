"""Every state change of accounts goes through one of these functions.

Each takes the acting user explicitly, writes an audit row, and defers side effects (e-mails)
until the transaction commits.
"""

import hashlib
import secrets
from typing import Any

from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.db import models, transaction
from django.utils import timezone

from accounts import scoping
from accounts.models import (
    ROLES_BY_KIND,
    AuditEvent,
    Invitation,
    Membership,
    Organisation,
    User,
    normalize_email,
)
from accounts.tasks import send_invitation_email


class AccountsError(Exception):
    """A refusal whose message is shown to the user as it is (in French)."""


class InvitationError(AccountsError):
    pass


class MembershipError(AccountsError):
    pass


def audit_record(
    *,
    actor: User | None,
    action: str,
    target: models.Model,
    details: dict[str, Any] | None = None,
) -> AuditEvent:
    return AuditEvent.objects.create(
        actor=actor,
        action=action,
        target_type=target._meta.label_lower,
        target_id=str(target.pk),
        details=details or {},
    )


def _check_role_fits(*, organisation: Organisation, role: str) -> None:
    if role not in ROLES_BY_KIND[organisation.kind]:
        raise MembershipError(
            f"Le rôle « {role} » n'existe pas pour une organisation de type "
            f"« {organisation.get_kind_display()} »."
        )


@transaction.atomic
def membership_add(
    *, user: User, organisation: Organisation, role: str, acting_user: User | None
) -> Membership:
    _check_role_fits(organisation=organisation, role=role)
    membership, created = Membership.objects.get_or_create(
        user=user, organisation=organisation, role=role
    )
    if created:
        audit_record(
            actor=acting_user,
            action="membership.add",
            target=membership,
            details={"user": user.email, "organisation": organisation.pk, "role": role},
        )
    return membership


def _hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@transaction.atomic
def invitation_create(
    *, email: str, organisation: Organisation, role: str, invited_by: User
) -> tuple[Invitation, str]:
    """Create an invitation and e-mail its link once committed. Returns it and its raw token."""
    email = normalize_email(email)
    _check_role_fits(organisation=organisation, role=role)
    if not scoping.can_invite(invited_by, organisation=organisation, role=role):
        raise InvitationError(
            "Vous ne pouvez pas inviter de personne dans cette organisation avec ce rôle."
        )
    if Membership.objects.filter(user__email=email, organisation=organisation, role=role).exists():
        raise InvitationError(
            f"{email} est déjà rattaché(e) à {organisation} avec ce rôle : inutile de l'inviter."
        )
    token = secrets.token_urlsafe(32)
    invitation = Invitation.objects.create(
        email=email,
        organisation=organisation,
        role=role,
        invited_by=invited_by,
        token_hash=_hash_token(token),
        expires_at=timezone.now() + settings.INVITATION_VALIDITY,
    )
    audit_record(
        actor=invited_by,
        action="invitation.create",
        target=invitation,
        details={"email": email, "organisation": organisation.pk, "role": role},
    )
    transaction.on_commit(lambda: send_invitation_email.delay(invitation.pk, token))
    return invitation, token


def invitation_get(*, token: str) -> Invitation:
    """The invitation behind a link, or a French explanation of why it cannot be used."""
    invitation = (
        Invitation.objects.select_related("organisation", "invited_by")
        .filter(token_hash=_hash_token(token))
        .first()
    )
    if invitation is None:
        raise InvitationError(
            "Ce lien d'invitation n'est pas valide. Vérifiez que vous avez copié le lien "
            "complet, ou demandez une nouvelle invitation à la personne qui vous a invité(e)."
        )
    if invitation.accepted_at is not None:
        raise InvitationError(
            "Cette invitation a déjà été utilisée. Connectez-vous avec votre adresse "
            "électronique et votre mot de passe, ou réinitialisez votre mot de passe."
        )
    if invitation.is_expired:
        expired = timezone.localtime(invitation.expires_at)
        raise InvitationError(
            f"Cette invitation a expiré le {expired:%d/%m/%Y} à {expired:%H:%M}. Demandez une "
            "nouvelle invitation à la personne qui vous a invité(e)."
        )
    return invitation


@transaction.atomic
def invitation_accept(
    *,
    token: str,
    password: str | None = None,
    first_name: str = "",
    last_name: str = "",
    user: User | None = None,
) -> User:
    """Accept an invitation: create the account (new person) or add the membership (known one).

    The row is locked so that a link clicked twice at once is used once.
    """
    invitation = invitation_get(token=token)
    invitation = Invitation.objects.select_for_update().get(pk=invitation.pk)
    if invitation.accepted_at is not None:
        raise InvitationError("Cette invitation a déjà été utilisée.")
    existing = User.objects.filter(email=invitation.email).first()
    if existing is not None:
        if user is None or user.pk != existing.pk:
            raise InvitationError(
                f"Un compte existe déjà pour {invitation.email} : connectez-vous avec ce compte "
                "pour accepter l'invitation."
            )
        account = existing
    else:
        if not password:
            raise InvitationError("Choisissez un mot de passe pour créer votre compte.")
        candidate = User(email=invitation.email, first_name=first_name, last_name=last_name)
        validate_password(password, user=candidate)
        account = User.objects.create_user(
            email=invitation.email, password=password, first_name=first_name, last_name=last_name
        )
        audit_record(actor=account, action="user.create", target=account)
    membership_add(
        user=account,
        organisation=invitation.organisation,
        role=invitation.role,
        acting_user=invitation.invited_by,
    )
    invitation.accepted_at = timezone.now()
    invitation.accepted_by = account
    invitation.save(update_fields=["accepted_at", "accepted_by"])
    audit_record(actor=account, action="invitation.accept", target=invitation)
    return account


@transaction.atomic
def user_update_profile(*, user: User, first_name: str, last_name: str, phone: str) -> User:
    user.first_name, user.last_name, user.phone = first_name, last_name, phone
    user.save(update_fields=["first_name", "last_name", "phone"])
    audit_record(actor=user, action="user.update_profile", target=user)
    return user
