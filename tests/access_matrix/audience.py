"""Access to the audience page: requesters and viewers of the campaign's owner organisation."""

from accounts.models import Organisation
from tests.access_matrix.common import REQUESTERS, only
from tests.surveys.factories import CampaignFactory


def _ars_idf_draft_campaign(cast):
    owner = Organisation.objects.get(kind="ars", region_code="11")
    campaign = CampaignFactory(status="draft", owner=owner, version__survey__owner=owner)
    return {"pk": campaign.pk}


EXPECTED = {
    # Another organisation's campaign is "not found"; other roles are refused.
    "surveys:campaign_audience": (
        _ars_idf_draft_campaign,
        {
            **only(REQUESTERS),
            "national_requester": 404,
            "ars_guadeloupe_agent": 404,
        },
    ),
}
