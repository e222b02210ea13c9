"""RPPS identity claims: a professional asks, a curator verifies, the user answers for themself."""

import pytest
from django.urls import reverse

from accounts.models import AuditEvent, Organisation, ProfessionalClaim, Role
from accounts.scoping import roles_of, scope_for
from referentials.claims import ClaimError, claim_decide, claim_request, claims_for_curator
from referentials.identifiers import luhn_is_valid
from referentials.models import ReportingUnit
from tests.accounts.factories import MembershipFactory, UserFactory
from tests.conftest import client_for
from tests.referentials.factories import ProfessionalActivityFactory


def with_check_digit(digits):
    return next(f"{digits}{d}" for d in "0123456789" if luhn_is_valid(f"{digits}{d}"))


def make_professional(digits="1000000004", territory="93", **extra):
    rpps = with_check_digit(digits)
    return ProfessionalActivityFactory(
        professional__national_id=f"8{rpps}",
        professional__rpps=rpps,
        professional__last_name="PETIT",
        territory_code=territory,
        **extra,
    ).professional


@pytest.fixture
def nurse(db):
    return make_professional()


# --- the request ----------------------------------------------------------------------------------


def test_a_user_asks_to_be_linked_to_their_rpps_identity(cast, nurse):
    claim = claim_request(
        user=cast.outsider, rpps=f" {nurse.rpps[:5]} {nurse.rpps[5:]} ", message="Cabinet à Bobigny"
    )
    assert (claim.status, claim.national_id, claim.rpps) == (
        "pending",
        nurse.national_id,
        nurse.rpps,
    )
    assert claim.message == "Cabinet à Bobigny"
    assert AuditEvent.objects.filter(action="claim.request", actor=cast.outsider).exists()
    # Pending: not yet a respondent.
    assert roles_of(cast.outsider) == set()


def test_a_number_failing_the_check_digit_is_refused(cast, nurse):
    wrong = nurse.rpps[:-1] + str((int(nurse.rpps[-1]) + 1) % 10)
    with pytest.raises(ClaimError, match="n'est pas un numéro RPPS valide") as refused:
        claim_request(user=cast.outsider, rpps=wrong)
    assert refused.value.field == "rpps"


def test_a_number_unknown_to_the_directory_is_refused(cast):
    with pytest.raises(ClaimError, match="Aucun professionnel en exercice"):
        claim_request(user=cast.outsider, rpps=with_check_digit("1999999999"))


def test_an_identity_verified_for_someone_else_is_refused(cast, nurse):
    ProfessionalClaim.objects.create(
        user=UserFactory(), national_id=nurse.national_id, rpps=nurse.rpps, status="verified"
    )
    with pytest.raises(ClaimError, match="déjà rattachée à un autre compte"):
        claim_request(user=cast.outsider, rpps=nurse.rpps)


def test_one_live_claim_per_user(cast, nurse):
    other = make_professional("1000000005")
    claim_request(user=cast.outsider, rpps=nurse.rpps)
    with pytest.raises(ClaimError, match="une seule identité par compte"):
        claim_request(user=cast.outsider, rpps=other.rpps)
    assert ProfessionalClaim.objects.filter(user=cast.outsider).count() == 1


# --- the decision ---------------------------------------------------------------------------------


def test_verification_makes_the_user_respondent_for_their_own_unit_only(cast, nurse):
    claim = claim_request(user=cast.outsider, rpps=nurse.rpps)
    claim_decide(claim=claim, decided_by=cast.curator, verify=True, comment="CPS vue")
    claim.refresh_from_db()
    assert (claim.status, claim.decided_by, claim.decision_comment) == (
        "verified",
        cast.curator,
        "CPS vue",
    )
    user = type(cast.outsider).objects.get(pk=cast.outsider.pk)  # fresh caches
    assert roles_of(user) == {Role.RESPONDENT}
    unit = ReportingUnit.objects.get(professional=nurse)
    assert list(ReportingUnit.objects.visible_to(user)) == [unit]
    assert scope_for(user).professional_ids == {nurse.national_id}
    assert AuditEvent.objects.filter(action="claim.verify", actor=cast.curator).exists()


def test_rejection_needs_a_reason_and_lets_the_user_ask_again(cast, nurse):
    claim = claim_request(user=cast.outsider, rpps=nurse.rpps)
    with pytest.raises(ClaimError, match="motif obligatoire"):
        claim_decide(claim=claim, decided_by=cast.curator, verify=False)
    claim_decide(claim=claim, decided_by=cast.curator, verify=False, comment="Nom différent")
    claim.refresh_from_db()
    assert claim.status == "rejected"
    assert AuditEvent.objects.filter(action="claim.reject").exists()
    assert claim_request(user=cast.outsider, rpps=nurse.rpps).status == "pending"


def test_a_decided_claim_cannot_be_decided_again(cast, nurse):
    claim = claim_request(user=cast.outsider, rpps=nurse.rpps)
    claim_decide(claim=claim, decided_by=cast.curator, verify=True)
    with pytest.raises(ClaimError, match="déjà été traitée"):
        claim_decide(claim=claim, decided_by=cast.curator, verify=False, comment="non")


