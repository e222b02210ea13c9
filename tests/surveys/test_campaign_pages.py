"""Campaign pages: list, create, detail, actions, assignments and exemptions."""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.models import Organisation, Role
from surveys import campaigns
from surveys.models import Assignment, Campaign, CampaignEvent, SurveyVersion
from tests.access_matrix.campaigns import EXPECTED
from tests.accounts.factories import MembershipFactory, UserFactory
from tests.conftest import ROLES, client_for
from tests.surveys.factories import QuestionFactory, SurveyFactory, SurveyVersionFactory

TODAY = timezone.localdate()


@pytest.fixture
def dgos(cast):
    return Organisation.objects.get(short_name="DGOS")


@pytest.fixture
def survey(dgos):
    version = SurveyVersionFactory(
        survey=SurveyFactory(owner=dgos), status=SurveyVersion.Status.DRAFT, title="Lits"
    )
    QuestionFactory(section__version=version)
    return version.survey


@pytest.fixture
def draft(cast, survey, dgos):
    campaign = campaigns.campaign_create(
        survey=survey,
        owner=dgos,
        title="Lits disponibles",
        unit_kind="establishment",
        frequency="daily",
        period_kind="day",
        start_date=TODAY,
        end_date=TODAY + dt.timedelta(days=3),
        due_offset_days=0,
        due_time=dt.time(18, 0),
        crisis_frequency="",
        user=cast.national_requester,
    )
    campaign.audience_filters = {"finess": [cast.paris_hospital.finess, cast.cayenne_ehpad.finess]}
    campaign.overlap_choice = "none"  # recorded after the overlap analysis (collection.sending)
    campaign.save()
    return campaign


@pytest.mark.parametrize("role", ROLES)
def test_each_role_gets_its_access_to_the_campaign_pages(cast, role):
    client = client_for(cast.user(role))
    wrong = {}
    for name, (builder, table) in EXPECTED.items():
        url = reverse(name, kwargs=builder(cast) if builder else None)
        got = client.get(url).status_code
        if got != table[role]:
            wrong[name] = (url, got, table[role])
    assert wrong == {}


def test_requester_creates_a_draft_from_a_survey(cast, survey, dgos):
    client = client_for(cast.national_requester)
    page = client.get(reverse("surveys:campaign_create") + f"?enquete={survey.pk}")
    assert page.status_code == 200
    assert "Lits" in page.content.decode()
    response = client.post(
        reverse("surveys:campaign_create"),
        {
            "survey": survey.pk,
            "owner": dgos.pk,
            "title": "Lits de réanimation",
            "unit_kind": "establishment",
            "frequency": "daily",
            "period_kind": "",
            "start_date": TODAY.isoformat(),
            "end_date": (TODAY + dt.timedelta(days=10)).isoformat(),
            "due_offset_days": "0",
            "due_time": "14:00",
            "correction_days": "30",
            "crisis_frequency": "",
        },
    )
    campaign = Campaign.objects.get(title="Lits de réanimation")
    assert response.status_code == 302
    assert response.url == reverse("surveys:campaign_detail", kwargs={"pk": campaign.pk})
    assert campaign.period_kind == "day"
    assert campaign.created_by == cast.national_requester


def test_create_form_shows_the_service_refusal_in_french(cast, survey, dgos):
    response = client_for(cast.national_requester).post(
        reverse("surveys:campaign_create"),
        {
            "survey": survey.pk,
            "owner": dgos.pk,
            "title": "Lits",
            "unit_kind": "establishment",
            "frequency": "weekly",
            "start_date": TODAY.isoformat(),
            "due_offset_days": "0",
            "due_time": "14:00",
            "correction_days": "30",
        },
    )
    assert response.status_code == 200
    assert "besoin d&#x27;une date de fin" in response.content.decode()
    assert not Campaign.objects.exists()


def test_create_form_offers_only_the_users_organisations_and_surveys(cast, survey):
    other = SurveyVersionFactory(title="Enquête de l'ARS").survey
    page = client_for(cast.ars_idf_agent).get(reverse("surveys:campaign_create"))
    content = page.content.decode()
    assert "ARS Île-de-France" in content
    assert "Lits" not in content
    assert other.pk  # the other survey belongs to another national directorate
    assert "Direction générale" not in content


def test_send_page_summarises_then_opens(cast, draft):
    client = client_for(cast.national_requester)
    url = reverse("surveys:campaign_send", kwargs={"pk": draft.pk})
    page = client.get(url).content.decode()
    assert "Envoyer" in page
    assert "Demandes créées</th><td>2</td>" in page
    response = client.post(url)
    assert response.status_code == 302
    draft.refresh_from_db()
    assert draft.status == Campaign.Status.OPEN
    detail = client.get(reverse("surveys:campaign_detail", kwargs={"pk": draft.pk}))
    content = detail.content.decode()
    assert TODAY.isoformat() in content
    assert "Campagne envoyée à 2 destinataires." in content
    assert Assignment.objects.filter(campaign=draft).count() == 2


def test_send_refusal_is_shown(cast, draft):
    draft.audience_filters = {}
    draft.save()
    client = client_for(cast.national_requester)
    url = reverse("surveys:campaign_send", kwargs={"pk": draft.pk})
    response = client.post(url, follow=True)
    assert "audience" in response.content.decode().lower()
    draft.refresh_from_db()
    assert draft.status == Campaign.Status.DRAFT


