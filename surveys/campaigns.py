"""Campaigns: a survey version sent to a fixed audience for one or more periods.

Every change goes through a function here, taking the acting user (``None`` for the beat task)
and recording a ``CampaignEvent`` plus an audit row:

- ``campaign_create`` / ``campaign_update``: a draft, its cadence and its due times;
- ``campaign_schedule`` -> ``campaign_open`` -> ``campaign_close``: the life cycle. Opening
  freezes the version, resolves the audience to a fixed list (``AudienceMember``) and opens the
  periods that have started, writing their assignments in bulk;
- ``periods_open_due``: the periods of an open recurring campaign whose start has come (the beat
  task ``surveys.tasks.open_due_periods`` calls it; running it twice creates nothing twice);
- ``campaign_crisis_switch``: a nominal cadence (monthly) moves to the crisis one (daily) from
  the next period, and back;
- ``assignment_exempt``, ``exemption_request``, ``exemption_decide``: exemptions (a request
  tells the owner's requesters, a decision the respondent who asked: ``exemption_notices``).

Periods and due times: a campaign "once" has one period of ``period_kind`` containing
``start_date``; a recurring one has the periods of its frequency from ``start_date`` to
``end_date``. A period is due ``due_offset_days`` after its last day at ``due_time`` (Europe/Paris)
and locked ``correction_days`` after that.
"""

import datetime as dt
import logging
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from accounts.models import Membership, Organisation, Role, User
from accounts.scoping import scope_for
from accounts.services import audit_record
from referentials.models import ReportingUnit
from surveys import exemption_notices, notices
from surveys.models import (
    Assignment,
    AudienceMember,
    Campaign,
    CampaignEvent,
    CampaignPeriod,
    CampaignReuse,
    Frequency,
    OverlapChoice,
    Survey,
    SurveyVersion,
)
from surveys.periods import Period, PeriodKind, period_of

logger = logging.getLogger(__name__)
PARIS = ZoneInfo("Europe/Paris")
BATCH_SIZE = 2000

# The period a recurring frequency asks about.
FREQUENCY_KIND: dict[str, PeriodKind] = {
    Frequency.DAILY: PeriodKind.DAY,
    Frequency.WEEKLY: PeriodKind.WEEK,
    Frequency.MONTHLY: PeriodKind.MONTH,
    Frequency.QUARTERLY: PeriodKind.QUARTER,
    Frequency.YEARLY: PeriodKind.YEAR,
}
RECURRING = tuple(FREQUENCY_KIND)


class CampaignError(Exception):
    """A campaign change refused; the message (French) says why and what to do."""


# --- Who may act ----------------------------------------------------------------------------------


def requester_organisations(user: User) -> list[Organisation]:
    """Active organisations where ``user`` is a requester."""
    return list(
        Organisation.objects.filter(
            memberships__user_id=user.pk, memberships__role=Role.REQUESTER, is_active=True
        ).distinct()
    )


def is_requester_of(user: User | None, organisation_id: int) -> bool:
    if user is None:
        return False
    return Membership.objects.filter(
        user_id=user.pk,
        organisation_id=organisation_id,
        role=Role.REQUESTER,
        organisation__is_active=True,
    ).exists()


def _require_requester(user: User, campaign: Campaign) -> None:
    if not is_requester_of(user, campaign.owner_id):
        raise CampaignError(
            "Seul un demandeur de l'organisation propriétaire de la campagne peut faire cela."
        )


# --- Periods and due times ------------------------------------------------------------------------


def due_at_for(campaign: Campaign, period: Period) -> dt.datetime:
    """``due_offset_days`` after the period's last day, at ``due_time``, in Europe/Paris."""
    day = period.end + dt.timedelta(days=campaign.due_offset_days)
    return dt.datetime.combine(day, campaign.due_time, tzinfo=PARIS)


def locks_at_for(campaign: Campaign, due_at: dt.datetime) -> dt.datetime:
    return due_at + dt.timedelta(days=campaign.correction_days)


def _today() -> dt.date:
    return timezone.now().astimezone(PARIS).date()


@dataclass(frozen=True)
class Segment:
    """From ``start`` on, the campaign's periods follow ``frequency``."""

    start: dt.date
    frequency: str


