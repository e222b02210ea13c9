"""Correcting one stored value outside any assignment: ``values.value_correct``."""

from decimal import Decimal

import pytest

from accounts.models import AuditEvent
from collection import values
from collection.models import Channel, Value, ValueRevision
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
def stored():
    beds = DefinitionFactory(
        code="lits_rea_occupes",
        label="Lits de réanimation occupés",
        value_type="integer",
        minimum=Decimal(0),
        maximum=Decimal(500),
    )
    section = SectionFactory()
    QuestionFactory(section=section, definition=beds, required=True)
    campaign = CampaignFactory(version=section.version)
    assignment = AssignmentFactory(period=CampaignPeriodFactory(campaign=campaign))
    values.submit(assignment, {"lits_rea_occupes": "12"}, channel=Channel.FORM)
    return Value.objects.get()


def test_a_correction_writes_the_value_and_a_revision_naming_the_corrector(stored, cast):
    user = cast.hospital_respondent
    value = values.value_correct(value=stored, raw="14", comment="Erreur de saisie", user=user)
    value.refresh_from_db()
    assert (value.data, value.number, value.changed_by) == ("14", Decimal(14), user)
    assert value.revision_count == 2 and value.comment == "Erreur de saisie"
    revision = ValueRevision.objects.get(value=value, number=2)
    assert (revision.old_data, revision.new_data, revision.changed_by) == ("12", "14", user)
    assert revision.comment == "Erreur de saisie"
    # The value still says which campaign declared it.
    assert revision.campaign_id == stored.campaign_id == value.campaign_id
    assert AuditEvent.objects.filter(action="value.correct", target_id=str(value.pk)).exists()


def test_a_correction_outside_the_definitions_bounds_is_refused_in_french(stored, cast):
    with pytest.raises(values.SubmissionRefused, match="Lits de réanimation occupés"):
        values.value_correct(value=stored, raw="900", comment="x", user=cast.hospital_respondent)
    with pytest.raises(values.SubmissionRefused, match="n'est pas un nombre"):
        values.value_correct(value=stored, raw="douze", comment="x", user=cast.curator)
    stored.refresh_from_db()
    assert stored.data == "12" and stored.revisions.count() == 1


def test_a_correction_needs_a_comment_and_a_different_value(stored, cast):
    with pytest.raises(values.SubmissionRefused, match="commentaire"):
        values.value_correct(value=stored, raw="14", comment="  ", user=cast.curator)
    with pytest.raises(values.SubmissionRefused, match="identique"):
        values.value_correct(value=stored, raw="12", comment="Vérifié", user=cast.curator)
    with pytest.raises(values.SubmissionRefused, match="indiquez la valeur"):
        values.value_correct(value=stored, raw="", comment="Vérifié", user=cast.curator)
    assert ValueRevision.objects.count() == 1


def test_an_ad_hoc_value_is_checked_with_its_question(cast):
    section = SectionFactory()
    QuestionFactory(
        section=section,
        definition=None,
        code="nb_visites",
        label="Visites",
        value_type="integer",
        minimum=Decimal(0),
        maximum=Decimal(10),
    )
    campaign = CampaignFactory(version=section.version)
    assignment = AssignmentFactory(period=CampaignPeriodFactory(campaign=campaign))
    values.submit(assignment, {"nb_visites": "3"}, channel=Channel.API)
    value = Value.objects.get()
    with pytest.raises(values.SubmissionRefused):
        values.value_correct(value=value, raw="11", comment="x", user=cast.curator)
    corrected = values.value_correct(
        value=value, raw="4", comment="Recompté", user=cast.curator, channel=Channel.API
    )
    assert corrected.data == "4" and corrected.channel == "api"
