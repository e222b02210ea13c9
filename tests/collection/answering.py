"""Set-ups shared by the inbox and the answering API tests: a survey with two bound questions
and a rule, campaigns from two requesters, assignments to the cast's units."""

import datetime as dt
from decimal import Decimal

from django.utils import timezone

from accounts import api_keys
from accounts.models import Organisation
from referentials.models import ReportingUnit
from surveys.models import Campaign
from tests.referentials.factories_dictionary import DefinitionFactory, RuleFactory
from tests.surveys.factories import (
    AssignmentFactory,
    CampaignFactory,
    CampaignPeriodFactory,
    QuestionFactory,
    ReportingUnitFactory,
    SectionFactory,
    SurveyFactory,
    SurveyVersionFactory,
)


def dictionary():
    """Two definitions and a cross-check: occupied beds may not exceed open beds."""
    open_beds = DefinitionFactory(
        code="lits_rea_ouverts",
        label="Lits de réanimation ouverts",
        value_type="integer",
        minimum=Decimal(0),
        maximum=Decimal(500),
    )
    occupied = DefinitionFactory(
        code="lits_rea_occupes",
        label="Lits de réanimation occupés",
        value_type="integer",
        minimum=Decimal(0),
        maximum=Decimal(500),
    )
    RuleFactory(
        code="rea_occupes_ouverts",
        expression="lits_rea_occupes <= lits_rea_ouverts",
        message="Les lits occupés ne peuvent dépasser les lits ouverts.",
        status="published",
    )
    return open_beds, occupied


def campaign(
    *,
    owner: Organisation | None = None,
    title: str = "Capacités de réanimation",
    definitions=(),
    status=Campaign.Status.OPEN,
    **kwargs,
):
    survey = SurveyFactory(owner=owner) if owner is not None else SurveyFactory()
    version = SurveyVersionFactory(survey=survey, title=title)
    section = SectionFactory(version=version)
    for definition in definitions:
        QuestionFactory(section=section, definition=definition, required=True)
    return CampaignFactory(version=version, status=status, **kwargs)


def unit_of(establishment) -> ReportingUnit:
    return ReportingUnitFactory(establishment=establishment)


def professional_unit(professional) -> ReportingUnit:
    return ReportingUnit.objects.get_or_create(
        professional=professional,
        defaults={
            "kind": ReportingUnit.Kind.PROFESSIONAL,
            "label": f"{professional.first_name} {professional.last_name}",
            "national_id": professional.national_id,
            "territory_code": "75",
        },
    )[0]


def assignment(campaign_, unit, *, day=None, due_at=None, **kwargs):
    period = CampaignPeriodFactory(campaign=campaign_, day=day or timezone.localdate())
    if due_at is not None:
        kwargs["due_at"] = due_at
    return AssignmentFactory(period=period, unit=unit, **kwargs)


def days_ago(days: int) -> dt.datetime:
    return timezone.now() - dt.timedelta(days=days)


def key_for(user, organisation=None):
    """An API key of ``user``'s organisation, and its clear text."""
    organisation = organisation or user.memberships.get().organisation
    return api_keys.api_key_create(organisation=organisation, name="Logiciel", user=user)
