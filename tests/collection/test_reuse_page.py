"""The page of a served value: its sources, their provenance, and correcting the shared value."""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.models import Organisation
from collection import reuse
from collection.models import ValueRevision
from notifications.models import Notification
from surveys.models import AudienceMember, CampaignReuse, OverlapChoice
from surveys.periods import period_of
from tests.collection.answering import assignment, campaign, dictionary, unit_of
from tests.collection.reusing import store
from tests.conftest import client_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def shared(cast):
    """The Pitié's open beds (20), declared to the DGOS, served to a campaign of the ARS
    Île-de-France."""
    open_beds, occupied = dictionary()
    dgos = campaign(
        owner=Organisation.objects.get(short_name="DGOS"),
        title="Capacités",
        definitions=[open_beds],
        start_date=timezone.localdate() - dt.timedelta(days=10),
    )
    ars = campaign(
        owner=cast.ars_idf_agent.memberships.get().organisation,
        title="Tension réanimation",
        definitions=[open_beds, occupied],
        overlap_choice=OverlapChoice.REUSE,
    )
    CampaignReuse.objects.create(campaign=ars, definition=open_beds, source=dgos)
    unit = unit_of(cast.paris_hospital)
    AudienceMember.objects.create(campaign=dgos, unit=unit)
    value = store(unit, open_beds, period_of("day", timezone.localdate()), "20", campaign=dgos)
    owed = assignment(ars, unit)
    AudienceMember.objects.create(campaign=ars, unit=unit)
    url = reverse("collection:served_value", kwargs={"pk": owed.pk, "code": "lits_rea_ouverts"})
    return owed, value, url


def test_the_respondent_sees_the_served_value_and_its_source(cast, shared):
    _owed, value, url = shared
    html = client_for(cast.hospital_respondent).get(url).content.decode()
    assert "Valeur partagée : Lits de réanimation ouverts" in html
    assert "Déclarée par" in html and "« Capacités » (DGOS)" in html
    assert f'name="value" value="{value.pk}"' in html
    assert "Corriger cette valeur" in html


def test_a_correction_is_a_revision_that_the_other_campaign_reads(cast, shared):
    owed, value, url = shared
    client = client_for(cast.hospital_respondent)
    response = client.post(url, {"value": value.pk, "raw": "24", "comment": "Lits rouverts"})
    assert response.status_code == 302
    value.refresh_from_db()
    assert value.data == "24" and value.changed_by == cast.hospital_respondent
    revision = ValueRevision.objects.get(value=value)  # the store() set-up wrote none
    assert (revision.old_data, revision.new_data, revision.comment) == ("20", "24", "Lits rouverts")
    assert reuse.served_for(owed)["lits_rea_ouverts"].data == "24"


def test_the_requesters_of_every_campaign_reading_it_are_told_once_a_day(cast, shared):
    _owed, value, url = shared
    client = client_for(cast.hospital_respondent)
    client.post(url, {"value": value.pk, "raw": "24", "comment": "Lits rouverts"})
    client.post(url, {"value": value.pk, "raw": "25", "comment": "Un de plus"})
    told = Notification.objects.filter(kind="value_corrected")
    recipients = sorted(n.recipient.email for n in told)
    assert recipients == sorted([cast.national_requester.email, cast.ars_idf_agent.email])
    message = told.first()
    assert "Lits de réanimation ouverts" in message.subject
    assert message.about["value"] == value.pk


def test_a_refused_correction_says_why_and_changes_nothing(cast, shared):
    _owed, value, url = shared
    client = client_for(cast.hospital_respondent)
    response = client.post(url, {"value": value.pk, "raw": "900", "comment": "?"})
    assert response.status_code == 400
    assert "dépasse le maximum" in response.content.decode()
    value.refresh_from_db()
    assert value.data == "20"


def test_the_requester_reads_without_a_correction_form(cast, shared):
    _owed, value, url = shared
    reader = client_for(cast.ars_idf_agent)
    html = reader.get(url).content.decode()
    assert "Valeur partagée : Lits de réanimation ouverts" in html
    assert "Corriger cette valeur" not in html
    refused = reader.post(url, {"value": value.pk, "raw": "24", "comment": "x"})
    assert refused.status_code == 403
    # The DGOS did not send this campaign: its requester does not see the assignment.
    assert client_for(cast.national_requester).get(url).status_code == 404
    value.refresh_from_db()
    assert value.data == "20"


def test_a_question_that_is_asked_has_no_served_page(cast, shared):
    owed, _value, _url = shared
    url = reverse("collection:served_value", kwargs={"pk": owed.pk, "code": "lits_rea_occupes"})
    assert client_for(cast.hospital_respondent).get(url).status_code == 404


def test_a_value_id_that_is_not_a_number_is_not_found(cast, shared):
    _owed, value, url = shared
    client = client_for(cast.hospital_respondent)
    for posted in ("abc", "²", "-1", ""):
        response = client.post(url, {"value": posted, "raw": "24", "comment": "Lits rouverts"})
        assert response.status_code == 404, posted
    value.refresh_from_db()
    assert value.data == "20"


def _refused(client, url, value, match):
    response = client.post(url, {"value": value.pk, "raw": "24", "comment": "Lits rouverts"})
    assert response.status_code == 400
    assert match in response.content.decode()
    value.refresh_from_db()
    assert value.data == "20" and not ValueRevision.objects.filter(value=value).exists()


def test_a_correction_from_a_locked_request_is_refused_in_french(cast, shared):
    owed, value, url = shared
    period = owed.period
    period.locks_at = timezone.now() - dt.timedelta(minutes=1)
    period.save(update_fields=["locks_at"])
    _refused(client_for(cast.hospital_respondent), url, value, "est verrouillée depuis le")


def test_a_correction_of_a_value_whose_own_period_is_locked_is_refused(cast, shared):
    owed, value, url = shared
    declared = assignment(value.campaign, owed.unit)
    declared.period.locks_at = timezone.now() - dt.timedelta(hours=1)
    declared.period.save(update_fields=["locks_at"])
    value.assignment = declared
    value.save(update_fields=["assignment"])
    _refused(
        client_for(cast.hospital_respondent),
        url,
        value,
        "de cette valeur est verrouillée depuis le",
    )


def test_a_correction_of_a_value_of_a_closed_campaign_past_its_window_is_refused(cast, shared):
    owed, value, url = shared
    source = value.campaign
    assignment(source, owed.unit)  # the DGOS asked today's period, then closed
    source.status = source.Status.CLOSED
    source.correction_days = 0
    source.closed_at = timezone.now()
    source.save(update_fields=["status", "correction_days", "closed_at"])
    # Closed today: it still serves what it collected, but its correction window is over.
    assert reuse.served_for(owed)["lits_rea_ouverts"].available
    _refused(client_for(cast.hospital_respondent), url, value, "son délai de correction est passé")
