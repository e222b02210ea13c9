"""The register of collections: requesters and viewers of every organisation, no one else."""

from tests.access_matrix.common import REQUESTERS, only
from tests.surveys.factories import CampaignFactory, SurveyFactory, SurveyVersionFactory


def _dgos_campaign(cast):
    """An open campaign of the DGOS: in the register of every requester, national or ARS."""
    from accounts.models import Organisation

    dgos = Organisation.objects.get(memberships__user=cast.national_requester)
    version = SurveyVersionFactory(survey=SurveyFactory(owner=dgos))
    return {"pk": CampaignFactory(version=version).pk}


EXPECTED = {
    "surveys:register": (None, only(REQUESTERS)),
    "surveys:register_csv": (None, only(REQUESTERS)),
    "surveys:register_detail": (_dgos_campaign, only(REQUESTERS)),
}