def segments(
    campaign: Campaign, *, crisis_events: list[CampaignEvent] | None = None
) -> list[Segment]:
    """The cadence of the campaign over time: nominal, then every crisis switch recorded.

    ``crisis_events``: its crisis events, in order, when the caller read them for many
    campaigns at once (collection.overlaps)."""
    result = [Segment(campaign.start_date, campaign.frequency)]
    if campaign.pk is None:
        return result
    if crisis_events is None:
        crisis_events = list(
            campaign.events.filter(kind=CampaignEvent.Kind.CRISIS).order_by("created_at", "pk")
        )
    for event in crisis_events:
        start = dt.date.fromisoformat(event.details["from"])
        result = [s for s in result if s.start < start]
        result.append(Segment(start, event.details["frequency"]))
    return result


def _kind_on(campaign: Campaign, day: dt.date, plan: list[Segment]) -> PeriodKind:
    if campaign.frequency == Frequency.ONCE:
        return PeriodKind(campaign.period_kind)
    frequency = campaign.frequency
    for segment in plan:
        if segment.start <= day:
            frequency = segment.frequency
    return FREQUENCY_KIND[frequency]


def planned_periods(
    campaign: Campaign,
    *,
    after: dt.date | None = None,
    until: dt.date | None = None,
    plan: list[Segment] | None = None,
) -> list[Period]:
    """The periods the campaign asks, in order: those starting after ``after`` (the last day
    already covered) and no later than ``until`` (and ``end_date``). ``plan``: its
    ``segments``, when the caller has them."""
    if campaign.frequency == Frequency.ONCE:
        period = period_of(campaign.period_kind, campaign.start_date)
        if after is not None and period.start <= after:
            return []
        if until is not None and period.start > until:
            return []
        return [period]
    last = campaign.end_date
    if last is None:
        return []
    if until is not None:
        last = min(last, until)
    plan = segments(campaign) if plan is None else plan
    day = campaign.start_date if after is None else after + dt.timedelta(days=1)
    periods: list[Period] = []
    while True:
        period = period_of(_kind_on(campaign, day, plan), day)
        if period.start < day and (periods or after is not None):
            # A coarser cadence resumes mid-period: it takes over at its next boundary.
            period = period.next()
        if period.start > last:
            return periods
        periods.append(period)
        day = period.end + dt.timedelta(days=1)


def check_schedule(
    campaign: Campaign, *, today: dt.date | None = None, allow_past: bool = False
) -> None:
    """Refuse a cadence that cannot work, in French, before anything is written.

    ``allow_past``: on opening, periods that started meanwhile are opened at once."""
    today = today or _today()
    if campaign.frequency not in Frequency.values:
        raise CampaignError("Fréquence inconnue.")
    if campaign.frequency in RECURRING:
        if campaign.end_date is None:
            raise CampaignError(
                "Une campagne récurrente a besoin d'une date de fin : renseignez « fin »."
            )
        if campaign.period_kind != FREQUENCY_KIND[campaign.frequency]:
            raise CampaignError(
                f"Une campagne « {Frequency(campaign.frequency).label.lower()} » porte sur des "
                f"périodes « {FREQUENCY_KIND[campaign.frequency].value} » : corrigez le type de "
                "période."
            )
    if campaign.end_date is not None and campaign.end_date < campaign.start_date:
        raise CampaignError(
            f"La date de fin ({campaign.end_date:%d/%m/%Y}) précède la date de début "
            f"({campaign.start_date:%d/%m/%Y})."
        )
    if campaign.crisis_frequency:
        if campaign.frequency not in RECURRING or campaign.crisis_frequency not in RECURRING:
            raise CampaignError(
                "La fréquence de crise ne s'applique qu'à une campagne récurrente, et doit "
                "elle-même être récurrente (par exemple « Chaque jour »)."
            )
        if campaign.crisis_frequency == campaign.frequency:
            raise CampaignError("La fréquence de crise doit différer de la fréquence nominale.")
    if campaign.correction_days < 0:
        raise CampaignError("Le délai de correction ne peut pas être négatif.")
    check_reminder_policy(campaign)
    periods = planned_periods(campaign)
    if not periods:
        raise CampaignError("Aucune période entre la date de début et la date de fin.")
    first = periods[0]
    if first.end < today and not allow_past:
        raise CampaignError(
            f"La première période ({first.label}) est entièrement passée : choisissez une date "
            "de début à partir d'aujourd'hui."
        )
    first_start = dt.datetime.combine(first.start, dt.time(0, 0), tzinfo=PARIS)
    if due_at_for(campaign, first) <= first_start:
        raise CampaignError(
            "L'échéance tombe avant le début de la période : augmentez le délai après la fin "
            "de la période (jours) ou l'heure limite."
        )


# Reminder policy (``surveys.notices.send_reminders``): 0 switches a reminder off; beyond these
# bounds a reminder no longer reads as one (a month before, a quarter late).
REMIND_MAX_DAYS = 30
ESCALATE_MAX_DAYS = 90
POLICY_FIELDS = (
    "remind_days_before",
    "remind_on_due_day",
    "remind_days_after",
    "escalate_after_days",
)


