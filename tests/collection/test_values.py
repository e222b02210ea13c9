"""The value store's one write path: checks, revisions, shared values, conflicts."""

from decimal import Decimal

import pytest

from collection import values
from collection.models import Channel, Value, ValueRevision
from surveys.models import Assignment
from tests.referentials.factories_dictionary import DefinitionFactory
from tests.surveys.factories import (
    AssignmentFactory,
    CampaignFactory,
    CampaignPeriodFactory,
    QuestionFactory,
    SectionFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def beds():
    return DefinitionFactory(
        code="lits_rea_occupes",
        label="Lits de réanimation occupés",
        value_type="integer",
        minimum=Decimal(0),
        maximum=Decimal(500),
        status="published",
    )


def _assignment(definition, **kwargs):
    section = SectionFactory()
    QuestionFactory(section=section, definition=definition, required=True)
    campaign = CampaignFactory(version=section.version)
    period = CampaignPeriodFactory(campaign=campaign)
    return AssignmentFactory(period=period, **kwargs)


def test_submit_writes_a_value_and_its_first_revision(beds):
    assignment = _assignment(beds)
    outcome = values.submit(assignment, {"lits_rea_occupes": "12"}, channel=Channel.FORM)
    assert outcome.applied and outcome.created == ["lits_rea_occupes"]
    value = Value.objects.get()
    assert (value.data, value.number, value.channel) == ("12", Decimal(12), "form")
    assert list(value.revisions.values_list("old_data", "new_data")) == [(None, "12")]
    assignment.refresh_from_db()
    assert assignment.status == Assignment.Status.SUBMITTED


def test_errors_write_nothing(beds):
    assignment = _assignment(beds)
    outcome = values.submit(assignment, {"lits_rea_occupes": "douze"}, channel=Channel.API)
    assert not outcome.applied
    assert "n'est pas un nombre" in outcome.verdict.errors[0].message
    assert not Value.objects.exists()


def test_two_campaigns_share_one_value_and_a_correction_is_a_revision(beds):
    first = _assignment(beds)
    values.submit(first, {"lits_rea_occupes": "12"}, channel=Channel.FORM)
    second = _assignment(beds, unit=first.unit)
    outcome = values.check(second, {})
    assert outcome.unchanged == ["lits_rea_occupes"]  # already known for that period
    values.submit(second, {"lits_rea_occupes": "14"}, channel=Channel.SPREADSHEET)
    value = Value.objects.get()
    assert value.data == "14" and value.campaign_id == second.campaign_id
    assert list(ValueRevision.objects.values_list("old_data", "new_data")) == [
        (None, "12"),
        ("12", "14"),
    ]


def test_a_stale_save_is_told_with_both_values(beds):
    assignment = _assignment(beds)
    loaded = assignment.revision
    values.save_draft(assignment, {"lits_rea_occupes": "20"}, user=None, expected_revision=loaded)
    outcome = values.submit(
        assignment, {"lits_rea_occupes": "21"}, channel=Channel.FORM, expected_revision=loaded
    )
    assert not outcome.applied
    assert outcome.conflict.differences == {"lits_rea_occupes": ("20", "21")}
    assert not Value.objects.exists()
