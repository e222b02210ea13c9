"""The profile page and where "/" sends each person."""

import pytest
from django.urls import reverse

from accounts.models import AuditEvent, Organisation, Role, User
from tests.accounts.factories import PASSWORD, MembershipFactory, OrganisationFactory, UserFactory
from tests.accounts.helpers import log_in, page_text
from tests.conftest import client_for


def test_profile_lists_every_membership_with_organisation_and_role(cast):
    user = cast.curator
    ars = Organisation.objects.get(kind="ars", region_code="11")
    MembershipFactory(user=user, organisation=ars, role=Role.VIEWER)

    response = client_for(user).get(reverse("accounts:profile"))
    assert response.status_code == 200
    text = page_text(response)
    assert "DGOS" in text
    assert "Gestionnaire des référentiels" in text
    assert "ARS Île-de-France" in text
    assert "Lecteur (consulte les résultats)" in text
    assert "Agence régionale de santé" in text
    assert cast.curator.email in text
    # Nobody else's memberships leak in.
    assert "Demandeur (conçoit et envoie les enquêtes)" not in text


def test_profile_of_an_establishment_respondent_names_the_finess(cast):
    response = client_for(cast.ehpad_respondent).get(reverse("accounts:profile"))
    text = page_text(response)
    assert "Ehpad Edmar Lama (970302287)" in text
    assert "Répondant (établissement)" in text


def test_profile_of_an_outsider_says_they_belong_nowhere(cast):
    response = client_for(cast.outsider).get(reverse("accounts:profile"))
    assert response.status_code == 200
    assert "Vous n'êtes rattaché(e) à aucune organisation" in page_text(response)


def test_saving_the_profile_updates_it_and_records_an_audit_event(cast):
    user = cast.national_requester
    client = client_for(user)
    response = client.post(
        reverse("accounts:profile"),
        {"first_name": "Alice", "last_name": "Durand-Lefèvre", "phone": "01 40 56 60 00"},
    )
    assert response.status_code == 302
    assert response.url == reverse("accounts:profile")

    user.refresh_from_db()
    assert (user.first_name, user.last_name, user.phone) == (
        "Alice",
        "Durand-Lefèvre",
        "01 40 56 60 00",
    )
    event = AuditEvent.objects.get(action="user.update_profile")
    assert event.actor == user
    assert (event.target_type, event.target_id) == ("accounts.user", str(user.pk))

    page = client.get(response.url)
    assert "Votre profil a été enregistré" in page_text(page)
    assert "Alice Durand-Lefèvre" in page_text(page)


def test_the_profile_form_cannot_change_the_email_or_the_rights(cast):
    user = cast.national_requester
    client_for(user).post(
        reverse("accounts:profile"),
        {
            "first_name": "Alice",
            "last_name": "Durand",
            "phone": "",
            "email": "pirate@exemple.fr",
            "is_staff": "on",
            "is_superuser": "on",
        },
    )
    user.refresh_from_db()
    assert user.email == "alice.dgos@sante.gouv.fr"
    assert not user.is_staff
    assert not user.is_superuser


def test_a_too_long_phone_number_is_refused_and_nothing_is_saved(cast):
    user = cast.national_requester
    before = (user.first_name, user.last_name, user.phone)
    response = client_for(user).post(
        reverse("accounts:profile"),
        {"first_name": "Alice", "last_name": "Durand", "phone": "0" * 31},
    )
    assert response.status_code == 200
    assert "30 caractères" in page_text(response)
    user.refresh_from_db()
    assert (user.first_name, user.last_name, user.phone) == before
    assert not AuditEvent.objects.filter(action="user.update_profile").exists()


def test_changing_the_password_from_the_profile_keeps_the_user_logged_in(cast, client):
    user = cast.national_requester
    log_in(client, user.email, PASSWORD)
    new = "Une-nouvelle-phrase-de-passe-88"
    response = client.post(
        reverse("accounts:password_change"),
        {"old_password": PASSWORD, "new_password1": new, "new_password2": new},
    )
    assert response.status_code == 302
    assert response.url == reverse("accounts:profile")
    assert client.get(reverse("accounts:profile")).status_code == 200
    assert User.objects.get(pk=user.pk).check_password(new)


def test_changing_the_password_needs_the_current_one(cast):
    user = cast.national_requester
    new = "Une-nouvelle-phrase-de-passe-88"
    response = client_for(user).post(
        reverse("accounts:password_change"),
        {"old_password": "pas-le-bon", "new_password1": new, "new_password2": new},
    )
    assert response.status_code == 200
    assert "Votre ancien mot de passe est incorrect" in page_text(response)
    assert User.objects.get(pk=user.pk).check_password(PASSWORD)


# --- Home ---------------------------------------------------------------------------------------


def test_home_tells_an_outsider_they_belong_to_no_organisation(cast):
    response = client_for(cast.outsider).get(reverse("home"))
    assert response.status_code == 200
    assert "n'est rattaché à aucune organisation" in page_text(response)


def test_home_sends_anonymous_visitors_to_the_login_page(client, db):
    response = client.get(reverse("home"))
    assert response.status_code == 302
    assert response.url.startswith(reverse("accounts:login"))


@pytest.mark.parametrize(
    ("role", "target"),
    [
        ("national_requester", "surveys:campaign_list"),
        ("ars_idf_agent", "surveys:campaign_list"),
        ("ehpad_respondent", "collection:inbox"),
        ("legal_entity_respondent", "collection:inbox"),
        ("curator", "referentials:establishment_list"),
    ],
)
def test_home_sends_each_role_to_its_starting_page(cast, role, target):
    client = client_for(cast.user(role))
    response = client.get(reverse("home"))
    assert response.status_code == 302
    assert response.url == reverse(target)
    assert client.get(response.url).status_code == 200


def test_someone_both_requester_and_respondent_starts_on_the_campaigns(db):
    user = UserFactory(email="double.casquette@exemple.fr")
    MembershipFactory(user=user, organisation=OrganisationFactory(), role=Role.REQUESTER)
    MembershipFactory(
        user=user, organisation=OrganisationFactory(establishment=True), role=Role.RESPONDENT
    )
    client = client_for(user)
    response = client.get(reverse("home"))
    assert response.url == reverse("surveys:campaign_list")
    assert client.get(response.url).status_code == 200
    # Both starting points stay in reach from the navigation.
    text = page_text(client.get(response.url))
    assert reverse("collection:inbox") in text


def test_a_viewer_starts_on_the_campaigns(db):
    user = UserFactory(email="lecteur@exemple.fr")
    MembershipFactory(user=user, organisation=OrganisationFactory(), role=Role.VIEWER)
    client = client_for(user)
    response = client.get(reverse("home"))
    assert response.url == reverse("surveys:campaign_list")
    assert client.get(response.url).status_code == 200


def test_a_member_of_a_deactivated_organisation_is_told_so_rather_than_refused(cast):
    Organisation.objects.filter(short_name="DGOS").update(is_active=False)
    client = client_for(cast.national_requester)
    response = client.get(reverse("home"), follow=True)
    assert response.status_code == 200
    assert "n'est rattaché à aucune organisation" in page_text(response)