def check_reminder_policy(campaign: Campaign) -> None:
    """Refuse a reminder policy out of bounds, in French, saying which value to change."""
    for field, label, limit in (
        ("remind_days_before", "La relance avant l'échéance", REMIND_MAX_DAYS),
        ("remind_days_after", "La relance après l'échéance", REMIND_MAX_DAYS),
        ("escalate_after_days", "Le signalement du retard", ESCALATE_MAX_DAYS),
    ):
        value = getattr(campaign, field)
        if value < 0 or value > limit:
            raise CampaignError(
                f"{label} se compte en jours, de 0 (aucune) à {limit} : vous avez saisi {value}."
            )
    if 0 < campaign.escalate_after_days < campaign.remind_days_after:
        raise CampaignError(
            f"Le retard serait signalé à l'agence régionale ({campaign.escalate_after_days} j) "
            f"avant la relance après l'échéance ({campaign.remind_days_after} j) : allongez le "
            "délai de signalement ou avancez la relance."
        )


# --- Draft ----------------------------------------------------------------------------------------


# What a campaign asks, besides its audience: changing one of these on a draft makes its overlap
# analysis stale (``overlap_reset``).
ASKED_FIELDS = ("unit_kind", "frequency", "period_kind", "start_date", "end_date", "version_id")
OVERLAP_FIELDS = (
    "overlap_choice",
    "overlap_justification",
    "overlap_analysed_at",
    "overlap_decided_by",
    "overlap_summary",
)


def overlap_reset(*, campaign: Campaign, user: User) -> bool:
    """Forget the overlap choice of a draft whose audience, periods or version just changed:
    the choice was made on another analysis, so sending waits for a new one (collection's
    overlap page). Clears the ``overlap_*`` fields, deletes its ``CampaignReuse`` rows and
    withdraws its pending coordination requests. The caller holds the campaign's row lock,
    inside its transaction, and saves nothing else for it. Returns whether a choice was
    forgotten."""
    from surveys.coordination import coordination_withdraw_pending

    had_choice = bool(campaign.overlap_choice)
    reuses, _ = CampaignReuse.objects.filter(campaign=campaign).delete()
    withdrawn = coordination_withdraw_pending(campaign=campaign, user=user)
    if not (had_choice or reuses or withdrawn):
        return False
    campaign.overlap_choice = ""
    campaign.overlap_justification = ""
    campaign.overlap_analysed_at = None
    campaign.overlap_decided_by = None
    campaign.overlap_summary = {}
    campaign.save(update_fields=[*OVERLAP_FIELDS, "updated_at"])
    audit_record(
        actor=user,
        action="campaign.overlap_reset",
        target=campaign,
        details={"reuses": reuses, "coordination_requests": withdrawn},
    )
    return True


def awaits_overlap_choice(campaign: Campaign) -> bool:
    """Whether sending or scheduling must wait for the overlap page (collection.sending):
    no choice recorded yet, or a coordination asked and not answered by a new choice."""
    return campaign.overlap_choice in ("", OverlapChoice.COORDINATE)


def _latest_version(survey: Survey) -> SurveyVersion:
    version = survey.versions.order_by("-number").first()
    if version is None:
        raise CampaignError("Cette enquête n'a encore aucune version : créez-en une d'abord.")
    return version


_EDITABLE = (
    "title",
    "unit_kind",
    "frequency",
    "period_kind",
    "start_date",
    "end_date",
    "due_offset_days",
    "due_time",
    "correction_days",
    "crisis_frequency",
    *POLICY_FIELDS,
)


def _apply(campaign: Campaign, values: dict[str, object]) -> None:
    for field, value in values.items():
        setattr(campaign, field, value)
    if not campaign.title.strip():
        raise CampaignError("Donnez un titre à la campagne.")
    if campaign.unit_kind not in ReportingUnit.Kind.values:
        raise CampaignError("Type de destinataires inconnu.")
    # A recurring campaign asks about the periods of its frequency.
    if campaign.frequency in RECURRING and not campaign.period_kind:
        campaign.period_kind = FREQUENCY_KIND[campaign.frequency]


