"""Inviting people: the e-mail that goes out, the link it carries, and every way it can fail.

Tests that read mail use ``transactional_db``: the invitation is mailed from
``transaction.on_commit`` (through a Celery task), which only fires on a real commit.
"""

from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts import services
from accounts.models import AuditEvent, Invitation, Membership, Organisation, Role, User
from tests.accounts.factories import PASSWORD
from tests.accounts.helpers import links, log_in, page_text, parts, settle
from tests.conftest import client_for

NEW_PASSWORD = "Une-phrase-de-passe-solide-2024"
INVITEE = "Nadia.Martin@ARS.Sante.fr"
INVITE_LINK = r"/comptes/invitation/[A-Za-z0-9_\-]+/"


def ars_idf() -> Organisation:
    return Organisation.objects.get(kind=Organisation.Kind.REGIONAL_AGENCY, region_code="11")


def dgos() -> Organisation:
    return Organisation.objects.get(short_name="DGOS")


def invite_through_the_page(inviter, *, email, organisation, role):
    client = client_for(inviter)
    return client.post(
        reverse("accounts:invitation_list"),
        {"email": email, "organisation": organisation.pk, "role": role},
    )


def create_invitation(cast, *, email="nouvelle.personne@ars.sante.fr", role=Role.REQUESTER):
    """An invitation made by the curator (no mail: outside a real commit nothing is sent)."""
    _invitation, token = services.invitation_create(
        email=email, organisation=ars_idf(), role=role, invited_by=cast.curator
    )
    return token


def accept_form(**overrides):
    return {
        "first_name": "Nadia",
        "last_name": "Martin",
        "password1": NEW_PASSWORD,
        "password2": NEW_PASSWORD,
        **overrides,
    }


def received_link(mailbox) -> str:
    [message] = mailbox.wait_for(1)
    text, _rich = parts(message)
    [path] = links(text, INVITE_LINK)
    return path


# --- The whole journey, over real SMTP --------------------------------------------------------


def test_curator_invites_a_new_person_who_creates_an_account_and_lands_home(
    transactional_db, mailbox, cast
):
    assert not connection.in_atomic_block, "the test must run outside a wrapping transaction"

    response = invite_through_the_page(
        cast.curator, email=INVITEE, organisation=ars_idf(), role=Role.REQUESTER
    )
    assert response.status_code == 302
    assert response.url == reverse("accounts:invitation_list")

    [message] = mailbox.wait_for(1)
    settle(mailbox)
    assert len(mailbox.messages) == 1
    assert message["To"] == "nadia.martin@ars.sante.fr"
    assert message["Subject"].strip() == "[Recueil santé] Invitation à rejoindre ARS Île-de-France"
    text, rich = parts(message)
    assert "Bonjour" in text
    assert "vous invite à rejoindre" in text
    assert 'lang="fr"' in rich
    assert "Accepter l'invitation" in rich
    [path] = links(text, INVITE_LINK)
    assert links(rich, INVITE_LINK) == [path]

    invitee = Client()
    page = invitee.get(path)
    assert page.status_code == 200
    assert "Rejoindre ARS Île-de-France" in page_text(page)
    assert "nadia.martin@ars.sante.fr" in page_text(page)

    response = invitee.post(path, accept_form())
    assert response.status_code == 302
    assert response.url == reverse("home")
    assert invitee.get(reverse("home")).url == reverse("surveys:campaign_list")

    user = User.objects.get(email="nadia.martin@ars.sante.fr")
    assert (user.first_name, user.last_name) == ("Nadia", "Martin")
    assert user.check_password(NEW_PASSWORD)
    assert user.password.startswith("argon2")
    assert list(user.memberships.values_list("organisation__name", "role")) == [
        ("ARS Île-de-France", Role.REQUESTER)
    ]
    assert int(invitee.session["_auth_user_id"]) == user.pk
    invitation = Invitation.objects.get(email="nadia.martin@ars.sante.fr")
    assert invitation.accepted_by == user
    assert invitation.invited_by == cast.curator

    again = Client().get(path)
    assert again.status_code == 410
    assert "déjà été utilisée" in page_text(again)


def test_the_new_account_can_log_in_later_with_its_chosen_password(transactional_db, mailbox, cast):
    invite_through_the_page(cast.curator, email=INVITEE, organisation=ars_idf(), role="viewer")
    path = received_link(mailbox)
    Client().post(path, accept_form())

    response = log_in(Client(), "nadia.martin@ars.sante.fr", NEW_PASSWORD)
    assert response.status_code == 302


