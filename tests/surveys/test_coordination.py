"""Coordination requests: asking another campaign's owner to add definitions, their decision
(a new version asked from the next period), the notifications on both sides, and the pages."""

import datetime as dt

import pytest
from django.urls import reverse

from accounts.models import AuditEvent, Organisation
from notifications.models import Notification
from surveys import coordination
from surveys.campaigns import periods_open_due
from surveys.coordination import CoordinationError
from surveys.models import Campaign, CampaignPeriod, CoordinationRequest, SurveyVersion
from tests.conftest import client_for
from tests.referentials.factories_dictionary import DefinitionFactory
from tests.surveys.factories import (
    CampaignFactory,
    CampaignPeriodFactory,
    QuestionFactory,
    SectionFactory,
    SurveyFactory,
    SurveyVersionFactory,
)

pytestmark = pytest.mark.django_db


def _campaign(owner, definitions, **kwargs):
    version = SurveyVersionFactory(survey=SurveyFactory(owner=owner))
    section = SectionFactory(version=version)
    for definition in definitions:
        QuestionFactory(section=section, definition=definition)
    return CampaignFactory(version=version, **kwargs)


@pytest.fixture
def world(cast):
    beds = DefinitionFactory(code="lits_disponibles", label="Lits disponibles")
    staff = DefinitionFactory(code="personnels_absents", label="Personnels absents")
    masks = DefinitionFactory(code="stock_masques", label="Stock de masques")
    dgos = Organisation.objects.get(memberships__user=cast.national_requester)
    ars = Organisation.objects.get(memberships__user=cast.ars_idf_agent)
    today = dt.date.today()
    target = _campaign(
        dgos,
        [beds],
        title="Capacités quotidiennes",
        start_date=today - dt.timedelta(days=1),
        end_date=today + dt.timedelta(days=10),
    )
    CampaignPeriodFactory(campaign=target, day=today - dt.timedelta(days=1))
    requesting = _campaign(
        ars, [beds, staff, masks], title="Ehpad franciliens", status="draft", opened_at=None
    )
    return {
        "beds": beds,
        "staff": staff,
        "masks": masks,
        "target": target,
        "requesting": requesting,
    }


def _ask(world, cast, **kwargs):
    return coordination.coordination_request_create(
        requesting_campaign=world["requesting"],
        target_campaign=world["target"],
        definitions=[world["beds"], world["staff"], world["masks"]],
        message=kwargs.pop("message", "Pour ne pas interroger deux fois les Ehpad."),
        user=kwargs.pop("user", cast.ars_idf_agent),
    )


def test_a_request_asks_only_what_the_other_campaign_does_not_ask_and_tells_its_owner(world, cast):
    request = _ask(world, cast)

    assert request.status == CoordinationRequest.Status.PENDING
    assert sorted(d.code for d in request.definitions.all()) == [
        "personnels_absents",
        "stock_masques",
    ]
    told = Notification.objects.get(kind="coordination_requested")
    assert told.recipient == cast.national_requester
    assert "Ehpad franciliens" in told.subject or "ARS" in told.subject
    assert told.link.endswith(reverse("surveys:coordination_detail", kwargs={"pk": request.pk}))
    assert AuditEvent.objects.filter(action="coordination.request").count() == 1


def test_asking_again_updates_the_pending_request(world, cast):
    first = _ask(world, cast)
    second = _ask(world, cast, message="Autre message")

    assert second.pk == first.pk
    assert CoordinationRequest.objects.count() == 1
    assert CoordinationRequest.objects.get().message == "Autre message"


def test_a_request_is_refused_when_the_other_campaign_asks_everything_already(world, cast):
    with pytest.raises(CoordinationError, match="demande déjà toutes"):
        coordination.coordination_request_create(
            requesting_campaign=world["requesting"],
            target_campaign=world["target"],
            definitions=[world["beds"]],
            user=cast.ars_idf_agent,
        )


