"""Factories of surveys, campaigns and assignments (rows written directly, for set-ups).

Services (``surveys.builder``, ``surveys.campaigns``) are what the product uses; these only
build the state a test starts from.
"""

import datetime as dt

import factory
from django.utils import timezone

from referentials.models import ReportingUnit
from surveys.models import (
    Assignment,
    Campaign,
    CampaignPeriod,
    LegalBasis,
    Question,
    Section,
    Survey,
    SurveyVersion,
)
from surveys.periods import period_of
from tests.accounts.factories import dgos
from tests.referentials.factories import EstablishmentFactory


class SurveyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Survey

    # Always the same DGOS, so that a test can look it up by its short name.
    owner = factory.LazyFunction(dgos)


class SurveyVersionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SurveyVersion

    survey = factory.SubFactory(SurveyFactory)
    number = 1
    title = factory.Sequence(lambda n: f"Enquête {n}")
    purpose = "Suivre les capacités hospitalières pendant la crise."
    legal_basis = LegalBasis.PUBLIC_INTEREST
    status = SurveyVersion.Status.FROZEN


class SectionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Section

    version = factory.SubFactory(SurveyVersionFactory)
    title = "Capacités"
    order = factory.Sequence(lambda n: n)


class QuestionFactory(factory.django.DjangoModelFactory):
    """Bound to ``definition`` when given (its code becomes the question's), else ad hoc."""

    class Meta:
        model = Question

    section = factory.SubFactory(SectionFactory)
    version = factory.LazyAttribute(lambda o: o.section.version)
    order = factory.Sequence(lambda n: n)
    definition = None
    code = factory.LazyAttributeSequence(
        lambda o, n: o.definition.code if o.definition is not None else f"question_{n}"
    )
    label = factory.LazyAttribute(lambda o: "" if o.definition is not None else "Question libre")
    value_type = factory.LazyAttribute(lambda o: "" if o.definition is not None else "integer")


class ReportingUnitFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ReportingUnit
        django_get_or_create = ["establishment"]

    kind = ReportingUnit.Kind.ESTABLISHMENT
    establishment = factory.SubFactory(EstablishmentFactory)
    label = factory.LazyAttribute(lambda o: o.establishment.name)
    territory_code = factory.LazyAttribute(lambda o: o.establishment.territory_code)
    legal_entity_finess = factory.LazyAttribute(lambda o: o.establishment.legal_entity.finess)
    finess = factory.LazyAttribute(lambda o: o.establishment.finess)


class CampaignFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Campaign

    version = factory.SubFactory(SurveyVersionFactory)
    survey = factory.LazyAttribute(lambda o: o.version.survey)
    owner = factory.LazyAttribute(lambda o: o.version.survey.owner)
    title = factory.LazyAttribute(lambda o: o.version.title)
    status = Campaign.Status.OPEN
    frequency = "daily"
    period_kind = "day"
    start_date = factory.LazyFunction(lambda: timezone.localdate())
    due_time = dt.time(14, 0)
    opened_at = factory.LazyFunction(timezone.now)


class CampaignPeriodFactory(factory.django.DjangoModelFactory):
    """The campaign's period containing ``day`` (today by default), due at 14:00 that day."""

    class Meta:
        model = CampaignPeriod
        django_get_or_create = ["campaign", "key"]

    class Params:
        day = factory.LazyFunction(timezone.localdate)

    campaign = factory.SubFactory(CampaignFactory)
    kind = factory.LazyAttribute(lambda o: o.campaign.period_kind)
    key = factory.LazyAttribute(lambda o: period_of(o.kind, o.day).key)
    start = factory.LazyAttribute(lambda o: period_of(o.kind, o.day).start)
    end = factory.LazyAttribute(lambda o: period_of(o.kind, o.day).end)
    due_at = factory.LazyAttribute(
        lambda o: timezone.make_aware(dt.datetime.combine(o.end, o.campaign.due_time))
    )
    locks_at = factory.LazyAttribute(lambda o: o.due_at + dt.timedelta(days=30))
    version = factory.LazyAttribute(lambda o: o.campaign.version)


class AssignmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Assignment

    period = factory.SubFactory(CampaignPeriodFactory)
    campaign = factory.LazyAttribute(lambda o: o.period.campaign)
    unit = factory.SubFactory(ReportingUnitFactory)
    version = factory.LazyAttribute(lambda o: o.period.version)
    due_at = factory.LazyAttribute(lambda o: o.period.due_at)