def test_schedule_close_and_crisis_pages(cast, draft):
    client = client_for(cast.national_requester)
    tomorrow = TODAY + dt.timedelta(days=1)
    Campaign.objects.filter(pk=draft.pk).update(
        start_date=tomorrow, end_date=tomorrow + dt.timedelta(days=3)
    )
    opens_at = dt.datetime.combine(tomorrow, dt.time(0, 30))
    response = client.post(
        reverse("surveys:campaign_schedule", kwargs={"pk": draft.pk}),
        {"opens_at": opens_at.strftime("%Y-%m-%dT%H:%M")},
    )
    assert response.status_code == 302
    draft.refresh_from_db()
    assert draft.status == Campaign.Status.SCHEDULED
    client.post(reverse("surveys:campaign_close", kwargs={"pk": draft.pk}))
    draft.refresh_from_db()
    assert draft.status == Campaign.Status.CLOSED
    page = client.get(reverse("surveys:campaign_crisis", kwargs={"pk": draft.pk}))
    assert "pas possible" in page.content.decode()


def test_viewer_of_the_owner_reads_but_cannot_act(cast, draft, dgos):
    viewer = UserFactory(email="lecteur@sante.gouv.fr")
    MembershipFactory(user=viewer, organisation=dgos, role=Role.VIEWER)
    client = client_for(viewer)
    assert client.get(reverse("surveys:campaign_list")).status_code == 200
    assert (
        client.get(reverse("surveys:campaign_detail", kwargs={"pk": draft.pk})).status_code == 200
    )
    response = client.post(reverse("surveys:campaign_send", kwargs={"pk": draft.pk}))
    assert response.status_code == 403
    draft.refresh_from_db()
    assert draft.status == Campaign.Status.DRAFT


def test_list_counts_assignments_by_status(cast, draft):
    campaigns.campaign_open(campaign=draft, user=cast.national_requester)
    Assignment.objects.filter(unit__finess=cast.paris_hospital.finess).update(status="submitted")
    page = client_for(cast.national_requester).get(reverse("surveys:campaign_list"))
    content = page.content.decode()
    assert "Lits disponibles" in content
    [item] = page.context["items"]
    assert dict(item["cells"])["Transmise"] == 1
    assert dict(item["cells"])["À faire"] == 1
    assert (
        "Lits disponibles"
        not in client_for(cast.ars_idf_agent).get(reverse("surveys:campaign_list")).content.decode()
    )


def test_requester_exempts_from_the_assignment_list(cast, draft):
    campaigns.campaign_open(campaign=draft, user=cast.national_requester)
    assignment = Assignment.objects.get(unit__finess=cast.cayenne_ehpad.finess)
    client = client_for(cast.national_requester)
    listing = client.get(reverse("surveys:campaign_assignments", kwargs={"pk": draft.pk}))
    assert reverse("surveys:assignment_exempt", kwargs={"pk": assignment.pk}) in (
        listing.content.decode()
    )
    url = reverse("surveys:assignment_exempt", kwargs={"pk": assignment.pk})
    assert "obligatoire" in client.post(url, {"reason": ""}).content.decode()
    client.post(url, {"reason": "Fermé pour travaux"})
    assignment.refresh_from_db()
    assert assignment.status == Assignment.Status.EXEMPTED


def test_requester_decides_an_exemption_request(cast, draft):
    campaigns.campaign_open(campaign=draft, user=cast.national_requester)
    assignment = Assignment.objects.get(unit__finess=cast.cayenne_ehpad.finess)
    campaigns.exemption_request(
        assignment=assignment, reason="Fermeture estivale", user=cast.ehpad_respondent
    )
    client = client_for(cast.national_requester)
    listing = client.get(reverse("surveys:exemption_list")).content.decode()
    assert "Fermeture estivale" in listing
    url = reverse("surveys:exemption_decide", kwargs={"pk": assignment.pk})
    refused = client.post(url, {"decision": "refuse", "comment": ""})
    assert "refus" in refused.content.decode()
    response = client.post(url, {"decision": "accept", "comment": "D'accord"})
    assert response.status_code == 302
    assignment.refresh_from_db()
    assert assignment.status == Assignment.Status.EXEMPTED
    assert (
        "Fermeture estivale" not in client.get(reverse("surveys:exemption_list")).content.decode()
    )
    assert CampaignEvent.objects.filter(kind="exemption", campaign=draft).count() == 2


def test_a_repeated_crisis_switch_is_refused_not_undone(cast, survey, dgos):
    monthly = campaigns.campaign_create(
        survey=survey,
        owner=dgos,
        title="Capacités mensuelles",
        unit_kind="establishment",
        frequency="monthly",
        period_kind="month",
        start_date=TODAY,
        end_date=TODAY + dt.timedelta(days=120),
        due_offset_days=5,
        due_time=dt.time(18, 0),
        crisis_frequency="daily",
        user=cast.national_requester,
    )
    client = client_for(cast.national_requester)
    url = reverse("surveys:campaign_crisis", kwargs={"pk": monthly.pk})
    # Two tabs showed « passer en crise »; both are submitted.
    for _ in range(2):
        client.post(url, {"on": "1", "comment": "Épidémie de grippe"})
    monthly.refresh_from_db()
    assert monthly.in_crisis
    assert monthly.events.filter(kind="crisis").count() == 1


def test_a_malformed_survey_parameter_is_ignored(cast):
    client = client_for(cast.national_requester)
    for value in ("abc", "²", "-1"):
        response = client.get(reverse("surveys:campaign_create"), {"enquete": value})
        assert response.status_code == 200