def test_a_closed_campaign_takes_no_request(world, cast):
    Campaign.objects.filter(pk=world["target"].pk).update(status=Campaign.Status.CLOSED)
    world["target"].refresh_from_db()

    with pytest.raises(CoordinationError, match="clôturée"):
        _ask(world, cast)


def test_only_the_requesting_owner_asks(world, cast):
    with pytest.raises(CoordinationError, match="Seul un demandeur"):
        _ask(world, cast, user=cast.ars_guadeloupe_agent)


def test_accepting_adds_the_definitions_from_the_next_period(world, cast):
    request = _ask(world, cast)
    target = world["target"]
    first_period = target.periods.get()
    before = target.version

    accepted = coordination.coordination_accept(
        request=request, user=cast.national_requester, response="Bonne idée."
    )

    target.refresh_from_db()
    version = accepted.applied_version
    assert accepted.status == CoordinationRequest.Status.ACCEPTED
    assert target.version == version
    assert version.number == before.number + 1
    assert version.status == SurveyVersion.Status.FROZEN
    assert sorted(version.questions.values_list("code", flat=True)) == [
        "lits_disponibles",
        "personnels_absents",
        "stock_masques",
    ]
    # The period already open keeps its version; the next one asks the new version.
    first_period.refresh_from_db()
    assert first_period.version == before
    periods_open_due(campaign=target)
    today_period = CampaignPeriod.objects.get(campaign=target, start=dt.date.today())
    assert today_period.version == version
    told = Notification.objects.get(kind="coordination_decided")
    assert told.recipient == cast.ars_idf_agent
    assert "acceptée" in told.subject


def test_accepting_is_refused_when_the_campaign_asks_an_older_version_of_its_survey(world, cast):
    # Version 1 (the campaign's) asks an ad hoc question that version 2 dropped: copying
    # version 2 would lose it for the campaign, copying version 1 would lose version 2's edits.
    target = world["target"]
    QuestionFactory(section=target.version.sections.get(), code="commentaire_libre")
    later = SurveyVersionFactory(survey=target.survey, number=2)
    QuestionFactory(section=SectionFactory(version=later), definition=world["beds"])
    request = _ask(world, cast)

    with pytest.raises(CoordinationError, match="pose la version 1 de son enquête"):
        coordination.coordination_accept(request=request, user=cast.national_requester)

    target.refresh_from_db()
    assert target.version.number == 1
    assert "commentaire_libre" in target.version.questions.values_list("code", flat=True)
    assert target.survey.versions.count() == 2
    request.refresh_from_db()
    assert request.status == CoordinationRequest.Status.PENDING


def test_only_the_target_owner_decides(world, cast):
    request = _ask(world, cast)

    for user in (cast.ars_idf_agent, cast.ars_guadeloupe_agent):
        with pytest.raises(CoordinationError, match="décide de cette demande"):
            coordination.coordination_accept(request=request, user=user)
    request.refresh_from_db()
    assert request.status == CoordinationRequest.Status.PENDING


def test_declining_needs_a_response_and_tells_the_requester(world, cast):
    request = _ask(world, cast)

    with pytest.raises(CoordinationError, match="Expliquez le refus"):
        coordination.coordination_decline(
            request=request, user=cast.national_requester, response=""
        )
    declined = coordination.coordination_decline(
        request=request, user=cast.national_requester, response="Questionnaire déjà trop long."
    )

    assert declined.status == CoordinationRequest.Status.DECLINED
    assert declined.response == "Questionnaire déjà trop long."
    world["target"].refresh_from_db()
    assert world["target"].version.number == 1
    told = Notification.objects.get(kind="coordination_decided")
    assert told.recipient == cast.ars_idf_agent
    assert "refusée" in told.subject


def test_a_decided_request_is_not_decided_twice(world, cast):
    request = _ask(world, cast)
    coordination.coordination_decline(
        request=request, user=cast.national_requester, response="Non."
    )

    with pytest.raises(CoordinationError, match="déjà refusée"):
        coordination.coordination_accept(request=request, user=cast.national_requester)


