"""The surveys and campaigns API: requesters and viewers; DRF answers anonymous with a 403."""

from tests.access_matrix.common import REQUESTERS, only
from tests.surveys.factories import CampaignFactory, SurveyFactory, SurveyVersionFactory


def _dgos_survey(cast):
    from accounts.models import Organisation

    return SurveyFactory(owner=Organisation.objects.get(memberships__user=cast.national_requester))


def _dgos_campaign(cast):
    return {"pk": CampaignFactory(version=SurveyVersionFactory(survey=_dgos_survey(cast))).pk}


def _requesters_then(status_for_requesters):
    """Requesters get ``status_for_requesters``; other roles 403; anonymous 403 (JSON)."""
    table = only(REQUESTERS, anonymous=403)
    return {**table, **dict.fromkeys(REQUESTERS, status_for_requesters)}


EXPECTED = {
    "api:survey_list": (None, only(REQUESTERS, anonymous=403)),
    # A survey belongs to its organisation: the ARS agents do not find the DGOS's.
    "api:survey_detail": (
        lambda c: {"pk": _dgos_survey(c).pk},
        {**only(REQUESTERS, anonymous=403), "ars_idf_agent": 404, "ars_guadeloupe_agent": 404},
    ),
    # The register shows every organisation's open campaigns to every requester.
    "api:campaign_list": (None, only(REQUESTERS, anonymous=403)),
    "api:campaign_detail": (_dgos_campaign, only(REQUESTERS, anonymous=403)),
    # Opening and closing are POSTs: a GET is 405 for whoever passes the role check.
    "api:campaign_open": (_dgos_campaign, _requesters_then(405)),
    "api:campaign_close": (_dgos_campaign, _requesters_then(405)),
}
