"""Access to RPPS identity claims: anyone logged in asks; curators decide."""

from accounts.models import ProfessionalClaim
from tests.access_matrix.common import LOGGED_IN, everyone, only
from tests.accounts.factories import UserFactory
from tests.referentials.factories import ProfessionalActivityFactory


def _pending_claim(cast):
    professional = ProfessionalActivityFactory(
        professional__national_id="810000000041", professional__rpps="10000000041"
    ).professional
    claim, _ = ProfessionalClaim.objects.get_or_create(
        user=UserFactory(email="dr.petit@medecin.fr"),
        national_id=professional.national_id,
        defaults={"rpps": professional.rpps},
    )
    return {"pk": claim.pk}


EXPECTED = {
    "referentials:claim_request": (None, only(LOGGED_IN)),
    # Withdrawing is a POST: a GET is refused for everyone logged in.
    "referentials:claim_withdraw": (lambda c: {"pk": 1}, {**everyone(405), "anonymous": 302}),
    "referentials:claim_list": (None, only(["curator"])),
    "referentials:claim_decide": (_pending_claim, only(["curator"])),
}
