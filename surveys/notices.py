"""Who is told what about requests: recipients from the directory, the digest when periods
open, reminders and escalations. ``notifications`` delivers; this module decides.

Recipients of a reporting unit: ``recipients_for_units`` and ``units_without_recipients``,
defined in ``referentials.recipients`` (so that the campaign's sending page can use them) and
re-exported here:

- an establishment: its ACTIVE functional contacts (``referentials.FunctionalContact``),
  verified ones (``verified_on`` set) first. Unverified active contacts are used only for an
  establishment that has no verified active contact: the issue asks for verified addresses,
  but an establishment whose contacts nobody has verified yet must not miss a request (its
  curators see any refusal in the directory). Plus the respondents of its ``establishment``
  organisation (same FINESS ET) and, for a legal entity answering for its sites, the
  respondents of its ``legal_entity`` organisation (the unit's FINESS EJ);
- a professional: the user whose ``ProfessionalClaim`` on that ``national_id`` is verified.

One query per kind (units, contacts, memberships, claims), whatever the number of units.

The digest (``digest_for_opened_periods``, called by ``surveys.campaigns`` in the transaction
that writes the assignments): when periods of a campaign open, every distinct address gets
ONE message listing every new request of that opening for all the units it answers for
(unit, period, due date, link to the inbox).
``dedup_subject`` is ``digest-<campaign>-<period keys>``: an opening is written once per
address whatever retries happen. Each later period of a recurring campaign is announced the
same way, except for a daily one (only its opening is: a message every morning is the flood
this service replaces; those who have not answered get the reminders). Two campaigns opening
the same day make two rows for a recipient: in immediate mode two e-mails (one per opening,
accepted); a recipient who chose the daily digest gets them merged into one e-mail the next
morning at 7:00 by ``notifications``.

Reminders and escalations (``send_reminders``): see its docstring.
"""

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from accounts.models import Membership, Organisation, Role, User
from notifications.services import Message, Recipient, notify, notify_many
from referentials.recipients import recipients_for_units, units_without_recipients
from surveys.models import Assignment, Campaign, CampaignPeriod, Frequency
from surveys.periods import parse_period

PARIS = ZoneInfo("Europe/Paris")
INBOX_PATH = "/collecte/boite-de-reception/"
__all__ = [
    "digest_for_opened_periods",
    "recipients_for_units",
    "send_reminders",
    "units_without_recipients",
]

DIGEST_TEMPLATE = "surveys/emails/digest"
REMINDER_TEMPLATE = "surveys/emails/reminder"
ESCALATION_TEMPLATE = "surveys/emails/escalation"


def _address(recipient: Recipient) -> str:
    email = recipient.email or (recipient.user.email if recipient.user else "")
    return email.strip().lower() or f"user:{recipient.user.pk if recipient.user else ''}"


@dataclass
class _Addressee:
    recipient: Recipient
    unit_ids: set[int] = field(default_factory=set)


def _by_address(unit_recipients: dict[int, list[Recipient]]) -> dict[str, _Addressee]:
    """One entry per distinct address with every unit it answers for (a user wins over a bare
    address that is the same)."""
    addressees: dict[str, _Addressee] = {}
    for unit_id, recipients in unit_recipients.items():
        for recipient in recipients:
            key = _address(recipient)
            entry = addressees.get(key)
            if entry is None:
                entry = addressees[key] = _Addressee(recipient=recipient)
            elif entry.recipient.user is None and recipient.user is not None:
                entry.recipient = recipient
            entry.unit_ids.add(unit_id)
    return addressees


def _due_label(due_at: dt.datetime) -> str:
    return f"{due_at.astimezone(PARIS):%d/%m/%Y à %H:%M}"


def _requester(campaign: Campaign) -> str:
    owner = campaign.owner
    return owner.short_name or owner.name


# --- The digest when periods open ------------------------------------------------------------


