"""Campaign pages: the owner's requesters act, other organisations get a 404."""

from tests.access_matrix.common import REQUESTERS, only


def _campaign(cast):
    from tests.surveys.factories import CampaignFactory

    # The requester's own organisation: other blocks' factories may add more "DGOS" rows.
    dgos = cast.national_requester.memberships.get().organisation
    return CampaignFactory(
        version__survey__owner=dgos,
        status="draft",
        opened_at=None,
        crisis_frequency="weekly",
        # The overlap choice is recorded: the send and schedule pages show (not redirect).
        overlap_choice="none",
    )


def _assignment(cast):
    from tests.surveys.factories import AssignmentFactory, ReportingUnitFactory

    campaign = _campaign(cast)
    unit = ReportingUnitFactory(establishment=cast.paris_hospital)
    return AssignmentFactory(period__campaign=campaign, unit=unit)


OWNER_ONLY = only(["national_requester"], otherwise=403)
for _role in REQUESTERS:
    if _role != "national_requester":
        OWNER_ONLY[_role] = 404


def _pk(cast):
    return {"pk": _campaign(cast).pk}


def _assignment_pk(cast):
    return {"pk": _assignment(cast).pk}


EXPECTED = {
    "surveys:campaign_list": (None, only(REQUESTERS)),
    "surveys:campaign_create": (None, only(REQUESTERS)),
    "surveys:exemption_list": (None, only(REQUESTERS)),
    "surveys:campaign_detail": (_pk, OWNER_ONLY),
    "surveys:campaign_edit": (_pk, OWNER_ONLY),
    "surveys:campaign_schedule": (_pk, OWNER_ONLY),
    "surveys:campaign_send": (_pk, OWNER_ONLY),
    "surveys:campaign_close": (_pk, OWNER_ONLY),
    "surveys:campaign_crisis": (_pk, OWNER_ONLY),
    "surveys:campaign_assignments": (_pk, OWNER_ONLY),
    "surveys:assignment_exempt": (_assignment_pk, OWNER_ONLY),
    "surveys:exemption_decide": (_assignment_pk, OWNER_ONLY),
}
