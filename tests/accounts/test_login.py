"""Logging in and out: where people land, what a typo says, and when the door closes."""

from django.contrib.auth.hashers import make_password
from django.test import Client
from django.urls import reverse

import config.settings as project_settings
from accounts.models import Role, User
from tests.accounts.factories import (
    PASSWORD,
    MembershipFactory,
    OrganisationFactory,
    UserFactory,
)
from tests.accounts.helpers import log_in, page_text

WRONG = "Pas-le-bon-mot-de-passe-1"
BAD_CREDENTIALS = "Adresse électronique ou mot de passe incorrect"
LOCKED = "Connexion temporairement bloquée"


def is_logged_in(client: Client) -> bool:
    return "_auth_user_id" in client.session


def test_requester_lands_on_the_campaign_list(cast, client):
    response = log_in(client, cast.national_requester.email, PASSWORD)
    assert response.status_code == 302
    assert response.url == reverse("home")
    assert client.get(response.url).url == reverse("surveys:campaign_list")
    assert client.get(reverse("surveys:campaign_list")).status_code == 200


def test_respondent_lands_in_the_inbox(cast, client):
    response = log_in(client, cast.ehpad_respondent.email, PASSWORD, follow=True)
    assert response.redirect_chain[-1] == (reverse("collection:inbox"), 302)
    assert response.status_code == 200


def test_login_ignores_the_case_of_the_email_address(cast, client):
    response = log_in(client, "Alice.DGOS@Sante.gouv.fr", PASSWORD)
    assert response.status_code == 302
    assert int(client.session["_auth_user_id"]) == cast.national_requester.pk


def test_login_ignores_spaces_around_the_email_address(cast, client):
    response = log_in(client, "  alice.dgos@sante.gouv.fr ", PASSWORD)
    assert response.status_code == 302
    assert is_logged_in(client)


def test_wrong_password_shows_the_form_again_with_a_french_message(cast, client):
    response = log_in(client, cast.national_requester.email, WRONG)
    assert response.status_code == 200
    assert BAD_CREDENTIALS in page_text(response)
    assert 'name="username"' in page_text(response)
    assert not is_logged_in(client)


def test_unknown_address_gets_the_same_message_as_a_wrong_password(cast, client):
    response = log_in(client, "personne@nulle-part.fr", WRONG)
    assert response.status_code == 200
    assert BAD_CREDENTIALS in page_text(response)


def test_a_malformed_address_re_shows_the_form_rather_than_failing(cast, client):
    response = log_in(client, "pas-une-adresse", WRONG)
    assert response.status_code == 200
    assert "Saisissez une adresse électronique valide" in page_text(response)


def test_five_failures_lock_the_account_even_against_the_right_password(cast, client):
    email = cast.national_requester.email
    for attempt in range(1, 5):
        response = log_in(client, email, WRONG)
        assert response.status_code == 200, f"tentative {attempt}"
        assert BAD_CREDENTIALS in page_text(response)
    # The fifth failure reaches AXES_FAILURE_LIMIT: django-axes answers with its lockout page.
    fifth = log_in(client, email, WRONG)
    assert fifth.status_code == 429
    assert LOCKED in page_text(fifth)

    sixth = log_in(client, email, PASSWORD)
    assert sixth.status_code == 429
    assert LOCKED in page_text(sixth)
    assert "réinitialisez votre mot de passe" in page_text(sixth)
    assert not is_logged_in(client)


def test_changing_the_case_of_the_address_does_not_get_around_the_lockout(cast, client):
    variants = [
        "alice.dgos@sante.gouv.fr",
        "Alice.dgos@sante.gouv.fr",
        "ALICE.dgos@sante.gouv.fr",
        "alice.DGOS@sante.gouv.fr",
        "alice.dgos@SANTE.gouv.fr",
    ]
    for variant in variants:
        log_in(client, variant, WRONG)
    response = log_in(client, "Alice.DGOS@Sante.gouv.fr", PASSWORD)
    assert response.status_code == 429
    assert not is_logged_in(client)


def test_a_locked_address_does_not_lock_a_colleague_on_the_same_computer(cast, client):
    for _ in range(5):
        log_in(client, cast.national_requester.email, WRONG)
    assert log_in(client, cast.national_requester.email, PASSWORD).status_code == 429

    colleague = Client()  # same test IP address (127.0.0.1)
    response = log_in(colleague, cast.ars_idf_agent.email, PASSWORD)
    assert response.status_code == 302
    assert is_logged_in(colleague)


