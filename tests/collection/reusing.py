"""Set-ups for the reuse tests: a source campaign whose answers serve another campaign."""

import datetime as dt
from decimal import Decimal

from django.utils import timezone

from collection.models import Value
from surveys.models import AudienceMember, CampaignReuse, OverlapChoice
from surveys.periods import Period, period_of
from tests.collection import answering
from tests.referentials.factories_dictionary import DefinitionFactory
from tests.surveys.factories import AssignmentFactory, CampaignPeriodFactory

WEEK_DAY = dt.date(2026, 12, 2)  # in 2026-W49 (30/11 to 06/12) and in December 2026


def definition(code: str, aggregation: str, **kwargs):
    return DefinitionFactory(
        code=code,
        label=kwargs.pop("label", code.replace("_", " ").capitalize()),
        value_type=kwargs.pop("value_type", "integer"),
        time_aggregation=aggregation,
        minimum=Decimal(0),
        maximum=Decimal(100000),
        **kwargs,
    )


def source_campaign(definitions, units, *, kind="day", start=dt.date(2026, 11, 1), end=None, **kw):
    """A campaign asking ``definitions`` of ``units`` (its audience), one period of ``kind``
    after another from ``start`` (open-ended without ``end``)."""
    frequency = {"day": "daily", "week": "weekly", "month": "monthly"}[kind]
    campaign = answering.campaign(
        definitions=definitions,
        frequency=frequency,
        period_kind=kind,
        start_date=start,
        end_date=end,
        **kw,
    )
    AudienceMember.objects.bulk_create(AudienceMember(campaign=campaign, unit=u) for u in units)
    return campaign


def reusing_campaign(definitions, reused, *, source=None, kind="week", **kw):
    """A campaign asking ``definitions`` that chose to reuse ``reused`` (from ``source``)."""
    frequency = {"day": "daily", "week": "weekly", "month": "monthly"}[kind]
    campaign = answering.campaign(
        definitions=definitions,
        frequency=frequency,
        period_kind=kind,
        start_date=dt.date(2026, 11, 1),
        end_date=dt.date(2027, 6, 30),
        overlap_choice=OverlapChoice.REUSE,
        **kw,
    )
    for item in reused:
        CampaignReuse.objects.create(campaign=campaign, definition=item, source=source)
    return campaign


def assignment_for(campaign, unit, day=WEEK_DAY):
    """The unit's assignment for the period containing ``day``, open for answers whatever the
    date the tests run (the period locks a year from now)."""
    AudienceMember.objects.get_or_create(campaign=campaign, unit=unit)
    period = CampaignPeriodFactory(
        campaign=campaign, day=day, locks_at=timezone.now() + dt.timedelta(days=365)
    )
    return AssignmentFactory(period=period, unit=unit)


def store(unit, definition, period: Period, data, *, campaign=None) -> Value:
    """A value as a channel would have written it."""
    return Value.objects.create(
        unit=unit,
        definition=definition,
        code=definition.code,
        period_kind=period.kind.value,
        period_key=period.key,
        period_start=period.start,
        period_end=period.end,
        data=data,
        number=Decimal(data) if data is not None else None,
        channel="form",
        changed_at=timezone.now(),
        campaign=campaign,
    )


def days_of(day: dt.date, kind: str = "week") -> list[Period]:
    return period_of(kind, day).sub_periods(period_of("day", day).kind)