def test_a_regional_curator_sees_claims_of_professionals_of_their_territories(cast, nurse):
    lyon = make_professional("1000000005", territory="69")
    claim_request(user=cast.outsider, rpps=nurse.rpps)
    claim_request(user=UserFactory(), rpps=lyon.rpps)
    ars_idf = Organisation.objects.get(kind="ars", region_code="11")
    regional_curator = UserFactory(email="referentiel@ars-idf.fr")
    MembershipFactory(user=regional_curator, organisation=ars_idf, role=Role.CURATOR)
    # The nurse of Seine-Saint-Denis and the cast's doctor of Paris; not the one of Lyon.
    visible = sorted(claims_for_curator(regional_curator).values_list("rpps", flat=True))
    assert visible == sorted([nurse.rpps, cast.paris_doctor.rpps])
    assert claims_for_curator(cast.curator).count() == 3  # the cast's doctor, and these two
    assert claims_for_curator(cast.national_requester).count() == 0


# --- the pages ------------------------------------------------------------------------------------


def test_the_home_page_without_membership_links_to_the_claim(cast):
    html = client_for(cast.outsider).get(reverse("home")).content.decode()
    assert "Rattachez votre compte à votre identité RPPS" in html
    assert reverse("referentials:claim_request") in html


def test_curators_have_the_claims_in_their_menu(cast):
    html = client_for(cast.curator).get(reverse("referentials:claim_list")).content.decode()
    assert "Rattachements RPPS" in html
    other = client_for(cast.national_requester).get(reverse("surveys:campaign_list"))
    assert reverse("referentials:claim_list") not in other.content.decode()


def test_from_request_to_inbox_end_to_end(cast, nurse):
    professional_client = client_for(cast.outsider)
    page = reverse("referentials:claim_request")
    response = professional_client.post(page, {"rpps": nurse.rpps, "message": "Bobigny"})
    assert response.status_code == 302
    assert "Demande en attente de vérification" in professional_client.get(page).content.decode()
    assert professional_client.get(reverse("collection:inbox")).status_code == 403

    curator = client_for(cast.curator)
    listing = curator.get(reverse("referentials:claim_list")).content.decode()
    assert nurse.rpps in listing and "PETIT" in listing
    claim = ProfessionalClaim.objects.get(user=cast.outsider)
    decide = reverse("referentials:claim_decide", kwargs={"pk": claim.pk})
    assert "Bobigny" in curator.get(decide).content.decode()
    assert curator.post(decide, {"decision": "verify", "comment": ""}).status_code == 302

    assert professional_client.get(reverse("collection:inbox")).status_code == 200
    assert "Votre compte est rattaché" in professional_client.get(page).content.decode()


def test_the_form_shows_why_a_request_is_refused(cast):
    response = client_for(cast.outsider).post(
        reverse("referentials:claim_request"), {"rpps": "12345678901"}
    )
    assert response.status_code == 200
    assert "n&#x27;est pas un numéro RPPS valide" in response.content.decode()
    assert not ProfessionalClaim.objects.filter(user=cast.outsider).exists()


def test_rejecting_from_the_page_without_a_reason_is_refused(cast, nurse):
    claim = claim_request(user=cast.outsider, rpps=nurse.rpps)
    decide = reverse("referentials:claim_decide", kwargs={"pk": claim.pk})
    response = client_for(cast.curator).post(decide, {"decision": "reject", "comment": ""})
    assert response.status_code == 200
    assert "motif obligatoire" in response.content.decode()
    claim.refresh_from_db()
    assert claim.status == "pending"


def test_a_user_withdraws_a_pending_claim(cast, nurse):
    claim = claim_request(user=cast.outsider, rpps=nurse.rpps)
    withdraw = reverse("referentials:claim_withdraw", kwargs={"pk": claim.pk})
    assert client_for(cast.national_requester).post(withdraw).status_code == 404
    assert client_for(cast.outsider).post(withdraw).status_code == 302
    claim.refresh_from_db()
    assert claim.status == "withdrawn"


def test_a_curator_outside_the_scope_gets_not_found(cast):
    lyon = make_professional("1000000005", territory="69")
    claim = claim_request(user=cast.outsider, rpps=lyon.rpps)
    ars_idf = Organisation.objects.get(kind="ars", region_code="11")
    regional_curator = UserFactory(email="referentiel@ars-idf.fr")
    MembershipFactory(user=regional_curator, organisation=ars_idf, role=Role.CURATOR)
    decide = reverse("referentials:claim_decide", kwargs={"pk": claim.pk})
    assert client_for(regional_curator).get(decide).status_code == 404


def test_a_curator_never_decides_their_own_claim(cast, nurse):
    claim = claim_request(user=cast.curator, rpps=nurse.rpps)
    assert claim not in claims_for_curator(cast.curator)
    with pytest.raises(ClaimError, match="propre demande"):
        claim_decide(claim=claim, decided_by=cast.curator, verify=True)
    claim.refresh_from_db()
    assert claim.status == "pending"