def test_the_requester_withdraws_a_pending_request(world, cast):
    request = _ask(world, cast)

    with pytest.raises(CoordinationError, match="Seul un demandeur"):
        coordination.coordination_withdraw(request=request, user=cast.national_requester)
    withdrawn = coordination.coordination_withdraw(request=request, user=cast.ars_idf_agent)

    assert withdrawn.status == CoordinationRequest.Status.WITHDRAWN
    with pytest.raises(CoordinationError):
        coordination.coordination_accept(request=request, user=cast.national_requester)


# --- Pages ------------------------------------------------------------------------------------


def test_the_list_shows_received_and_sent_requests(world, cast):
    request = _ask(world, cast)

    received = client_for(cast.national_requester).get(reverse("surveys:coordination_list"))
    sent = client_for(cast.ars_idf_agent).get(reverse("surveys:coordination_list"))
    other = client_for(cast.ars_guadeloupe_agent).get(reverse("surveys:coordination_list"))

    assert received.context["received"] == [request] and received.context["sent"] == []
    assert sent.context["sent"] == [request] and sent.context["received"] == []
    assert other.context["received"] == [] and other.context["sent"] == []
    assert "Capacités quotidiennes" in received.content.decode()


def test_the_target_owner_accepts_on_the_detail_page(world, cast):
    request = _ask(world, cast)
    url = reverse("surveys:coordination_detail", kwargs={"pk": request.pk})
    client = client_for(cast.national_requester)

    page = client.get(url)
    assert 'id="coordination-decision"' in page.content.decode()
    response = client.post(url, {"decision": "accept", "response": ""})

    assert response.status_code == 302
    request.refresh_from_db()
    assert request.status == CoordinationRequest.Status.ACCEPTED


def test_the_requester_sees_no_decision_form_and_cannot_decide_by_posting(world, cast):
    request = _ask(world, cast)
    url = reverse("surveys:coordination_detail", kwargs={"pk": request.pk})
    client = client_for(cast.ars_idf_agent)

    page = client.get(url).content.decode()
    posted = client.post(url, {"decision": "accept"})

    assert 'id="coordination-decision"' not in page
    assert 'id="coordination-withdraw"' in page
    assert posted.status_code == 200
    assert "décide de cette demande" in posted.content.decode()
    request.refresh_from_db()
    assert request.status == CoordinationRequest.Status.PENDING


def test_declining_on_the_page_without_a_response_says_why(world, cast):
    request = _ask(world, cast)
    url = reverse("surveys:coordination_detail", kwargs={"pk": request.pk})

    response = client_for(cast.national_requester).post(url, {"decision": "decline"})

    assert response.status_code == 200
    assert "Expliquez le refus" in response.content.decode()


def test_the_requester_withdraws_on_the_page(world, cast):
    request = _ask(world, cast)
    url = reverse("surveys:coordination_detail", kwargs={"pk": request.pk})

    response = client_for(cast.ars_idf_agent).post(url, {"action": "withdraw"})

    assert response.status_code == 302
    request.refresh_from_db()
    assert request.status == CoordinationRequest.Status.WITHDRAWN


def test_the_emails_render_in_french(world, cast):
    from notifications.delivery import render

    request = _ask(world, cast)
    coordination.coordination_decline(
        request=request, user=cast.national_requester, response="Non."
    )

    for notification in Notification.objects.order_by("pk"):
        text, html = render(notification)
        assert "Personnels absents (personnels_absents)" in text
        assert "Stock de masques" in html


def test_accepting_waits_for_a_draft_being_edited(world, cast):
    request = _ask(world, cast)
    target = world["target"]
    SurveyVersionFactory(survey=target.survey, number=2, status=SurveyVersion.Status.DRAFT)

    with pytest.raises(CoordinationError, match="version en brouillon"):
        coordination.coordination_accept(request=request, user=cast.national_requester)

    target.refresh_from_db()
    assert target.version.number == 1
    request.refresh_from_db()
    assert request.status == CoordinationRequest.Status.PENDING
