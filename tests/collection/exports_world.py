"""A small world for export tests: a DGOS campaign asked of three hospitals in three regions.

Values are written straight into the store (the channels' write path is tested elsewhere) so
that each test knows every cell: a text answer « =1+1 », a stored negative number, an ad-hoc
question, and values the campaign does not owe (another period, a definition it does not ask).
"""

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.utils import timezone

from collection.models import Value
from surveys.models import Campaign, CampaignPeriod
from surveys.periods import period_of
from tests.collection.answering import assignment, campaign, unit_of
from tests.referentials.factories_dictionary import DefinitionFactory
from tests.surveys.factories import QuestionFactory

DAY = dt.date(2026, 3, 2)
CHANGED_AT = dt.datetime(2026, 3, 2, 10, 30)


def put(unit, definition=None, *, data, number=None, code="", survey=None, day=DAY, campaign_=None):
    period = period_of("day", day)
    return Value.objects.create(
        unit=unit,
        definition=definition,
        survey=survey,
        code=definition.code if definition is not None else code,
        period_kind="day",
        period_key=period.key,
        period_start=period.start,
        period_end=period.end,
        data=data,
        number=number,
        campaign=campaign_,
        channel="form",
        changed_at=timezone.make_aware(CHANGED_AT),
    )


@dataclass
class World:
    campaign: Campaign
    period: CampaignPeriod
    beds: object
    notes: object
    paris: object
    cayenne: object
    clinic: object


def world(cast) -> World:
    dgos = cast.national_requester.memberships.get().organisation
    beds = DefinitionFactory(
        code="lits_rea_ouverts",
        label="Lits de réanimation ouverts",
        unit="lits",
        doctrine="Lits armés et dotés en personnel, à 8 h.",
    )
    notes = DefinitionFactory(
        code="observations", label="Observations", value_type="text", unit="", minimum=None
    )
    not_asked = DefinitionFactory(code="lits_rea_occupes", label="Lits occupés")
    c = campaign(owner=dgos, definitions=[beds, notes], title="Capacités de réanimation")
    QuestionFactory(
        section=c.version.sections.get(),
        code="remarque_locale",
        label="Remarque locale",
        value_type="text",
        help_text="Ce que l'établissement veut signaler.",
    )
    paris = unit_of(cast.paris_hospital)
    cayenne = unit_of(cast.cayenne_hospital)
    clinic = unit_of(cast.pointe_a_pitre_clinic)
    for unit in (paris, cayenne, clinic):
        assignment(c, unit, day=DAY)
    put(paris, beds, data="12", number=Decimal(12), campaign_=c)
    put(paris, notes, data="=1+1", campaign_=c)
    put(cayenne, beds, data="-2", number=Decimal(-2), campaign_=c)
    put(cayenne, notes, data="@SUM(A1:A2)", campaign_=c)
    put(clinic, beds, data="30.5", number=Decimal("30.5"))  # declared through another campaign
    put(clinic, code="remarque_locale", survey=c.survey, data="-2")
    # Not owed by the campaign: another day, a definition it does not ask.
    put(paris, beds, data="99", number=Decimal(99), day=DAY + dt.timedelta(days=1))
    put(paris, not_asked, data="7", number=Decimal(7))
    return World(
        campaign=c,
        period=CampaignPeriod.objects.get(campaign=c),
        beds=beds,
        notes=notes,
        paris=paris,
        cayenne=cayenne,
        clinic=clinic,
    )
