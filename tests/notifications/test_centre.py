"""The in-app centre: one's own notifications, the unread badge, marking read, preferences."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from notifications.models import Notification, Preference
from notifications.services import Recipient
from tests.access_matrix.notifications import EXPECTED
from tests.conftest import ROLES, client_for
from tests.notifications.helpers import notify_request


def two_for(user, **extra):
    return [
        notify_request(
            [Recipient(user=user)], dedup=f"campagne-{n}", subject=f"Demande {n}", **extra
        )[0]
        for n in (1, 2)
    ]


def test_the_header_shows_the_unread_count_and_the_centre_lists_newest_first(db, cast):
    two_for(cast.ehpad_respondent)
    notify_request([Recipient(user=cast.outsider)], dedup="autre", subject="Pas pour vous")

    response = client_for(cast.ehpad_respondent).get(reverse("notifications:inbox"))

    html = response.content.decode()
    assert response.status_code == 200
    assert 'fr-badge--no-icon fr-ml-1v" aria-hidden="true">2</span>' in html
    assert "(2 non lues)" in html
    assert html.index("Demande 2") < html.index("Demande 1")
    assert "Pas pour vous" not in html
    assert "Tout marquer comme lu" in html
    assert html.count("Non lue</span>") == 2


def test_opening_a_notification_marks_it_read_and_follows_its_link(db, cast):
    first, _second = two_for(cast.ehpad_respondent, link="/collecte/")
    client = client_for(cast.ehpad_respondent)

    response = client.post(reverse("notifications:read", args=[first.pk]))

    assert response.status_code == 302
    assert response.url == "/collecte/"
    first.refresh_from_db()
    assert first.read_at is not None
    assert "(1 non lue)" in client.get(reverse("notifications:inbox")).content.decode()


def test_an_outside_link_is_never_followed(db, cast):
    [row] = notify_request([Recipient(user=cast.curator)], link="https://exemple.com/piege")
    response = client_for(cast.curator).post(reverse("notifications:read", args=[row.pk]))
    assert response.url == reverse("notifications:inbox")


def test_nobody_reads_or_marks_another_users_notification(db, cast):
    [row] = notify_request([Recipient(user=cast.hospital_respondent)])
    response = client_for(cast.ehpad_respondent).post(reverse("notifications:read", args=[row.pk]))
    assert response.status_code == 404
    row.refresh_from_db()
    assert row.read_at is None


def test_mark_all_read_clears_the_badge_and_only_ones_own(db, cast):
    two_for(cast.ehpad_respondent)
    [other] = notify_request([Recipient(user=cast.curator)], dedup="autre")
    client = client_for(cast.ehpad_respondent)

    response = client.post(reverse("notifications:read_all"), follow=True)

    html = response.content.decode()
    assert "2 notification(s) marquée(s) comme lue(s)." in html
    assert "Aucune notification non lue." in html
    assert "Tout marquer comme lu" not in html
    assert not Notification.objects.filter(recipient=cast.ehpad_respondent, read_at=None).exists()
    other.refresh_from_db()
    assert other.read_at is None


def test_preferences_are_saved_from_the_form_and_shown_again(db, cast):
    client = client_for(cast.ars_idf_agent)
    page = client.get(reverse("notifications:preferences")).content.decode()
    assert "Récapitulatif des nouvelles demandes" in page
    assert "Une fois par jour, à 7 h" in page

    response = client.post(
        reverse("notifications:preferences"),
        {"digest_mode": "daily", "emailed_kinds": ["reminder", "export_ready"]},
        follow=True,
    )

    assert "Vos préférences de notification sont enregistrées." in response.content.decode()
    preference = Preference.objects.get(user=cast.ars_idf_agent)
    assert preference.digest_mode == "daily"
    assert preference.muted_kinds == ["coordination", "value_corrected"]
    assert response.context["form"].initial["emailed_kinds"] == ["reminder", "export_ready"]


def test_an_invalid_preference_is_refused_with_the_form_shown_again(db, cast):
    response = client_for(cast.curator).post(
        reverse("notifications:preferences"), {"digest_mode": "weekly"}
    )
    assert response.status_code == 200
    assert "Sélectionnez un choix valide" in response.content.decode()
    assert not Preference.objects.exists()


def test_the_badge_costs_one_query_per_page(db, cast):
    two_for(cast.curator)
    client = client_for(cast.curator)
    client.get(reverse("accounts:profile"))
    with CaptureQueriesContext(connection) as captured:
        client.get(reverse("accounts:profile"))
    unread = [q for q in captured.captured_queries if "notifications_notification" in q["sql"]]
    assert len(unread) == 1


@pytest.mark.parametrize("role", ROLES)
def test_every_role_gets_its_own_centre_and_nobody_elses(cast, role):
    """The block of the access matrix for these pages, checked on its own."""
    client = client_for(cast.user(role))
    for name, (builder, table) in EXPECTED.items():
        url = reverse(name, kwargs=builder(cast) if builder else None)
        assert client.get(url).status_code == table[role], (name, role)
