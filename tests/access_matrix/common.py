"""Role lists and status tables shared by the blocks of the access matrix."""

from tests.conftest import ROLES

ALL_MEMBERS = [r for r in ROLES if r not in {"anonymous", "outsider", "professional"}]
LOGGED_IN = [r for r in ROLES if r != "anonymous"]
REQUESTERS = ["national_requester", "ars_idf_agent", "ars_guadeloupe_agent"]
ESTABLISHMENT_RESPONDENTS = ["ehpad_respondent", "hospital_respondent", "legal_entity_respondent"]
# Everyone who answers: establishments' staff, and the professional who answers for themself.
RESPONDENTS = [*ESTABLISHMENT_RESPONDENTS, "professional"]


def only(allowed, *, otherwise=403, anonymous=302):
    """200 for ``allowed`` roles, ``otherwise`` for the other logged-in ones."""
    table = {role: (200 if role in allowed else otherwise) for role in LOGGED_IN}
    table["anonymous"] = anonymous
    return table


def everyone(status):
    return dict.fromkeys(ROLES, status)