def test_a_locked_address_can_still_log_in_from_another_office(cast, client):
    for _ in range(5):
        log_in(client, cast.national_requester.email, WRONG)

    elsewhere = Client(REMOTE_ADDR="10.20.30.40")
    response = log_in(elsewhere, cast.national_requester.email, PASSWORD)
    assert response.status_code == 302
    assert is_logged_in(elsewhere)


def test_a_success_clears_earlier_failures(cast, client):
    email = cast.national_requester.email
    for _ in range(4):
        log_in(client, email, WRONG)
    assert log_in(client, email, PASSWORD).status_code == 302
    client.post(reverse("accounts:logout"))
    for _ in range(4):
        assert log_in(client, email, WRONG).status_code == 200
    assert log_in(client, email, PASSWORD).status_code == 302


def test_deactivated_account_cannot_log_in(cast, client):
    User.objects.filter(pk=cast.national_requester.pk).update(is_active=False)
    response = log_in(client, cast.national_requester.email, PASSWORD)
    assert response.status_code == 200
    assert not is_logged_in(client)


def test_passwords_are_stored_with_argon2(db, client, settings):
    # The suite swaps in a cheaper argon2; here the project's own hashers are used.
    settings.PASSWORD_HASHERS = project_settings.PASSWORD_HASHERS
    user = User.objects.create_user("nouvelle@exemple.fr", password=PASSWORD)
    user.refresh_from_db()
    assert user.password.startswith("argon2")
    assert user.check_password(PASSWORD)
    assert log_in(client, "nouvelle@exemple.fr", PASSWORD).status_code == 302


def test_an_old_pbkdf2_password_is_rehashed_with_argon2_at_login(db, client, settings):
    settings.PASSWORD_HASHERS = project_settings.PASSWORD_HASHERS
    user = UserFactory(email="ancienne@exemple.fr")
    User.objects.filter(pk=user.pk).update(password=make_password(PASSWORD, hasher="pbkdf2_sha256"))
    assert log_in(client, "ancienne@exemple.fr", PASSWORD).status_code == 302
    user.refresh_from_db()
    assert user.password.startswith("argon2")


def test_logged_in_user_opening_the_login_page_is_sent_home(cast, client):
    log_in(client, cast.national_requester.email, PASSWORD)
    response = client.get(reverse("accounts:login"))
    assert response.status_code == 302


def test_login_returns_to_the_page_that_asked_for_it(cast, client):
    target = reverse("accounts:profile")
    response = client.post(
        reverse("accounts:login"),
        {"username": cast.curator.email, "password": PASSWORD, "next": target},
    )
    assert response.status_code == 302
    assert response.url == target


def test_login_never_redirects_to_another_site(cast, client):
    response = client.post(
        reverse("accounts:login"),
        {"username": cast.curator.email, "password": PASSWORD, "next": "https://piege.example/"},
    )
    assert response.status_code == 302
    assert response.url == reverse("home")


def test_logging_out_is_a_post_that_ends_the_session(cast, client):
    log_in(client, cast.national_requester.email, PASSWORD)
    assert client.get(reverse("accounts:profile")).status_code == 200

    response = client.post(reverse("accounts:logout"))
    assert response.status_code == 302
    assert response.url == reverse("accounts:login")
    assert not is_logged_in(client)
    after = client.get(reverse("accounts:profile"))
    assert after.status_code == 302
    assert after.url.startswith(reverse("accounts:login"))


def test_logging_out_by_a_mere_link_is_refused(cast, client):
    log_in(client, cast.national_requester.email, PASSWORD)
    assert client.get(reverse("accounts:logout")).status_code == 405
    assert is_logged_in(client)


def test_someone_both_requester_and_respondent_lands_on_the_campaigns(db, client):
    user = UserFactory(email="double@exemple.fr")
    MembershipFactory(user=user, organisation=OrganisationFactory(), role=Role.REQUESTER)
    MembershipFactory(
        user=user, organisation=OrganisationFactory(establishment=True), role=Role.RESPONDENT
    )
    response = log_in(client, user.email, PASSWORD, follow=True)
    assert response.redirect_chain[-1] == (reverse("surveys:campaign_list"), 302)
    assert response.status_code == 200
