"""Data quality of a campaign and queries on values (collection:campaign_quality,
value_query, queries_inbox).

The campaign is the DGOS's, asking the Ehpad Edmar Lama (Cayenne) and the Pitié (Paris): its
requester reads everything; the ARS Île-de-France reads the Paris part of the national campaign;
the ARS Guadeloupe has no unit in it (404). The value is the Ehpad's: its respondents and
those of its legal entity answer, the DGOS requester asks; anyone else gets a 404.
"""

from accounts.models import Organisation
from tests.access_matrix.common import REQUESTERS, RESPONDENTS, only
from tests.collection import quality_setup as setup


def _campaign(cast):
    dgos = Organisation.objects.get(short_name="DGOS")
    campaign = setup.campaign(dgos)
    occupied = campaign.version.questions.get().definition
    value = setup.answered(campaign, cast.cayenne_ehpad, occupied, 11)
    setup.answered(campaign, cast.paris_hospital, occupied, 20)
    return campaign, value


EXPECTED = {
    "collection:campaign_quality": (
        lambda c: {"pk": _campaign(c)[0].pk},
        only(["national_requester", "ars_idf_agent"], otherwise=404)
        | {"curator": 403, "outsider": 403, "professional": 403}
        | {r: 403 for r in RESPONDENTS},
    ),
    "collection:value_query": (
        lambda c: {"pk": _campaign(c)[1].pk},
        only(["national_requester", "ehpad_respondent", "legal_entity_respondent"], otherwise=404)
        | {"curator": 403, "outsider": 403},
    ),
    "collection:queries_inbox": (None, only([*REQUESTERS, *RESPONDENTS])),
}