def digest_for_opened_periods(*, campaign: Campaign, period_ids: list[int]) -> int:
    """Write one digest outbox row per distinct address for the assignments of ``period_ids``
    (in the caller's transaction). Returns how many rows were written."""
    if (
        campaign.current_frequency == Frequency.DAILY
        and CampaignPeriod.objects.filter(campaign=campaign).exclude(pk__in=period_ids).exists()
    ):
        # A daily campaign is announced when it opens; each next morning's period is not a new
        # request (those who have not answered get the policy's reminders instead).
        return 0
    periods = list(CampaignPeriod.objects.filter(pk__in=period_ids).order_by("start"))
    assignments = list(
        Assignment.objects.filter(campaign=campaign, period_id__in=period_ids)
        .order_by("unit__label", "period__start")
        .values(
            "pk",
            "unit_id",
            "unit__label",
            "unit__finess",
            "unit__national_id",
            "period__key",
            "due_at",
        )
    )
    by_unit: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for row in assignments:
        by_unit[row["unit_id"]].append(dict(row))
    addressees = _by_address(recipients_for_units(by_unit))
    # Addresses answering for the same units receive the same context: one notify per group.
    groups: dict[frozenset[int], list[Recipient]] = defaultdict(list)
    for entry in addressees.values():
        groups[frozenset(entry.unit_ids)].append(entry.recipient)
    requester = _requester(campaign)
    keys = "+".join(p.key for p in periods)
    subject = f"Nouvelle demande de {requester} : {campaign.title}"
    messages = []
    for unit_ids, recipients in groups.items():
        rows = [r for unit_id in sorted(unit_ids) for r in by_unit[unit_id]]
        rows.sort(key=lambda r: (r["unit__label"], r["period__key"]))
        context = {
            "requester": requester,
            "requests": [
                {
                    "title": campaign.title,
                    "unit": r["unit__label"],
                    "identifier": r["unit__finess"] or r["unit__national_id"],
                    "period": parse_period(r["period__key"]).label,
                    "due": _due_label(r["due_at"]),
                }
                for r in rows
            ],
        }
        messages.append(
            Message(
                kind="digest",
                recipients=recipients,
                subject=subject,
                template=DIGEST_TEMPLATE,
                context=context,
                link=INBOX_PATH,
                about={"campaign": campaign.pk, "assignments": [r["pk"] for r in rows]},
                dedup_subject=f"digest-{campaign.pk}-{keys}",
            )
        )
    # One insert and one delivery scheduling for the whole opening, however many groups.
    return len(notify_many(messages))


# --- Reminders and escalations ---------------------------------------------------------------

REMINDER_HOUR = 7  # nothing goes out before 7:00 in Paris (the task runs every 15 minutes)


def _stage(campaign: Campaign, *, due_day: dt.date, today: dt.date) -> str | None:
    """Which reminder of ``campaign``'s policy falls ``today`` for a due day, if any."""
    if campaign.remind_days_before and today == due_day - dt.timedelta(
        days=campaign.remind_days_before
    ):
        return "before"
    if campaign.remind_on_due_day and today == due_day:
        return "due_day"
    if campaign.remind_days_after and today == due_day + dt.timedelta(
        days=campaign.remind_days_after
    ):
        return "after"
    return None


STAGE_INTROS = {
    "before": "L'échéance approche : votre réponse est attendue dans {days} jour(s).",
    "due_day": "Votre réponse est attendue aujourd'hui.",
    "after": "L'échéance est passée et nous n'avons pas encore reçu votre réponse.",
}


def _item(row: dict[str, Any], *, title: str, today: dt.date) -> dict[str, Any]:
    due_day = row["due_at"].astimezone(PARIS).date()
    return {
        "title": title,
        "unit": row["unit__label"],
        "identifier": row["unit__finess"] or row["unit__national_id"],
        "period": parse_period(row["period__key"]).label,
        "due": _due_label(row["due_at"]),
        "late_days": max((today - due_day).days, 0),
    }


_OWED = {"status__in": Assignment.OPEN_STATUSES, "campaign__status": Campaign.Status.OPEN}
_ROW_FIELDS = (
    "pk",
    "unit_id",
    "unit__label",
    "unit__finess",
    "unit__national_id",
    "period__key",
    "due_at",
)


def _day_bounds(day: dt.date) -> tuple[dt.datetime, dt.datetime]:
    start = dt.datetime.combine(day, dt.time(0, 0), tzinfo=PARIS)
    return start, start + dt.timedelta(days=1)


def reminders_due(*, now: dt.datetime) -> int:
    """Remind those who still owe an answer (assignment to do, in progress or late; never a
    submitted or exempted one) on the days of the campaign's policy: ``remind_days_before``
    the due day, the due day itself, ``remind_days_after`` it. One message per recipient and
    campaign per day listing every assignment they owe that falls due on a reminder day
    (``dedup_subject`` ``reminder-<campaign>-<day>``; notify adds the day again): a task run every
    15 minutes or twice writes nothing twice. Returns the rows written."""
    local = now.astimezone(PARIS)
    if local.hour < REMINDER_HOUR:
        return 0
    today = local.date()
    written = 0
    for campaign in Campaign.objects.filter(status=Campaign.Status.OPEN).select_related("owner"):
        days = []
        if campaign.remind_days_before:
            days.append(today + dt.timedelta(days=campaign.remind_days_before))
        if campaign.remind_on_due_day:
            days.append(today)
        if campaign.remind_days_after:
            days.append(today - dt.timedelta(days=campaign.remind_days_after))
        if not days:
            continue
        window = Q()
        for day in days:
            start, end = _day_bounds(day)
            window |= Q(due_at__gte=start, due_at__lt=end)
        rows = list(
            Assignment.objects.filter(window, campaign=campaign, **_OWED)
            .order_by("unit__label", "period__start")
            .values(*_ROW_FIELDS)
        )
        if campaign.remind_on_due_day:
            # The due day's reminder is for the morning: none once the due time has passed.
            rows = [
                r
                for r in rows
                if r["due_at"] > now or r["due_at"].astimezone(PARIS).date() != today
            ]
        if rows:
            written += _remind(campaign, rows, today=today)
    return written


