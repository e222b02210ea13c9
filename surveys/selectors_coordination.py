"""Reads of coordination requests: those a user's organisations received and sent.

A request is seen by the requesters and viewers of the two organisations it joins (the owner
of the requesting campaign, the owner of the target campaign); anyone else gets a 404, as if it
did not exist.
"""

from dataclasses import dataclass

from django.db.models import Prefetch, Q, QuerySet
from django.http import Http404

from accounts.models import Role
from accounts.scoping import AnyUser
from referentials.models import Definition
from surveys.models import CoordinationRequest
from surveys.selectors_builder import organisation_ids

NOT_FOUND = "Demande de coordination introuvable ou hors de vos organisations."


def _requests() -> QuerySet[CoordinationRequest]:
    return CoordinationRequest.objects.select_related(
        "requesting_campaign__owner",
        "target_campaign__owner",
        "target_campaign__version",
        "created_by",
        "decided_by",
        "applied_version",
    ).prefetch_related(
        Prefetch("definitions", queryset=Definition.objects.order_by("label", "code"))
    )


@dataclass
class CoordinationLists:
    received: list[CoordinationRequest]
    sent: list[CoordinationRequest]


def coordination_lists(*, user: AnyUser) -> CoordinationLists:
    """Requests received by and sent from the user's organisations, pending ones first."""
    ids = organisation_ids(user, [Role.REQUESTER, Role.VIEWER])
    rows = list(
        _requests()
        .filter(Q(target_campaign__owner_id__in=ids) | Q(requesting_campaign__owner_id__in=ids))
        .order_by("-created_at", "-pk")
    )
    pending = CoordinationRequest.Status.PENDING

    def ordered(items: list[CoordinationRequest]) -> list[CoordinationRequest]:
        return sorted(items, key=lambda r: r.status != pending)

    return CoordinationLists(
        received=ordered([r for r in rows if r.target_campaign.owner_id in ids]),
        sent=ordered([r for r in rows if r.requesting_campaign.owner_id in ids]),
    )


@dataclass
class CoordinationAccess:
    request: CoordinationRequest
    # A requester of the target's owner (accepts or declines) / of the requesting owner.
    can_decide: bool
    can_withdraw: bool


def coordination_access(*, user: AnyUser, pk: int) -> CoordinationAccess:
    """One request and what the user may do with it; 404 outside the two organisations."""
    request = _requests().filter(pk=pk).first()
    if request is None:
        raise Http404(NOT_FOUND)
    members = set(organisation_ids(user, [Role.REQUESTER, Role.VIEWER]))
    target_owner = request.target_campaign.owner_id
    requesting_owner = request.requesting_campaign.owner_id
    if not members & {target_owner, requesting_owner}:
        raise Http404(NOT_FOUND)
    requesters = set(organisation_ids(user, [Role.REQUESTER]))
    pending = request.status == CoordinationRequest.Status.PENDING
    return CoordinationAccess(
        request=request,
        can_decide=pending and target_owner in requesters,
        can_withdraw=pending and requesting_owner in requesters,
    )


def pending_received_count(*, user: AnyUser) -> int:
    ids = organisation_ids(user, [Role.REQUESTER])
    return CoordinationRequest.objects.filter(
        target_campaign__owner_id__in=ids, status=CoordinationRequest.Status.PENDING
    ).count()
