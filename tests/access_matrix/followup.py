"""Campaign follow-up and results: the owner's requesters, and other national directorates
and ARS whose territories the sent campaign reaches (their units only); respondents never."""

from tests.access_matrix.common import only


def _campaign_in_paris(cast):
    """An open DGOS campaign asking the Pitié (Paris): IDF reaches it, Guadeloupe does not."""
    from tests.surveys.factories import AssignmentFactory, CampaignFactory, ReportingUnitFactory

    dgos = cast.national_requester.memberships.get().organisation
    campaign = CampaignFactory(version__survey__owner=dgos, status="open")
    unit = ReportingUnitFactory(establishment=cast.paris_hospital)
    AssignmentFactory(period__campaign=campaign, unit=unit)
    return campaign, unit


def _pk(cast):
    return {"pk": _campaign_in_paris(cast)[0].pk}


def _unit(cast):
    campaign, unit = _campaign_in_paris(cast)
    return {"pk": campaign.pk, "unit_pk": unit.pk}


READERS = only(["national_requester", "ars_idf_agent"])
READERS["ars_guadeloupe_agent"] = 404

EXPECTED = {
    "collection:campaign_followup": (_pk, READERS),
    "collection:campaign_unit_history": (_unit, READERS),
    "collection:campaign_results": (_pk, READERS),
}