def campaign_create(
    *,
    survey: Survey,
    owner: Organisation,
    title: str,
    unit_kind: str,
    frequency: str,
    period_kind: str,
    start_date: dt.date,
    end_date: dt.date | None = None,
    due_offset_days: int,
    due_time: dt.time,
    correction_days: int = 30,
    crisis_frequency: str = "",
    remind_days_before: int = 2,
    remind_on_due_day: bool = True,
    remind_days_after: int = 1,
    escalate_after_days: int = 3,
    user: User,
) -> Campaign:
    """A draft campaign asking the survey's latest version, owned by ``owner``."""
    if not is_requester_of(user, owner.pk):
        raise CampaignError(
            "Vous n'êtes pas demandeur de cette organisation : choisissez l'une des vôtres."
        )
    if not is_requester_of(user, survey.owner_id) and survey.owner_id != owner.pk:
        raise CampaignError("Cette enquête appartient à une autre organisation.")
    campaign = Campaign(
        survey=survey, owner=owner, version=_latest_version(survey), created_by=user
    )
    _apply(
        campaign,
        {
            "title": title,
            "unit_kind": unit_kind,
            "frequency": frequency,
            "period_kind": period_kind,
            "start_date": start_date,
            "end_date": end_date,
            "due_offset_days": due_offset_days,
            "due_time": due_time,
            "correction_days": correction_days,
            "crisis_frequency": crisis_frequency,
            "remind_days_before": remind_days_before,
            "remind_on_due_day": remind_on_due_day,
            "remind_days_after": remind_days_after,
            "escalate_after_days": escalate_after_days,
        },
    )
    check_schedule(campaign)
    with transaction.atomic():
        campaign.save()
        _event(campaign, kind=CampaignEvent.Kind.STATUS, to_status=campaign.status, user=user)
        audit_record(actor=user, action="campaign.create", target=campaign)
    return campaign


def campaign_update(
    *,
    campaign: Campaign,
    user: User,
    title: str,
    unit_kind: str,
    frequency: str,
    period_kind: str,
    start_date: dt.date,
    end_date: dt.date | None = None,
    due_offset_days: int,
    due_time: dt.time,
    correction_days: int = 30,
    crisis_frequency: str = "",
    remind_days_before: int | None = None,
    remind_on_due_day: bool | None = None,
    remind_days_after: int | None = None,
    escalate_after_days: int | None = None,
) -> Campaign:
    """Change a draft: its title, cadence, due times and reminder policy (a policy value left
    ``None`` is kept). Its version becomes the latest."""
    _require_requester(user, campaign)
    with transaction.atomic():
        locked = Campaign.objects.select_for_update().get(pk=campaign.pk)
        if locked.status != Campaign.Status.DRAFT:
            raise CampaignError("Seule une campagne en brouillon se modifie.")
        before = {field: str(getattr(locked, field)) for field in _EDITABLE}
        asked_before = {field: getattr(locked, field) for field in ASKED_FIELDS}
        _apply(
            locked,
            {
                "title": title,
                "unit_kind": unit_kind,
                "frequency": frequency,
                "period_kind": period_kind,
                "start_date": start_date,
                "end_date": end_date,
                "due_offset_days": due_offset_days,
                "due_time": due_time,
                "correction_days": correction_days,
                "crisis_frequency": crisis_frequency,
                **{
                    field: value
                    for field, value in (
                        ("remind_days_before", remind_days_before),
                        ("remind_on_due_day", remind_on_due_day),
                        ("remind_days_after", remind_days_after),
                        ("escalate_after_days", escalate_after_days),
                    )
                    if value is not None
                },
            },
        )
        if before["unit_kind"] != locked.unit_kind:
            # Establishment criteria mean nothing for professionals, and the other way round.
            locked.audience_filters = {}
            locked.audience_size = 0
        locked.version = _latest_version(locked.survey)
        check_schedule(locked)
        locked.save()
        changed = {
            field: [before[field], str(getattr(locked, field))]
            for field in _EDITABLE
            if before[field] != str(getattr(locked, field))
        }
        details: dict[str, object] = {"changed": changed}
        if asked_before != {field: getattr(locked, field) for field in ASKED_FIELDS}:
            # What is asked changed: the overlap choice was made on another analysis.
            details["overlap_reset"] = overlap_reset(campaign=locked, user=user)
        _event(locked, kind=CampaignEvent.Kind.EDIT, user=user, details=details)
        audit_record(actor=user, action="campaign.update", target=locked, details=changed)
    return locked


# --- Life cycle -----------------------------------------------------------------------------------


def _event(
    campaign: Campaign,
    *,
    kind: str,
    user: User | None,
    from_status: str = "",
    to_status: str = "",
    comment: str = "",
    details: dict[str, object] | None = None,
) -> CampaignEvent:
    return CampaignEvent.objects.create(
        campaign=campaign,
        kind=kind,
        actor=user,
        from_status=from_status,
        to_status=to_status,
        comment=comment,
        details=details or {},
    )


