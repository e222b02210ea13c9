"""API keys of an organisation: its respondents and the curators manage them."""

from accounts import api_keys
from accounts.models import Organisation
from tests.access_matrix.common import ESTABLISHMENT_RESPONDENTS, RESPONDENTS, only


def _hospital_key(cast):
    organisation = Organisation.objects.get(kind="establishment", finess=cast.paris_hospital.finess)
    key, _raw = api_keys.api_key_create(
        organisation=organisation, name="DPI", user=cast.hospital_respondent
    )
    return {"pk": key.pk}


EXPECTED = {
    # The professional is a respondent without an organisation: the list says it has no key.
    "accounts:api_key_list": (None, only([*RESPONDENTS, "curator"])),
    "accounts:api_key_create": (
        None,
        {**only([*ESTABLISHMENT_RESPONDENTS, "curator"]), "professional": 404},
    ),
    # Another organisation's key is "not found"; the national curator's scope covers it.
    "accounts:api_key_revoke": (
        _hospital_key,
        {
            **only(["hospital_respondent", "curator"]),
            "ehpad_respondent": 404,
            "legal_entity_respondent": 404,
            "professional": 404,
        },
    ),
}
