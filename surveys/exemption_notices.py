"""Who is told about an exemption, called by ``surveys.campaigns`` in the transaction that
records it (explicit calls, no signal):

- a respondent asks (``exemption_request``): the requesters of the campaign's owner
  organisation, kind ``exemption_requested``, at most one message per requester and campaign
  per day (``exemption-requested-<campaign>``): the first request of the day tells them, the
  others are in the list of exemptions to decide the message links to — fifty establishments
  asking on one morning must not send fifty e-mails;
- a requester decides (``exemption_decide``): the respondent who asked, kind
  ``exemption_decided``, once per assignment per day (``exemption-decided-<assignment>``).
"""

from django.urls import reverse

from accounts.models import Membership, Role, User
from notifications.services import Recipient, notify
from surveys.models import Assignment
from surveys.notices import INBOX_PATH, PARIS
from surveys.periods import parse_period

REQUESTED_TEMPLATE = "surveys/emails/exemption_requested"
DECIDED_TEMPLATE = "surveys/emails/exemption_decided"


def _requester(assignment: Assignment) -> str:
    owner = assignment.campaign.owner
    return owner.short_name or owner.name


def _facts(assignment: Assignment) -> dict[str, str]:
    unit = assignment.unit
    return {
        "title": assignment.campaign.title,
        "unit": unit.label,
        "identifier": unit.finess or unit.national_id,
        "period": parse_period(assignment.period.key).label,
        "due": f"{assignment.due_at.astimezone(PARIS):%d/%m/%Y à %H:%M}",
        "reason": assignment.exemption_reason,
    }


def exemption_requested_notice(*, assignment: Assignment, asked_by: User) -> int:
    """Tell the owner's active requesters that ``asked_by`` asks to be exempted. Returns the
    rows written (0 when they were already told today about this campaign)."""
    requesters = [
        m.user
        for m in Membership.objects.filter(
            organisation_id=assignment.campaign.owner_id,
            role=Role.REQUESTER,
            user__is_active=True,
            organisation__is_active=True,
        )
        .select_related("user")
        .order_by("user__email")
    ]
    if not requesters:
        return 0
    facts = _facts(assignment)
    return len(
        notify(
            kind="exemption_requested",
            recipients=[Recipient(user=user) for user in requesters],
            subject=f"Demande de dispense à décider : {facts['title']}",
            template=REQUESTED_TEMPLATE,
            context={**facts, "asked_by": asked_by.get_full_name() or asked_by.email},
            link=reverse("surveys:exemption_list"),
            about={"campaign": assignment.campaign_id, "assignments": [assignment.pk]},
            dedup_subject=f"exemption-requested-{assignment.campaign_id}",
        )
    )


def exemption_decided_notice(
    *, assignment: Assignment, asked_by: User | None, accepted: bool, comment: str
) -> int:
    """Tell the respondent who asked (when still active) what was decided. Returns the rows
    written."""
    if asked_by is None or not asked_by.is_active:
        return 0
    facts = _facts(assignment)
    verdict = "accordée" if accepted else "refusée"
    return len(
        notify(
            kind="exemption_decided",
            recipients=[Recipient(user=asked_by)],
            subject=f"Dispense {verdict} : {facts['title']} — {facts['unit']}",
            template=DECIDED_TEMPLATE,
            context={
                **facts,
                "accepted": accepted,
                "comment": comment.strip(),
                "requester": _requester(assignment),
            },
            link=INBOX_PATH,
            about={"campaign": assignment.campaign_id, "assignments": [assignment.pk]},
            dedup_subject=f"exemption-decided-{assignment.pk}",
        )
    )
