"""A health professional links their account to their RPPS identity; a curator verifies it.

Once a claim is verified the user answers for themself: ``accounts.scoping`` makes them a
respondent for their own professional reporting unit, nothing else. The rules the database
also holds (``accounts.ProfessionalClaim`` constraints: one verified user per identity, one live
claim per user) are checked here first so that the user reads a sentence, not an error page.
"""

from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from accounts.models import ProfessionalClaim, Role, User
from accounts.scoping import AnyUser, scope_for
from accounts.services import audit_record
from referentials.identifiers import rpps_is_valid
from referentials.models import Professional, ProfessionalActivity, Status
from referentials.units import units_for_professionals

LIVE_STATUSES = (ProfessionalClaim.Status.PENDING, ProfessionalClaim.Status.VERIFIED)


class ClaimError(Exception):
    """A refused claim or decision, in French, saying what to do."""

    def __init__(self, message: str, *, field: str | None = None):
        self.field = field
        super().__init__(message)


def _normalise_rpps(number: str) -> str:
    return "".join(number.split())


def claim_request(*, user: User, rpps: str, message: str = "") -> ProfessionalClaim:
    """Ask to be linked to the professional of ``rpps``; a curator decides."""
    number = _normalise_rpps(rpps)
    if not rpps_is_valid(number):
        raise ClaimError(
            f"« {number} » n'est pas un numéro RPPS valide : il compte 11 chiffres, dont une clé "
            "de contrôle. Recopiez-le depuis votre carte CPS ou l'annuaire santé.",
            field="rpps",
        )
    professional = (
        Professional.objects.filter(rpps=number, status=Status.OPEN).order_by("pk").first()
    )
    if professional is None:
        raise ClaimError(
            f"Aucun professionnel en exercice ne porte le numéro RPPS {number} dans l'annuaire. "
            "Vérifiez le numéro ; s'il est juste, l'annuaire sera à jour après le prochain "
            "import du RPPS.",
            field="rpps",
        )
    with transaction.atomic():
        live = (
            ProfessionalClaim.objects.select_for_update()
            .filter(user=user, status__in=LIVE_STATUSES)
            .first()
        )
        if live is not None:
            raise ClaimError(
                "Vous avez déjà une demande de rattachement "
                f"{'vérifiée' if live.status == ProfessionalClaim.Status.VERIFIED else 'en cours'}"
                f" (RPPS {live.rpps or live.national_id}) : une seule identité par compte."
            )
        taken = ProfessionalClaim.objects.filter(
            national_id=professional.national_id, status=ProfessionalClaim.Status.VERIFIED
        ).exists()
        if taken:
            raise ClaimError(
                "Cette identité RPPS est déjà rattachée à un autre compte. Si c'est une erreur, "
                "écrivez au gestionnaire des référentiels.",
                field="rpps",
            )
        try:
            with transaction.atomic():
                claim = ProfessionalClaim.objects.create(
                    user=user,
                    national_id=professional.national_id,
                    rpps=number,
                    message=message.strip(),
                )
        except IntegrityError as error:  # a second tab sent the same request at the same time
            raise ClaimError(
                "Vous avez déjà une demande de rattachement en cours : une seule à la fois."
            ) from error
        audit_record(
            actor=user,
            action="claim.request",
            target=claim,
            details={"rpps": number, "national_id": professional.national_id},
        )
    return claim


def claims_for_curator(user: AnyUser) -> QuerySet[ProfessionalClaim]:
    """Claims ``user`` may decide: those of professionals active in their curator scope."""
    scope = scope_for(user, roles=[Role.CURATOR])
    if scope.nationwide:
        return ProfessionalClaim.objects.exclude(user_id=user.pk or 0)
    if scope.is_empty:
        return ProfessionalClaim.objects.none()
    national_ids = Professional.objects.filter(
        pk__in=ProfessionalActivity.objects.filter(
            scope.establishments_q(
                territory="territory_code",
                legal_entity="finess_legal_entity",
                finess="finess_site",
            )
        ).values("professional_id")
    ).values("national_id")
    # Nobody decides their own claim.
    return ProfessionalClaim.objects.filter(Q(national_id__in=national_ids)).exclude(
        user_id=user.pk or 0
    )


def claim_decide(
    *, claim: ProfessionalClaim, decided_by: User, verify: bool, comment: str = ""
) -> ProfessionalClaim:
    """Verify (the user becomes a respondent for their own unit) or reject a pending claim."""
    if claim.user_id == decided_by.pk:
        raise ClaimError("Un gestionnaire ne décide pas de sa propre demande de rattachement.")
    comment = comment.strip()
    if not verify and not comment:
        raise ClaimError(
            "Dites au demandeur pourquoi sa demande est refusée (motif obligatoire).",
            field="comment",
        )
    with transaction.atomic():
        claim = ProfessionalClaim.objects.select_for_update().get(pk=claim.pk)
        if claim.status != ProfessionalClaim.Status.PENDING:
            raise ClaimError(
                f"Cette demande a déjà été traitée ({claim.get_status_display().lower()})."
            )
        if verify:
            professional = Professional.objects.filter(national_id=claim.national_id).first()
            if professional is None:
                raise ClaimError(
                    "Ce professionnel n'est plus dans l'annuaire : la demande ne peut qu'être "
                    "refusée."
                )
            if (
                ProfessionalClaim.objects.filter(
                    national_id=claim.national_id, status=ProfessionalClaim.Status.VERIFIED
                )
                .exclude(pk=claim.pk)
                .exists()
            ):
                raise ClaimError(
                    "Cette identité RPPS est déjà rattachée à un autre compte : retirez d'abord "
                    "ce rattachement ou refusez cette demande."
                )
            # The unit the user will answer for exists before their first campaign does.
            units_for_professionals([professional.pk])
        claim.status = (
            ProfessionalClaim.Status.VERIFIED if verify else ProfessionalClaim.Status.REJECTED
        )
        claim.decided_by = decided_by
        claim.decided_at = timezone.now()
        claim.decision_comment = comment
        claim.save(update_fields=["status", "decided_by", "decided_at", "decision_comment"])
        audit_record(
            actor=decided_by,
            action="claim.verify" if verify else "claim.reject",
            target=claim,
            details={"national_id": claim.national_id, "user": claim.user_id, "comment": comment},
        )
    return claim


def claim_withdraw(*, claim: ProfessionalClaim, user: User) -> ProfessionalClaim:
    """The user withdraws their own pending claim (to correct a wrong number, say)."""
    with transaction.atomic():
        claim = ProfessionalClaim.objects.select_for_update().get(pk=claim.pk, user=user)
        if claim.status != ProfessionalClaim.Status.PENDING:
            raise ClaimError("Seule une demande en attente peut être retirée.")
        claim.status = ProfessionalClaim.Status.WITHDRAWN
        claim.save(update_fields=["status"])
        audit_record(actor=user, action="claim.withdraw", target=claim)
    return claim