def _check_audience_not_empty(campaign: Campaign) -> None:
    from surveys import audience

    if not campaign.audience_filters:
        raise CampaignError(
            "L'audience est vide : choisissez des destinataires sur la page « Audience »."
        )
    count = audience.audience_count(
        filters=campaign.audience_filters, unit_kind=campaign.unit_kind, owner=campaign.owner
    )
    if count == 0:
        raise CampaignError(
            "L'audience ne contient aucun destinataire : élargissez les critères sur la page "
            "« Audience »."
        )


def campaign_schedule(*, campaign: Campaign, opens_at: dt.datetime, user: User) -> Campaign:
    """Program the opening of a draft at ``opens_at`` (the beat task opens it then)."""
    _require_requester(user, campaign)
    if timezone.is_naive(opens_at):
        opens_at = opens_at.replace(tzinfo=PARIS)
    if opens_at <= timezone.now():
        raise CampaignError("La date d'ouverture programmée doit être dans le futur.")
    with transaction.atomic():
        locked = Campaign.objects.select_for_update().get(pk=campaign.pk)
        if locked.status != Campaign.Status.DRAFT:
            raise CampaignError("Seule une campagne en brouillon se programme.")
        check_schedule(locked, today=opens_at.astimezone(PARIS).date())
        _check_audience_not_empty(locked)
        locked.status = Campaign.Status.SCHEDULED
        locked.scheduled_for = opens_at
        locked.save(update_fields=["status", "scheduled_for", "updated_at"])
        _event(
            locked,
            kind=CampaignEvent.Kind.STATUS,
            user=user,
            from_status=Campaign.Status.DRAFT,
            to_status=Campaign.Status.SCHEDULED,
            details={"opens_at": opens_at.isoformat()},
        )
        audit_record(
            actor=user,
            action="campaign.schedule",
            target=locked,
            details={"opens_at": opens_at.isoformat()},
        )
    return locked


def _freeze(version: SurveyVersion, user: User | None) -> None:
    from surveys.builder import BuilderError, freeze_version

    try:
        freeze_version(version=version, user=user)
    except BuilderError as error:
        raise CampaignError(str(error)) from error


def _resolve_units(campaign: Campaign) -> list[int]:
    from surveys import audience

    try:
        return list(audience.resolve_units(campaign=campaign))
    except audience.AudienceError as error:
        raise CampaignError(str(error)) from error


def campaign_open(
    *, campaign: Campaign, user: User | None, now: dt.datetime | None = None
) -> Campaign:
    """Send: freeze the version, fix the audience, open the periods that have started.

    ``user`` is None when the beat task opens a scheduled campaign. One transaction: either
    every assignment is written or none.
    """
    if user is not None:
        _require_requester(user, campaign)
    now = now or timezone.now()
    today = now.astimezone(PARIS).date()
    with transaction.atomic():
        locked = (
            Campaign.objects.select_for_update()
            .select_related("version", "owner")
            .get(pk=campaign.pk)
        )
        if locked.status not in (Campaign.Status.DRAFT, Campaign.Status.SCHEDULED):
            raise CampaignError("La campagne est déjà ouverte ou clôturée.")
        check_schedule(locked, today=today, allow_past=True)
        from_status = locked.status
        unit_ids = _resolve_units(locked)
        _freeze(locked.version, user)
        if not unit_ids:
            raise CampaignError(
                "L'audience ne contient aucun destinataire : élargissez les critères."
            )
        AudienceMember.objects.filter(campaign=locked).delete()
        _insert_members(locked, unit_ids)
        locked.status = Campaign.Status.OPEN
        locked.opened_at = now
        locked.audience_size = len(unit_ids)
        locked.save(update_fields=["status", "opened_at", "audience_size", "updated_at"])
        _event(
            locked,
            kind=CampaignEvent.Kind.STATUS,
            user=user,
            from_status=from_status,
            to_status=Campaign.Status.OPEN,
            comment="" if user is not None else "Ouverture programmée",
            details={"audience_size": len(unit_ids), "version": locked.version.number},
        )
        created = _open_periods(locked, today=today, user=user)
        audit_record(
            actor=user,
            action="campaign.open",
            target=locked,
            details={"audience_size": len(unit_ids), "assignments": created},
        )
    return locked


