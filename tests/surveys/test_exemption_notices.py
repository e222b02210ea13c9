"""Exemptions tell the other side: a request reaches the owner's requesters, a decision the
respondent who asked (outbox rows, then the rendered e-mails)."""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.models import Membership, Organisation, Role
from notifications.delivery import deliver
from notifications.models import Notification
from surveys import campaigns
from surveys.campaigns import CampaignError
from surveys.models import Assignment, SurveyVersion
from tests.surveys.factories import QuestionFactory, SurveyFactory, SurveyVersionFactory

TODAY = timezone.localdate()


@pytest.fixture
def dgos(cast):
    return Organisation.objects.get(short_name="DGOS")


@pytest.fixture
def campaign(cast, dgos):
    version = SurveyVersionFactory(
        survey=SurveyFactory(owner=dgos), status=SurveyVersion.Status.DRAFT
    )
    QuestionFactory(section__version=version)
    campaign = campaigns.campaign_create(
        survey=version.survey,
        owner=dgos,
        title="Tensions hospitalières",
        unit_kind="establishment",
        frequency="once",
        period_kind="day",
        start_date=TODAY,
        due_offset_days=2,
        due_time=dt.time(16, 0),
        user=cast.national_requester,
    )
    campaign.audience_filters = {"finess": [cast.cayenne_ehpad.finess, cast.paris_hospital.finess]}
    campaign.save(update_fields=["audience_filters"])
    return campaigns.campaign_open(campaign=campaign, user=cast.national_requester)


@pytest.fixture
def ehpad(cast, campaign):
    return Assignment.objects.get(campaign=campaign, unit__finess=cast.cayenne_ehpad.finess)


def rows(kind):
    return list(Notification.objects.filter(kind=kind).order_by("email", "pk"))


def dgos_requesters(dgos):
    return sorted(
        Membership.objects.filter(organisation=dgos, role=Role.REQUESTER).values_list(
            "user__email", flat=True
        )
    )


def test_a_request_tells_the_owners_requesters_and_nobody_else(cast, dgos, ehpad, mailoutbox):
    campaigns.exemption_request(
        assignment=ehpad, reason="Fermé pour travaux en décembre", user=cast.ehpad_respondent
    )
    told = rows("exemption_requested")
    assert sorted(n.recipient.email for n in told) == dgos_requesters(dgos)
    assert cast.national_requester.email in [n.recipient.email for n in told]
    assert cast.ars_idf_agent.email not in [n.recipient.email for n in told]
    assert told[0].link == reverse("surveys:exemption_list")
    assert told[0].about == {"campaign": ehpad.campaign_id, "assignments": [ehpad.pk]}
    deliver(ids=[n.pk for n in told])
    assert not Notification.objects.filter(pk__in=[n.pk for n in told]).exclude(status="sent")
    mail = next(m for m in mailoutbox if m.to == [cast.national_requester.email])
    assert mail.subject.endswith("Demande de dispense à décider : Tensions hospitalières")
    assert "Fermé pour travaux en décembre" in mail.body
    assert "Ehpad Edmar Lama" in mail.body
    assert "Fermé pour travaux en décembre" in mail.alternatives[0][0]


def test_requesters_are_told_once_a_day_per_campaign_however_many_ask(cast, campaign, ehpad):
    campaigns.exemption_request(assignment=ehpad, reason="Fermé", user=cast.ehpad_respondent)
    first = len(rows("exemption_requested"))
    hospital = Assignment.objects.get(campaign=campaign, unit__finess=cast.paris_hospital.finess)
    campaigns.exemption_request(
        assignment=hospital, reason="Service fermé", user=cast.hospital_respondent
    )
    assert first >= 1
    assert len(rows("exemption_requested")) == first


def test_an_accepted_request_tells_the_respondent_who_asked(cast, ehpad, mailoutbox):
    campaigns.exemption_request(assignment=ehpad, reason="Fermé", user=cast.ehpad_respondent)
    campaigns.exemption_decide(
        assignment=ehpad, accept=True, user=cast.national_requester, comment=""
    )
    [told] = rows("exemption_decided")
    assert told.recipient == cast.ehpad_respondent
    assert told.context["accepted"] is True
    assert told.subject == "Dispense accordée : Tensions hospitalières — Ehpad Edmar Lama"
    deliver(ids=[told.pk])
    [mail] = [m for m in mailoutbox if m.to == [cast.ehpad_respondent.email]]
    assert "a accordé la dispense" in mail.body
    assert "aucune réponse n'est plus attendue" in mail.body


def test_a_refusal_tells_the_respondent_why_and_that_the_answer_is_still_owed(
    cast, ehpad, mailoutbox
):
    campaigns.exemption_request(assignment=ehpad, reason="Fermé", user=cast.legal_entity_respondent)
    campaigns.exemption_decide(
        assignment=ehpad,
        accept=False,
        user=cast.national_requester,
        comment="Le site reste ouvert en décembre",
    )
    [told] = rows("exemption_decided")
    # The request's author, although the refusal cleared it from the assignment.
    assert told.recipient == cast.legal_entity_respondent
    assert Assignment.objects.get(pk=ehpad.pk).exemption_requested_by is None
    assert told.subject.startswith("Dispense refusée")
    deliver(ids=[told.pk])
    [mail] = [m for m in mailoutbox if m.to == [cast.legal_entity_respondent.email]]
    assert "la réponse reste attendue" in mail.body
    assert "Le site reste ouvert en décembre" in mail.body
    assert "/collecte/boite-de-reception/" in mail.body


def test_a_refused_change_writes_no_message(cast, ehpad):
    campaigns.exemption_request(assignment=ehpad, reason="Fermé", user=cast.ehpad_respondent)
    with pytest.raises(CampaignError):
        campaigns.exemption_decide(
            assignment=ehpad, accept=False, user=cast.national_requester, comment=" "
        )
    with pytest.raises(CampaignError):
        campaigns.exemption_decide(
            assignment=ehpad, accept=True, user=cast.ars_idf_agent, comment=""
        )
    assert not rows("exemption_decided")


def test_a_second_decision_on_the_same_day_is_told_once(cast, ehpad):
    for _ in range(2):
        campaigns.exemption_request(assignment=ehpad, reason="Fermé", user=cast.ehpad_respondent)
        campaigns.exemption_decide(
            assignment=ehpad, accept=False, user=cast.national_requester, comment="Non"
        )
    assert len(rows("exemption_decided")) == 1