def test_only_a_hash_of_the_link_token_is_stored(transactional_db, mailbox, cast):
    invite_through_the_page(cast.curator, email=INVITEE, organisation=ars_idf(), role="viewer")
    token = received_link(mailbox).rstrip("/").rsplit("/", 1)[-1]
    invitation = Invitation.objects.get()
    assert token not in invitation.token_hash
    assert invitation.token_hash == services._hash_token(token)


def test_invitation_is_valid_for_seven_days(transactional_db, mailbox, cast):
    before = timezone.now()
    invite_through_the_page(cast.curator, email=INVITEE, organisation=ars_idf(), role="viewer")
    invitation = Invitation.objects.get()
    assert before + timedelta(days=7) <= invitation.expires_at
    assert invitation.expires_at <= timezone.now() + timedelta(days=7)
    text, _rich = parts(mailbox.wait_for(1)[0])
    expires = timezone.localtime(invitation.expires_at)
    assert f"valable jusqu'au {expires:%d/%m/%Y}" in text


def test_a_refused_invitation_sends_no_mail(transactional_db, mailbox, cast):
    response = invite_through_the_page(
        cast.curator,
        email=cast.national_requester.email,
        organisation=dgos(),
        role=Role.REQUESTER,
    )
    assert response.status_code == 200
    # A second, valid invitation proves the sink works: only its mail arrives.
    invite_through_the_page(cast.curator, email=INVITEE, organisation=ars_idf(), role="viewer")
    [message] = mailbox.wait_for(1)
    settle(mailbox)
    assert len(mailbox.messages) == 1
    assert message["To"] == "nadia.martin@ars.sante.fr"


def test_person_with_an_account_logs_in_then_accepts_and_keeps_their_password(
    transactional_db, mailbox, cast
):
    outsider = cast.outsider
    password_before = User.objects.get(pk=outsider.pk).password
    invite_through_the_page(
        cast.curator, email="Charlie@Exemple.fr", organisation=ars_idf(), role=Role.VIEWER
    )
    path = received_link(mailbox)

    anonymous = Client()
    page = anonymous.get(path)
    assert page.status_code == 200
    assert "Un compte existe déjà pour cette adresse" in page_text(page)
    assert f'href="{reverse("accounts:login")}?next={path}"' in page_text(page)
    assert 'name="password1"' not in page_text(page)
    refused = anonymous.post(path)
    assert refused.status_code == 200
    assert "Un compte existe déjà pour charlie@exemple.fr" in page_text(refused)
    assert not Membership.objects.filter(user=outsider).exists()

    response = anonymous.post(
        reverse("accounts:login"),
        {"username": outsider.email, "password": PASSWORD, "next": path},
    )
    assert response.status_code == 302
    assert response.url == path
    page = anonymous.get(path)
    assert "Accepter l'invitation" in page_text(page)

    response = anonymous.post(path)
    assert response.status_code == 302
    assert response.url == reverse("home")
    assert list(Membership.objects.filter(user=outsider).values_list("organisation", "role")) == [
        (ars_idf().pk, Role.VIEWER)
    ]
    outsider.refresh_from_db()
    assert outsider.password == password_before
    assert outsider.check_password(PASSWORD)
    assert Client().get(path).status_code == 410


def test_someone_else_logged_in_cannot_take_an_invitation_meant_for_an_existing_account(
    transactional_db, mailbox, cast
):
    invite_through_the_page(
        cast.curator, email=cast.outsider.email, organisation=ars_idf(), role=Role.VIEWER
    )
    path = received_link(mailbox)
    intruder = client_for(cast.national_requester)
    assert "Se connecter" in page_text(intruder.get(path))

    response = intruder.post(path)
    assert response.status_code == 200
    assert "connectez-vous avec ce compte" in page_text(response)
    assert not Membership.objects.filter(organisation=ars_idf(), role=Role.VIEWER).exists()
    assert Invitation.objects.get().accepted_at is None


# --- Links that cannot be used ---------------------------------------------------------------


def test_expired_invitation_link_says_so_in_french(cast, client):
    token = create_invitation(cast)
    Invitation.objects.update(expires_at=timezone.now() - timedelta(minutes=1))

    response = client.get(reverse("accounts:invitation_accept", args=[token]))
    assert response.status_code == 410
    assert "a expiré" in page_text(response)

    response = client.post(reverse("accounts:invitation_accept", args=[token]), accept_form())
    assert response.status_code == 410
    assert not User.objects.filter(email="nouvelle.personne@ars.sante.fr").exists()


def test_unknown_invitation_token_says_the_link_is_not_valid(cast, client):
    create_invitation(cast)
    response = client.get(reverse("accounts:invitation_accept", args=["jeton-invente"]))
    assert response.status_code == 410
    assert "n'est pas valide" in page_text(response)


