"""Set-ups shared by the quality and queries tests, the access matrix and the browser journey:
a daily campaign of the DGOS asking occupied beds (capped by the authorised beds the unit
declared), answered by the Pitié (Paris) and the Ehpad Edmar Lama (Cayenne), each with a
history of previous days."""

import datetime as dt
from decimal import Decimal

from django.utils import timezone

from accounts.models import Organisation
from collection.models import Channel, Value, ValueRevision
from referentials.units import unit_for_establishment
from surveys.periods import PeriodKind, period_of
from tests.referentials.factories_dictionary import DefinitionFactory
from tests.surveys.factories import (
    AssignmentFactory,
    CampaignFactory,
    CampaignPeriodFactory,
    QuestionFactory,
    SectionFactory,
    SurveyFactory,
    SurveyVersionFactory,
)


def definitions():
    authorised = DefinitionFactory(
        code="lits_autorises", label="Lits autorisés", value_type="integer", minimum=0
    )
    occupied = DefinitionFactory(
        code="lits_occupes",
        label="Lits occupés",
        value_type="integer",
        minimum=0,
        maximum=Decimal(5000),
        directory_maximum="lits_autorises",
    )
    return occupied, authorised


def campaign(owner: Organisation, *, title: str = "Lits occupés, chaque jour", definition=None):
    definition = definition or definitions()[0]
    version = SurveyVersionFactory(survey=SurveyFactory(owner=owner), title=title)
    QuestionFactory(section=SectionFactory(version=version), definition=definition)
    return CampaignFactory(version=version, title=title)


def assignment(campaign_, establishment, *, day: dt.date | None = None):
    period = CampaignPeriodFactory(campaign=campaign_, day=day or timezone.localdate())
    return AssignmentFactory(period=period, unit=unit_for_establishment(establishment))


def put(
    unit,
    definition,
    day: dt.date,
    number: int | str,
    *,
    comment: str = "",
    campaign_=None,
    assignment_=None,
) -> Value:
    """A stored value of ``unit`` for the day ``day``, with its first revision."""
    period = period_of(PeriodKind.DAY, day)
    existing = Value.objects.filter(unit=unit, definition=definition, period_key=period.key).first()
    if existing is not None:  # a shared value: another campaign reads the same row
        return existing
    now = timezone.now()
    value = Value.objects.create(
        unit=unit,
        definition=definition,
        code=definition.code,
        period_kind=period.kind.value,
        period_key=period.key,
        period_start=period.start,
        period_end=period.end,
        data=str(number),
        number=Decimal(str(number)),
        comment=comment,
        campaign=campaign_,
        assignment=assignment_,
        channel=Channel.FORM,
        changed_at=now,
    )
    ValueRevision.objects.create(
        value=value,
        number=1,
        new_data=value.data,
        new_status=value.status,
        comment=comment,
        channel=Channel.FORM,
        campaign=campaign_,
        assignment=assignment_,
        changed_at=now,
    )
    return value


def history(unit, definition, numbers, *, today: dt.date | None = None) -> None:
    """``numbers`` on the days before ``today``, the last one yesterday."""
    today = today or timezone.localdate()
    for offset, number in enumerate(reversed(list(numbers)), start=1):
        put(unit, definition, today - dt.timedelta(days=offset), number)


def answered(campaign_, establishment, definition, number, *, comment: str = "") -> Value:
    """Today's assignment of ``establishment`` in ``campaign_``, answered with ``number``."""
    given = assignment(campaign_, establishment)
    return put(
        given.unit,
        definition,
        timezone.localdate(),
        number,
        comment=comment,
        campaign_=campaign_,
        assignment_=given,
    )