def _remind(campaign: Campaign, rows: list[dict[str, Any]], *, today: dt.date) -> int:
    by_unit: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        by_unit[row["unit_id"]].append(row)
    groups: dict[frozenset[int], list[Recipient]] = defaultdict(list)
    for entry in _by_address(recipients_for_units(by_unit)).values():
        groups[frozenset(entry.unit_ids)].append(entry.recipient)
    requester = _requester(campaign)
    written = 0
    for unit_ids, recipients in groups.items():
        owed = sorted(
            (r for unit_id in unit_ids for r in by_unit[unit_id]),
            key=lambda r: (r["unit__label"], r["period__key"]),
        )
        items = [_item(r, title=campaign.title, today=today) for r in owed]
        stages = []
        for r in owed:
            due_day = r["due_at"].astimezone(PARIS).date()
            stage = _stage(campaign, due_day=due_day, today=today)
            if stage and stage not in stages:
                stages.append(stage)
        intro = " ".join(STAGE_INTROS[s].format(days=campaign.remind_days_before) for s in stages)
        late = any(item["late_days"] for item in items)
        written += len(
            notify(
                kind="reminder",
                recipients=recipients,
                subject=(
                    f"{'Réponse en retard' if late else 'Rappel'} : {campaign.title} ({requester})"
                ),
                template=REMINDER_TEMPLATE,
                context={"requester": requester, "intro": intro, "requests": items},
                link=INBOX_PATH,
                about={"campaign": campaign.pk, "assignments": [r["pk"] for r in owed]},
                dedup_subject=f"reminder-{campaign.pk}-{today.isoformat()}",
            )
        )
    return written


def escalations_due(*, now: dt.datetime) -> int:
    """Tell the requesters of the regional agency about establishments late beyond the
    campaign's ``escalate_after_days``: for a campaign owned by an ARS, its own requesters;
    for a national owner, the requesters of the ARS of each late establishment's region
    (a professional is placed by the region of their unit's territory, when an ARS covers it).
    One message per requester and campaign per day (``escalation-<campaign>-<day>``), listing their
    late establishments. Returns the rows written."""
    local = now.astimezone(PARIS)
    if local.hour < REMINDER_HOUR:
        return 0
    today = local.date()
    written = 0
    for campaign in Campaign.objects.filter(
        status=Campaign.Status.OPEN, escalate_after_days__gt=0
    ).select_related("owner"):
        limit = now - dt.timedelta(days=campaign.escalate_after_days)
        rows = list(
            Assignment.objects.filter(campaign=campaign, due_at__lt=limit, **_OWED)
            .order_by("unit__label", "period__start")
            .values(*_ROW_FIELDS, "unit__establishment__region_code", "unit__territory_code")
        )
        if not rows:
            continue
        owner = campaign.owner
        by_agency: dict[int, list[dict[str, Any]]] = defaultdict(list)
        if owner.kind == Organisation.Kind.REGIONAL_AGENCY:
            by_agency[owner.pk] = rows
        else:
            agencies = list(
                Organisation.objects.filter(
                    kind=Organisation.Kind.REGIONAL_AGENCY, is_active=True
                ).values("pk", "region_code", "covered_territories")
            )
            by_region = {a["region_code"]: a["pk"] for a in agencies}
            by_territory = {t: a["pk"] for a in agencies for t in a["covered_territories"]}
            for row in rows:
                agency = by_region.get(row["unit__establishment__region_code"] or "") or (
                    by_territory.get(row["unit__territory_code"])
                )
                if agency is not None:
                    by_agency[agency].append(row)
        requesters: dict[int, list[User]] = defaultdict(list)
        for membership in (
            Membership.objects.filter(
                organisation_id__in=list(by_agency), role=Role.REQUESTER, user__is_active=True
            )
            .select_related("user")
            .order_by("user__email")
        ):
            requesters[membership.organisation_id].append(membership.user)
        requester = _requester(campaign)
        for agency, late in by_agency.items():
            if not requesters.get(agency):
                continue
            items = [_item(r, title=campaign.title, today=today) for r in late]
            written += len(
                notify(
                    kind="escalation",
                    recipients=[Recipient(user=u) for u in requesters[agency]],
                    subject=(
                        f"{len({r['unit_id'] for r in late})} établissement(s) en retard : "
                        f"{campaign.title}"
                    ),
                    template=ESCALATION_TEMPLATE,
                    context={
                        "requester": requester,
                        "days": campaign.escalate_after_days,
                        "requests": items,
                    },
                    link=reverse("surveys:campaign_detail", kwargs={"pk": campaign.pk}),
                    about={"campaign": campaign.pk, "assignments": [r["pk"] for r in late]},
                    dedup_subject=f"escalation-{campaign.pk}-{today.isoformat()}",
                )
            )
    return written


def send_reminders(*, now: dt.datetime | None = None) -> dict[str, int]:
    """The beat task's service (every 15 minutes): reminders, then escalations."""
    now = now or timezone.now()
    return {"reminders": reminders_due(now=now), "escalations": escalations_due(now=now)}