def _insert_members(campaign: Campaign, unit_ids: list[int]) -> None:
    """The fixed audience, in one statement on PostgreSQL (an array unnested), in batches
    elsewhere."""
    if connection.vendor == "postgresql":
        table = AudienceMember._meta.db_table
        with connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {table} (campaign_id, unit_id) "
                "SELECT %s, unnest(%s::bigint[]) ON CONFLICT DO NOTHING",
                [campaign.pk, unit_ids],
            )
        return
    AudienceMember.objects.bulk_create(
        (AudienceMember(campaign=campaign, unit_id=unit_id) for unit_id in unit_ids),
        batch_size=BATCH_SIZE,
        ignore_conflicts=True,
    )


def _insert_assignments(campaign: Campaign, period: CampaignPeriod) -> int:
    """One assignment per audience member for ``period``: one INSERT ... SELECT from the
    audience, inside the database (no row travels through Python). Existing ones are kept
    (``ON CONFLICT DO NOTHING`` on the unique campaign, period, unit): running twice writes
    nothing twice. Returns how many rows were written."""
    table = Assignment._meta.db_table
    members = AudienceMember._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (campaign_id, period_id, unit_id, version_id, status, due_at, "  # noqa: S608
            "exemption_reason, revision, updated_at) "
            f"SELECT %s, %s, unit_id, %s, %s, %s, '', 0, %s FROM {members} "
            "WHERE campaign_id = %s ON CONFLICT DO NOTHING",
            [
                campaign.pk,
                period.pk,
                period.version_id,
                Assignment.Status.TODO.value,
                connection.ops.adapt_datetimefield_value(period.due_at),
                connection.ops.adapt_datetimefield_value(timezone.now()),
                campaign.pk,
            ],
        )
        return max(cursor.rowcount, 0)


def _open_periods(campaign: Campaign, *, today: dt.date, user: User | None) -> int:
    """Create the periods that have started and their assignments; return how many
    assignments were written. The caller holds the campaign's row lock."""
    last_end = max(campaign.periods.values_list("end", flat=True), default=None)
    periods = planned_periods(campaign, after=last_end, until=today)
    total = 0
    opened_period_ids: list[int] = []
    for period in periods:
        due_at = due_at_for(campaign, period)
        row, _ = CampaignPeriod.objects.get_or_create(
            campaign=campaign,
            key=period.key,
            defaults={
                "kind": period.kind,
                "start": period.start,
                "end": period.end,
                "due_at": due_at,
                "locks_at": locks_at_for(campaign, due_at),
                "version": campaign.version,
            },
        )
        written = _insert_assignments(campaign, row)
        total += written
        if written:
            opened_period_ids.append(row.pk)
        _event(
            campaign,
            kind=CampaignEvent.Kind.PERIOD,
            user=user,
            comment=f"Période ouverte : {period.label}",
            details={"period": period.key, "assignments": written},
        )
    if opened_period_ids:
        # In the same transaction: the digests' outbox rows commit or roll back with them.
        notices.digest_for_opened_periods(campaign=campaign, period_ids=opened_period_ids)
    return total


def periods_open_due(*, campaign: Campaign, now: dt.datetime | None = None) -> int:
    """Open the periods of an open campaign whose start has come (idempotent)."""
    today = (now or timezone.now()).astimezone(PARIS).date()
    with transaction.atomic():
        locked = Campaign.objects.select_for_update().get(pk=campaign.pk)
        if locked.status != Campaign.Status.OPEN:
            return 0
        return _open_periods(locked, today=today, user=None)


def campaign_close(*, campaign: Campaign, user: User | None) -> Campaign:
    """Close an open (or scheduled) campaign: no period opens any more."""
    if user is not None:
        _require_requester(user, campaign)
    with transaction.atomic():
        locked = Campaign.objects.select_for_update().get(pk=campaign.pk)
        if locked.status not in (Campaign.Status.OPEN, Campaign.Status.SCHEDULED):
            raise CampaignError("Seule une campagne ouverte ou programmée se clôture.")
        from_status = locked.status
        locked.status = Campaign.Status.CLOSED
        locked.closed_at = timezone.now()
        locked.save(update_fields=["status", "closed_at", "updated_at"])
        _event(
            locked,
            kind=CampaignEvent.Kind.STATUS,
            user=user,
            from_status=from_status,
            to_status=Campaign.Status.CLOSED,
            comment="" if user is not None else "Clôture automatique après la dernière période",
        )
        audit_record(actor=user, action="campaign.close", target=locked)
    return locked


def is_finished(campaign: Campaign, *, now: dt.datetime) -> bool:
    """No period left to open and the last one locked."""
    last = campaign.periods.order_by("-end").first()
    if last is None or last.locks_at > now:
        return False
    return not planned_periods(campaign, after=last.end)


