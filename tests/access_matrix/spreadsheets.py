"""Answering by spreadsheet: respondents only; a campaign not sent to them, or an upload of
another organisation, is "not found"."""

from tests.access_matrix.common import everyone, only


def _campaign(cast):
    """One campaign per test, however many URLs ask for it."""
    from surveys.models import Campaign
    from tests.collection.test_spreadsheets import make_campaign

    existing = Campaign.objects.filter(title="Capacités de réanimation").first()
    return existing or make_campaign(cast)[0]


def _upload(cast):
    from collection.spreadsheets import importer

    campaign = _campaign(cast)
    key = campaign.periods.get().key
    data = f"finess;periode;lits_rea_occupes\n{cast.cayenne_hospital.finess};{key};-1\n".encode()
    return importer.upload_receive(
        user=cast.legal_entity_respondent, campaign=campaign, name="capacites.csv", data=data
    )


# The campaign is sent to both Cayenne sites and to the Pitié, not to the professional.
CAMPAIGN_PAGE = {
    **only(["ehpad_respondent", "hospital_respondent", "legal_entity_respondent", "professional"]),
    "professional": 404,
}
# An upload of the CH de Cayenne's staff: other respondents do not see it.
UPLOAD_PAGE = {
    **only(["ehpad_respondent", "hospital_respondent", "legal_entity_respondent", "professional"]),
    "ehpad_respondent": 404,
    "hospital_respondent": 404,
    "professional": 404,
}

EXPECTED = {
    "collection:spreadsheet_template": (lambda c: {"pk": _campaign(c).pk}, CAMPAIGN_PAGE),
    "collection:spreadsheet_upload": (lambda c: {"pk": _campaign(c).pk}, CAMPAIGN_PAGE),
    "collection:upload_preview": (lambda c: {"pk": _upload(c).pk}, UPLOAD_PAGE),
    # Applying is a POST: a GET is refused for everyone logged in.
    "collection:upload_apply": (lambda c: {"pk": 1}, {**everyone(405), "anonymous": 302}),
    "collection:upload_annotated": (lambda c: {"pk": _upload(c).pk}, UPLOAD_PAGE),
    "collection:upload_original": (lambda c: {"pk": _upload(c).pk}, UPLOAD_PAGE),
}
