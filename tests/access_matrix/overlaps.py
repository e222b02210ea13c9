"""The sending page of a campaign (its overlaps) and its API: the owner's requesters only."""

from tests.access_matrix.common import only


def _draft(cast):
    from tests.surveys.factories import CampaignFactory

    dgos = cast.national_requester.memberships.get().organisation
    return {"pk": CampaignFactory(version__survey__owner=dgos, status="draft", opened_at=None).pk}


# Other requesters do not see the DGOS's draft: 404, as for every campaign page.
OWNER_ONLY = {**only(["national_requester"]), "ars_idf_agent": 404, "ars_guadeloupe_agent": 404}
# The API answers anonymous with a 403 in JSON; a draft is in its owner's register only.
API_OWNER_ONLY = {**OWNER_ONLY, "anonymous": 403}

EXPECTED = {
    "collection:campaign_overlaps": (_draft, OWNER_ONLY),
    "api:campaign_overlaps": (_draft, API_OWNER_ONLY),
}