def campaign_crisis_switch(*, campaign: Campaign, on: bool, user: User, comment: str) -> Campaign:
    """Move a recurring campaign to its crisis frequency (``on``) or back, from the next period.

    Periods already open stay as they are. Going to a finer cadence starts the day after the
    last open period; going back to a coarser one waits for its next boundary (the crisis
    cadence goes on until then), so that no day is left unasked.
    """
    _require_requester(user, campaign)
    if not comment.strip():
        raise CampaignError("Expliquez la bascule dans le commentaire : il est conservé.")
    with transaction.atomic():
        locked = Campaign.objects.select_for_update().get(pk=campaign.pk)
        if locked.status == Campaign.Status.CLOSED:
            raise CampaignError("La campagne est clôturée.")
        if not locked.crisis_frequency:
            raise CampaignError(
                "Cette campagne n'a pas de fréquence de crise : renseignez-la avant de basculer."
            )
        if locked.in_crisis == on:
            raise CampaignError(
                "La campagne est déjà en mode crise." if on else "La campagne n'est pas en crise."
            )
        frequency = locked.crisis_frequency if on else locked.frequency
        last_end = max(locked.periods.values_list("end", flat=True), default=None)
        first_day = (
            last_end + dt.timedelta(days=1)
            if last_end is not None
            else max(locked.start_date, _today())
        )
        period = period_of(FREQUENCY_KIND[frequency], first_day)
        start = period.start if period.start >= first_day else period.next().start
        locked.in_crisis = on
        locked.save(update_fields=["in_crisis", "updated_at"])
        details = {"on": on, "frequency": frequency, "from": start.isoformat()}
        _event(locked, kind=CampaignEvent.Kind.CRISIS, user=user, comment=comment, details=details)
        audit_record(actor=user, action="campaign.crisis_switch", target=locked, details=details)
    return locked


# --- Exemptions -----------------------------------------------------------------------------------


def _exemption_event(
    assignment: Assignment, *, user: User, comment: str, details: dict[str, object]
) -> None:
    _event(
        assignment.campaign,
        kind=CampaignEvent.Kind.EXEMPTION,
        user=user,
        comment=comment,
        details={"assignment": assignment.pk, "unit": assignment.unit_id, **details},
    )


def assignment_exempt(*, assignment: Assignment, reason: str, user: User) -> Assignment:
    """A requester of the owner exempts a unit from one period's answer."""
    if not is_requester_of(user, assignment.campaign.owner_id):
        raise CampaignError("Seul un demandeur de l'organisation propriétaire peut dispenser.")
    if not reason.strip():
        raise CampaignError("Le motif de la dispense est obligatoire.")
    with transaction.atomic():
        locked = Assignment.objects.select_for_update().get(pk=assignment.pk)
        if locked.status in (Assignment.Status.SUBMITTED, Assignment.Status.EXEMPTED):
            raise CampaignError("Cette demande est déjà transmise ou dispensée.")
        locked.status = Assignment.Status.EXEMPTED
        locked.exemption_reason = reason.strip()
        locked.exempted_at = timezone.now()
        locked.exempted_by = user
        locked.save(
            update_fields=["status", "exemption_reason", "exempted_at", "exempted_by", "updated_at"]
        )
        _exemption_event(locked, user=user, comment=reason.strip(), details={"decision": "exempt"})
        audit_record(
            actor=user, action="assignment.exempt", target=locked, details={"reason": reason}
        )
    return locked


def can_answer_for(user: User, assignment: Assignment) -> bool:
    """Whether ``user`` is a respondent for the assignment's unit."""
    scope = scope_for(user, roles=[Role.RESPONDENT])
    if scope.is_empty:
        return False
    return Assignment.objects.filter(scope.units_q("unit__"), pk=assignment.pk).exists()


def exemption_request(*, assignment: Assignment, reason: str, user: User) -> Assignment:
    """A respondent asks to be exempted from an assignment, with a reason."""
    if not can_answer_for(user, assignment):
        raise CampaignError("Vous ne répondez pas pour cet établissement.")
    if not reason.strip():
        raise CampaignError("Expliquez pourquoi vous demandez une dispense.")
    with transaction.atomic():
        locked = Assignment.objects.select_for_update().get(pk=assignment.pk)
        if locked.status in (Assignment.Status.SUBMITTED, Assignment.Status.EXEMPTED):
            raise CampaignError("Cette demande est déjà transmise ou dispensée.")
        if locked.exemption_requested_at is not None:
            raise CampaignError("Une demande de dispense est déjà en attente de décision.")
        locked.exemption_reason = reason.strip()
        locked.exemption_requested_at = timezone.now()
        locked.exemption_requested_by = user
        locked.save(
            update_fields=[
                "exemption_reason",
                "exemption_requested_at",
                "exemption_requested_by",
                "updated_at",
            ]
        )
        _exemption_event(locked, user=user, comment=reason.strip(), details={"decision": "request"})
        audit_record(actor=user, action="assignment.exemption_request", target=locked)
        exemption_notices.exemption_requested_notice(assignment=locked, asked_by=user)
    return locked


