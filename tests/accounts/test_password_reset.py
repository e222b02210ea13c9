"""Forgotten passwords: a mail only for real accounts, a link that works once, then a login.

Django's reset view sends the mail during the request; ``transactional_db`` keeps these tests
on the same footing as the other mail tests (real commits, real SMTP to the sink).
"""

import pytest
from django.test import Client
from django.urls import resolve, reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from accounts.models import User
from tests.accounts.factories import PASSWORD
from tests.accounts.helpers import links, log_in, page_text, parts, settle

NEW_PASSWORD = "Nouvelle-phrase-de-passe-2025"
RESET_LINK = r"/comptes/mot-de-passe/reinitialiser/[^/]+/[^/]+/"


def ask_for_a_reset(client: Client, email: str):
    return client.post(reverse("accounts:password_reset"), {"email": email})


def reset_link_from(message) -> str:
    text, rich = parts(message)
    [path] = links(text, RESET_LINK)
    assert links(rich, RESET_LINK) == [path]
    return path


def test_unknown_address_gets_the_same_page_and_no_mail(transactional_db, mailbox, cast):
    client = Client()
    unknown = ask_for_a_reset(client, "personne@nulle-part.fr")
    known = ask_for_a_reset(client, cast.national_requester.email)

    # Same answer for both: nothing tells a visitor whether an account exists.
    assert unknown.status_code == known.status_code == 302
    assert unknown.url == known.url == reverse("accounts:password_reset_done")
    done = client.get(unknown.url)
    assert "Vérifiez votre messagerie" in page_text(done)

    # Only the known address got a mail (the sink works: the second request's mail arrived).
    [message] = mailbox.wait_for(1)
    settle(mailbox)
    assert len(mailbox.messages) == 1
    assert message["To"] == cast.national_requester.email


def test_deactivated_account_gets_no_reset_mail(transactional_db, mailbox, cast):
    User.objects.filter(pk=cast.curator.pk).update(is_active=False)
    response = ask_for_a_reset(Client(), cast.curator.email)
    assert response.url == reverse("accounts:password_reset_done")
    ask_for_a_reset(Client(), cast.national_requester.email)
    mailbox.wait_for(1)
    settle(mailbox)
    assert [m["To"] for m in mailbox.messages] == [cast.national_requester.email]


def test_reset_mail_is_in_french_with_a_text_and_an_html_part(transactional_db, mailbox, cast):
    ask_for_a_reset(Client(), cast.national_requester.email)
    [message] = mailbox.wait_for(1)
    assert message["Subject"].strip() == "[Recueil santé] Réinitialisation de votre mot de passe"
    text, rich = parts(message)
    assert "Bonjour" in text
    assert "valable 24 heures" in text
    assert 'lang="fr"' in rich
    assert "Choisir un nouveau mot de passe" in rich


def test_reset_link_sets_a_new_password_that_then_logs_in(transactional_db, mailbox, cast):
    email = cast.national_requester.email
    client = Client()
    ask_for_a_reset(client, email)
    path = reset_link_from(mailbox.wait_for(1)[0])
    match = resolve(path)
    assert match.view_name == "accounts:password_reset_confirm"
    assert match.kwargs["uidb64"] == urlsafe_base64_encode(force_bytes(cast.national_requester.pk))

    # Django swaps the token in the URL for one kept in the session, then shows the form.
    response = client.get(path)
    assert response.status_code == 302
    assert response.url.endswith("/set-password/")
    form_page = client.get(response.url)
    assert form_page.status_code == 200
    assert "Choisir un nouveau mot de passe" in page_text(form_page)

    response = client.post(
        response.url, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD}
    )
    assert response.status_code == 302
    assert response.url == reverse("accounts:password_reset_complete")
    assert "Votre nouveau mot de passe est enregistré" in page_text(client.get(response.url))

    assert log_in(Client(), email, PASSWORD).status_code == 200  # the old one no longer works
    response = log_in(Client(), email, NEW_PASSWORD)
    assert response.status_code == 302
    assert response.url == reverse("home")


def test_reset_works_whatever_the_case_of_the_address(transactional_db, mailbox, cast):
    ask_for_a_reset(Client(), "Alice.DGOS@Sante.gouv.fr")
    [message] = mailbox.wait_for(1)
    assert message["To"] == cast.national_requester.email


def test_a_used_reset_link_says_it_has_expired_or_been_used(transactional_db, mailbox, cast):
    client = Client()
    ask_for_a_reset(client, cast.national_requester.email)
    path = reset_link_from(mailbox.wait_for(1)[0])
    form_url = client.get(path).url
    client.post(form_url, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})

    for visitor in (client, Client()):
        response = visitor.get(path, follow=True)
        assert response.status_code == 200
        assert "Lien expiré ou déjà utilisé" in page_text(response)
        assert 'name="new_password1"' not in page_text(response)


def test_a_reset_link_dies_once_the_password_changes_another_way(transactional_db, mailbox, cast):
    ask_for_a_reset(Client(), cast.national_requester.email)
    path = reset_link_from(mailbox.wait_for(1)[0])
    user = User.objects.get(pk=cast.national_requester.pk)
    user.set_password("Encore-une-autre-phrase-77")
    user.save()
    response = Client().get(path, follow=True)
    assert "Lien expiré ou déjà utilisé" in page_text(response)


@pytest.mark.parametrize(
    ("first", "second", "message"),
    [
        (NEW_PASSWORD, "Pas-la-meme-phrase-2025", "Les deux mots de passe ne correspondent pas"),
        ("Court-1", "Court-1", "Ce mot de passe est trop court"),
    ],
    ids=["mismatch", "too-short"],
)
def test_a_bad_new_password_is_refused_in_french_and_the_link_still_works(
    transactional_db, mailbox, cast, first, second, message
):
    client = Client()
    ask_for_a_reset(client, cast.national_requester.email)
    path = reset_link_from(mailbox.wait_for(1)[0])
    form_url = client.get(path).url
    response = client.post(form_url, {"new_password1": first, "new_password2": second})
    assert response.status_code == 200
    assert message in page_text(response)
    assert User.objects.get(pk=cast.national_requester.pk).check_password(PASSWORD)

    response = client.post(form_url, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
    assert response.status_code == 302


def test_resetting_the_password_logs_out_every_other_session(transactional_db, mailbox, cast):
    from tests.conftest import client_for

    elsewhere = client_for(cast.national_requester)
    assert elsewhere.get(reverse("accounts:profile")).status_code == 200

    client = Client()
    ask_for_a_reset(client, cast.national_requester.email)
    form_url = client.get(reset_link_from(mailbox.wait_for(1)[0])).url
    client.post(form_url, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})

    response = elsewhere.get(reverse("accounts:profile"))
    assert response.status_code == 302
    assert response.url.startswith(reverse("accounts:login"))


def test_a_locked_out_person_who_resets_their_password_can_log_in_at_once(
    transactional_db, mailbox, cast
):
    # The lockout page offers the reset as the way back in: it must work without waiting.
    email = cast.national_requester.email
    client = Client()
    for _ in range(5):
        log_in(client, email, "Pas-le-bon-mot-de-passe-1")
    locked = log_in(client, email, PASSWORD)
    assert locked.status_code == 429
    assert reverse("accounts:password_reset") in page_text(locked)

    ask_for_a_reset(client, email)
    form_url = client.get(reset_link_from(mailbox.wait_for(1)[0])).url
    client.post(form_url, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})

    response = log_in(client, email, NEW_PASSWORD)
    assert response.status_code == 302
    assert response.url == reverse("home")
