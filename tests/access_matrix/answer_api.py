"""The answering API and its documentation. DRF answers API clients itself: 403 in JSON for
anonymous callers and for those who answer for nothing; 404 outside the scope."""

from tests.access_matrix.common import LOGGED_IN, RESPONDENTS, only
from tests.collection.answering import assignment, campaign, unit_of


def _hospital_assignment(cast):
    owner = cast.national_requester.memberships.get().organisation
    return {"pk": assignment(campaign(owner=owner), unit_of(cast.paris_hospital)).pk}


def _respondents(status_for_respondents=200, **overrides):
    table = only(RESPONDENTS, anonymous=403)
    table.update(dict.fromkeys(RESPONDENTS, status_for_respondents))
    table.update(overrides)
    return table


EXPECTED = {
    "api:docs": (None, only(LOGGED_IN)),
    "api:assignment_list": (None, _respondents()),
    "api:assignment_detail": (
        _hospital_assignment,
        _respondents(404, hospital_respondent=200),
    ),
    # Answers are POSTs: a GET is refused (405) once the caller is known to be a respondent.
    "api:assignment_answer": (_hospital_assignment, _respondents(405)),
    "api:batch_answer": (None, _respondents(405)),
}