def pending_exemptions_q() -> dict[str, object]:
    return {"exemption_requested_at__isnull": False, "status__in": Assignment.OPEN_STATUSES}


def exemption_decide(
    *, assignment: Assignment, accept: bool, user: User, comment: str
) -> Assignment:
    """A requester accepts (the assignment is exempted) or refuses (it is owed again) a request."""
    if not is_requester_of(user, assignment.campaign.owner_id):
        raise CampaignError(
            "Seul un demandeur de l'organisation propriétaire décide des dispenses."
        )
    if not accept and not comment.strip():
        raise CampaignError("Expliquez le refus dans le commentaire : le répondant le lira.")
    with transaction.atomic():
        locked = Assignment.objects.select_for_update().get(pk=assignment.pk)
        if locked.exemption_requested_at is None or locked.status not in Assignment.OPEN_STATUSES:
            raise CampaignError("Aucune demande de dispense en attente pour cette demande.")
        asked_by = locked.exemption_requested_by  # cleared below on a refusal
        fields = ["updated_at", "exemption_requested_at", "exemption_requested_by"]
        if accept:
            locked.status = Assignment.Status.EXEMPTED
            locked.exempted_at = timezone.now()
            locked.exempted_by = user
            fields += ["status", "exempted_at", "exempted_by"]
        else:
            # The request is answered: it leaves the list; the event keeps it.
            locked.exemption_requested_at = None
            locked.exemption_requested_by = None
        if not accept:
            locked.save(update_fields=fields)
        else:
            locked.save(update_fields=[f for f in fields if not f.startswith("exemption_req")])
        _exemption_event(
            locked,
            user=user,
            comment=comment.strip(),
            details={
                "decision": "accepted" if accept else "refused",
                "reason": locked.exemption_reason,
            },
        )
        audit_record(
            actor=user,
            action="assignment.exemption_accept" if accept else "assignment.exemption_refuse",
            target=locked,
            details={"comment": comment},
        )
        exemption_notices.exemption_decided_notice(
            assignment=locked, asked_by=asked_by, accepted=accept, comment=comment
        )
    return locked


# --- The beat -------------------------------------------------------------------------------------


def campaigns_tick(*, now: dt.datetime | None = None) -> dict[str, int]:
    """Open the scheduled campaigns whose time has come, open the periods that have started,
    mark late what is past due, close what is finished (the beat task, every few minutes).

    Idempotent: a second run right after the first changes nothing (periods are unique per
    campaign and key, assignments per campaign, period and unit).
    """
    now = now or timezone.now()
    counts = {"opened": 0, "assignments": 0, "late": 0, "closed": 0, "failed": 0}
    for campaign in Campaign.objects.filter(
        status=Campaign.Status.SCHEDULED, scheduled_for__lte=now
    ).order_by("scheduled_for", "pk"):
        try:
            campaign_open(campaign=campaign, user=None, now=now)
        except Exception:
            # One campaign that cannot open (its audience emptied, a bug) must not stop the
            # others: it is logged, counted, and tried again at the next run.
            logger.exception("Ouverture programmée impossible de la campagne %s", campaign.pk)
            counts["failed"] += 1
            continue
        counts["opened"] += 1
    for campaign in Campaign.objects.filter(status=Campaign.Status.OPEN).order_by("pk"):
        try:
            counts["assignments"] += periods_open_due(campaign=campaign, now=now)
        except Exception:
            logger.exception("Ouverture des périodes impossible pour la campagne %s", campaign.pk)
            counts["failed"] += 1
    counts["late"] = Assignment.objects.filter(
        Q(status=Assignment.Status.TODO) | Q(status=Assignment.Status.IN_PROGRESS),
        campaign__status=Campaign.Status.OPEN,
        due_at__lt=now,
    ).update(status=Assignment.Status.LATE, updated_at=now)
    for campaign in Campaign.objects.filter(status=Campaign.Status.OPEN).order_by("pk"):
        if is_finished(campaign, now=now):
            try:
                campaign_close(campaign=campaign, user=None)
            except Exception:
                logger.exception("Clôture impossible de la campagne %s", campaign.pk)
                counts["failed"] += 1
                continue
            counts["closed"] += 1
    return counts
