"""Coordination requests: requesters; one request is seen by the two organisations it joins."""

from tests.access_matrix.common import REQUESTERS, only


def _request(cast):
    from accounts.models import Organisation
    from surveys.models import CoordinationRequest
    from tests.surveys.factories import CampaignFactory

    dgos = cast.national_requester.memberships.get().organisation
    ars_idf = Organisation.objects.get(memberships__user=cast.ars_idf_agent)
    target = CampaignFactory(version__survey__owner=dgos)
    requesting = CampaignFactory(version__survey__owner=ars_idf, status="draft", opened_at=None)
    request = CoordinationRequest.objects.create(
        requesting_campaign=requesting, target_campaign=target, created_by=cast.ars_idf_agent
    )
    return {"pk": request.pk}


EXPECTED = {
    "surveys:coordination_list": (None, only(REQUESTERS)),
    # The DGOS (target) and the ARS Île-de-France (requesting) see it; ARS Guadeloupe does not.
    "surveys:coordination_detail": (
        _request,
        {**only(REQUESTERS), "ars_guadeloupe_agent": 404},
    ),
}
