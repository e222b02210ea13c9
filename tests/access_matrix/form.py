"""The respondent's web form, its live check and the history of a value.

The assignment is the Ehpad Edmar Lama's (Cayenne), for a campaign of the DGOS: its respondents
and those of its legal entity answer; the DGOS requester who sent it reads (read-only); anyone
else gets a 404, as if it did not exist.
"""

from accounts.models import Organisation
from collection import values
from collection.models import Channel
from referentials.units import unit_for_establishment
from tests.access_matrix.common import everyone, only
from tests.surveys.factories import (
    AssignmentFactory,
    CampaignFactory,
    CampaignPeriodFactory,
    QuestionFactory,
    SectionFactory,
)

READERS = ["ehpad_respondent", "legal_entity_respondent", "national_requester"]


def _assignment(cast):
    dgos = Organisation.objects.get(short_name="DGOS")
    question = QuestionFactory(
        section=SectionFactory(version__survey__owner=dgos), code="lits", value_type="integer"
    )
    campaign = CampaignFactory(version=question.version)
    period = CampaignPeriodFactory(campaign=campaign)
    return AssignmentFactory(period=period, unit=unit_for_establishment(cast.cayenne_ehpad))


def _value(cast):
    assignment = _assignment(cast)
    values.submit(assignment, {"lits": "12"}, channel=Channel.FORM)
    return {"pk": assignment.campaign.survey.ad_hoc_values.get().pk}


EXPECTED = {
    "collection:assignment_form": (
        lambda c: {"pk": _assignment(c).pk},
        only(READERS, otherwise=404),
    ),
    # The live check is a POST: a GET is refused for everyone logged in.
    "collection:assignment_check": (
        lambda c: {"pk": _assignment(c).pk},
        {**everyone(405), "anonymous": 302},
    ),
    "collection:value_history": (lambda c: _value(c), only(READERS, otherwise=404)),
}
