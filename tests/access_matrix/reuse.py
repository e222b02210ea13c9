"""The page of a served value (collection.reuse), scoped like the form.

The assignment is the Ehpad Edmar Lama's (Cayenne), for a DGOS campaign that reuses a value
another DGOS campaign asks: its respondents and those of its legal entity see it (and may
correct it); the DGOS requester who sent it reads it; anyone else gets a 404.
"""

import datetime as dt

from django.utils import timezone

from accounts.models import Organisation
from referentials.units import unit_for_establishment
from surveys.models import AudienceMember, CampaignReuse, OverlapChoice
from surveys.periods import period_of
from tests.access_matrix.common import only
from tests.referentials.factories_dictionary import DefinitionFactory
from tests.surveys.factories import (
    AssignmentFactory,
    CampaignFactory,
    CampaignPeriodFactory,
    QuestionFactory,
    SectionFactory,
)

READERS = ["ehpad_respondent", "legal_entity_respondent", "national_requester"]


def _campaign(dgos, definition, **kwargs):
    section = SectionFactory(version__survey__owner=dgos)
    QuestionFactory(section=section, definition=definition, code=definition.code)
    return CampaignFactory(version=section.version, **kwargs)


def _served(cast):
    from tests.collection.reusing import store

    dgos = Organisation.objects.get(short_name="DGOS")
    beds = DefinitionFactory(code="lits_dispo", value_type="integer", time_aggregation="stock")
    source = _campaign(dgos, beds, start_date=timezone.localdate() - dt.timedelta(days=3))
    target = _campaign(dgos, beds, overlap_choice=OverlapChoice.REUSE)
    CampaignReuse.objects.create(campaign=target, definition=beds, source=source)
    unit = unit_for_establishment(cast.cayenne_ehpad)
    AudienceMember.objects.create(campaign=source, unit=unit)
    store(unit, beds, period_of("day", timezone.localdate()), "12", campaign=source)
    assignment = AssignmentFactory(period=CampaignPeriodFactory(campaign=target), unit=unit)
    return {"pk": assignment.pk, "code": "lits_dispo"}


EXPECTED = {
    "collection:served_value": (_served, only(READERS, otherwise=404)),
}