def test_used_invitation_link_says_it_has_already_been_used(cast, client):
    token = create_invitation(cast)
    url = reverse("accounts:invitation_accept", args=[token])
    assert client.post(url, accept_form()).status_code == 302

    response = Client().post(url, accept_form(first_name="Autre"))
    assert response.status_code == 410
    assert "déjà été utilisée" in page_text(response)
    assert User.objects.get(email="nouvelle.personne@ars.sante.fr").first_name == "Nadia"


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (
            {"password2": "Une-autre-phrase-de-passe-99"},
            "Les deux mots de passe ne sont pas identiques",
        ),
        ({"password1": "Court-1", "password2": "Court-1"}, "Ce mot de passe est trop court"),
        (
            {"password1": "123456789012345", "password2": "123456789012345"},
            "Ce mot de passe est entièrement numérique",
        ),
        ({"first_name": ""}, "Ce champ est obligatoire"),
    ],
    ids=["mismatch", "too-short", "numeric", "no-first-name"],
)
def test_a_bad_account_form_is_shown_again_in_french_and_creates_nothing(
    cast, client, overrides, message
):
    token = create_invitation(cast)
    url = reverse("accounts:invitation_accept", args=[token])
    response = client.post(url, accept_form(**overrides))
    assert response.status_code == 200
    assert message in page_text(response)
    assert 'name="password1"' in page_text(response)
    assert not User.objects.filter(email="nouvelle.personne@ars.sante.fr").exists()
    assert Invitation.objects.get().accepted_at is None
    assert "_auth_user_id" not in client.session
    # The link still works once the form is right.
    assert client.post(url, accept_form()).status_code == 302


def test_accepting_records_the_account_creation_and_the_acceptance(cast, client):
    token = create_invitation(cast)
    client.post(reverse("accounts:invitation_accept", args=[token]), accept_form())
    user = User.objects.get(email="nouvelle.personne@ars.sante.fr")
    actions = set(AuditEvent.objects.filter(actor=user).values_list("action", flat=True))
    assert {"user.create", "invitation.accept"} <= actions
    membership_event = AuditEvent.objects.get(action="membership.add", details__user=user.email)
    assert membership_event.actor == cast.curator


# --- Who may invite whom ---------------------------------------------------------------------


def test_respondent_cannot_invite_into_another_organisation(cast):
    with pytest.raises(services.InvitationError):
        services.invitation_create(
            email="quelquun@exemple.fr",
            organisation=ars_idf(),
            role=Role.REQUESTER,
            invited_by=cast.ehpad_respondent,
        )
    other_establishment = cast.hospital_respondent.memberships.get().organisation
    with pytest.raises(services.InvitationError):
        services.invitation_create(
            email="quelquun@exemple.fr",
            organisation=other_establishment,
            role=Role.RESPONDENT,
            invited_by=cast.ehpad_respondent,
        )
    assert not Invitation.objects.exists()


def test_respondent_is_offered_only_their_own_organisation(cast):
    own = cast.ehpad_respondent.memberships.get().organisation
    client = client_for(cast.ehpad_respondent)
    response = client.get(reverse("accounts:invitation_list"))
    assert response.status_code == 200
    offered = list(response.context["form"].fields["organisation"].queryset)
    assert offered == [own]

    response = client.post(
        reverse("accounts:invitation_list"),
        {"email": "quelquun@exemple.fr", "organisation": ars_idf().pk, "role": Role.REQUESTER},
    )
    assert response.status_code == 200
    assert "Sélectionnez un choix valide" in page_text(response)
    assert not Invitation.objects.exists()


def test_respondent_may_invite_a_colleague_into_their_own_establishment(cast):
    own = cast.ehpad_respondent.memberships.get().organisation
    response = invite_through_the_page(
        cast.ehpad_respondent,
        email="adjointe@ehpad-edmar-lama.fr",
        organisation=own,
        role="respondent",
    )
    assert response.status_code == 302
    assert Invitation.objects.get().organisation == own


def test_a_member_cannot_invite_in_a_role_they_do_not_hold(cast):
    with pytest.raises(services.InvitationError):
        services.invitation_create(
            email="quelquun@exemple.fr",
            organisation=ars_idf(),
            role=Role.CURATOR,
            invited_by=cast.ars_idf_agent,
        )


def test_ars_curator_cannot_invite_into_another_region(cast):
    from tests.accounts.factories import MembershipFactory

    MembershipFactory(user=cast.ars_idf_agent, organisation=ars_idf(), role=Role.CURATOR)
    guadeloupe = Organisation.objects.get(kind="ars", region_code="01")
    with pytest.raises(services.InvitationError):
        services.invitation_create(
            email="quelquun@exemple.fr",
            organisation=guadeloupe,
            role=Role.REQUESTER,
            invited_by=cast.ars_idf_agent,
        )


def test_inviting_someone_who_already_holds_that_role_is_refused_in_french(cast):
    response = invite_through_the_page(
        cast.curator, email="Alice.DGOS@Sante.gouv.fr", organisation=dgos(), role=Role.REQUESTER
    )
    assert response.status_code == 200
    assert "est déjà rattaché(e)" in page_text(response)
    assert "inutile de l'inviter" in page_text(response)
    assert not Invitation.objects.exists()


def test_a_member_may_be_invited_into_the_same_organisation_in_another_role(cast):
    response = invite_through_the_page(
        cast.curator, email=cast.national_requester.email, organisation=dgos(), role=Role.VIEWER
    )
    assert response.status_code == 302
    assert Invitation.objects.get().role == Role.VIEWER


def test_a_role_that_does_not_fit_the_organisation_is_refused(cast):
    response = invite_through_the_page(
        cast.curator, email=INVITEE, organisation=ars_idf(), role=Role.RESPONDENT
    )
    assert response.status_code == 200
    assert "les rôles possibles sont" in page_text(response)
    assert not Invitation.objects.exists()

    with pytest.raises(services.MembershipError, match="n'existe pas pour une organisation"):
        services.invitation_create(
            email=INVITEE, organisation=ars_idf(), role=Role.RESPONDENT, invited_by=cast.curator
        )


def test_outsider_sees_the_invitations_page_without_a_form(cast):
    response = client_for(cast.outsider).get(reverse("accounts:invitation_list"))
    assert response.status_code == 200
    assert "Inviter une personne" not in page_text(response)


def test_inviter_sees_their_pending_invitation_in_the_list(cast):
    invite_through_the_page(cast.curator, email=INVITEE, organisation=ars_idf(), role="viewer")
    response = client_for(cast.curator).get(reverse("accounts:invitation_list"))
    assert "nadia.martin@ars.sante.fr" in page_text(response)
    assert "En attente jusqu'au" in page_text(response)
    other = client_for(cast.ehpad_respondent).get(reverse("accounts:invitation_list"))
    assert "nadia.martin@ars.sante.fr" not in page_text(other)


def test_national_curator_is_offered_every_active_organisation(cast):
    Organisation.objects.filter(kind="ars", region_code="01").update(is_active=False)
    response = client_for(cast.curator).get(reverse("accounts:invitation_list"))
    offered = set(response.context["form"].fields["organisation"].queryset)
    assert offered == set(Organisation.objects.filter(is_active=True))
    assert ars_idf() in offered


def test_regional_curator_is_offered_their_agency_and_its_establishments_only(cast):
    from tests.accounts.factories import MembershipFactory

    MembershipFactory(user=cast.ars_idf_agent, organisation=ars_idf(), role=Role.CURATOR)
    response = client_for(cast.ars_idf_agent).get(reverse("accounts:invitation_list"))
    offered = {o.name for o in response.context["form"].fields["organisation"].queryset}
    assert offered == {"ARS Île-de-France", "Hôpital de la Pitié"}


def test_the_confirmation_gives_the_expiry_date_in_french_local_time(cast, settings):
    # Make the link expire at 23:30 UTC, which is already the next day in Paris.
    now = timezone.now()
    expiry = (now + timedelta(days=2)).replace(hour=23, minute=30, second=0, microsecond=0)
    settings.INVITATION_VALIDITY = expiry - now
    client = client_for(cast.curator)
    response = client.post(
        reverse("accounts:invitation_list"),
        {"email": INVITEE, "organisation": ars_idf().pk, "role": Role.VIEWER},
        follow=True,
    )
    local_day = timezone.localtime(Invitation.objects.get().expires_at)
    assert local_day.date() != expiry.date()
    assert f"Le lien est valable jusqu'au {local_day:%d/%m/%Y}" in page_text(response)


def test_a_requester_may_invite_a_fellow_requester_but_not_a_viewer(cast):
    ok = invite_through_the_page(
        cast.ars_idf_agent, email=INVITEE, organisation=ars_idf(), role=Role.REQUESTER
    )
    assert ok.status_code == 302
    refused = invite_through_the_page(
        cast.ars_idf_agent, email="autre@ars.sante.fr", organisation=ars_idf(), role=Role.VIEWER
    )
    assert refused.status_code == 200
    assert "Vous ne pouvez pas inviter de personne dans cette organisation" in page_text(refused)
    assert list(Invitation.objects.values_list("email", flat=True)) == ["nadia.martin@ars.sante.fr"]
