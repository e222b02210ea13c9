"""The reminder policy set on the campaign form (« Relances ») drives ``send_reminders``."""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.models import Organisation
from notifications.models import Notification
from surveys import campaigns, notices
from surveys.models import Campaign, SurveyVersion
from tests.conftest import client_for
from tests.surveys.factories import QuestionFactory, SurveyFactory, SurveyVersionFactory

TODAY = timezone.localdate()
DUE_IN = 6  # the campaign's only period is today, due DUE_IN days later at 14:00


@pytest.fixture
def survey(cast):
    dgos = Organisation.objects.get(short_name="DGOS")
    version = SurveyVersionFactory(
        survey=SurveyFactory(owner=dgos), status=SurveyVersion.Status.DRAFT, title="Lits"
    )
    QuestionFactory(section__version=version)
    return version.survey


def form_data(survey, **policy):
    return {
        "survey": survey.pk,
        "owner": survey.owner_id,
        "title": "Lits disponibles",
        "unit_kind": "establishment",
        "frequency": "once",
        "period_kind": "day",
        "start_date": TODAY.isoformat(),
        "end_date": "",
        "due_offset_days": str(DUE_IN),
        "due_time": "14:00",
        "correction_days": "30",
        "crisis_frequency": "",
        **{name: str(value) for name, value in policy.items() if value is not False},
    }


def create(cast, survey, **policy):
    response = client_for(cast.national_requester).post(
        reverse("surveys:campaign_create"), form_data(survey, **policy)
    )
    return response


def opened(cast, survey, **policy):
    """A campaign created through the form with ``policy``, sent to the Pitié-Salpêtrière
    (whose crisis cell is a verified contact of the cast)."""
    response = create(cast, survey, **policy)
    assert response.status_code == 302, response.content.decode()
    campaign = Campaign.objects.get(pk=int(response.url.rstrip("/").split("/")[-1]))
    campaign.audience_filters = {"finess": [cast.paris_hospital.finess]}
    campaign.save(update_fields=["audience_filters"])
    return campaigns.campaign_open(campaign=campaign, user=cast.national_requester)


def reminders_on(campaign, day_offset, hour=8):
    """The reminders of ``campaign`` written by the beat ``day_offset`` days after today."""
    now = dt.datetime.combine(
        TODAY + dt.timedelta(days=day_offset), dt.time(hour, 0), tzinfo=notices.PARIS
    )
    before = set(Notification.objects.values_list("pk", flat=True))
    notices.send_reminders(now=now)
    return list(
        Notification.objects.filter(kind="reminder", about__campaign=campaign.pk).exclude(
            pk__in=before
        )
    )


def test_the_days_set_in_the_form_decide_when_a_reminder_is_sent(cast, survey):
    campaign = opened(
        cast,
        survey,
        remind_days_before=4,
        remind_on_due_day=False,
        remind_days_after=2,
        escalate_after_days=5,
    )
    assert (
        campaign.remind_days_before,
        campaign.remind_on_due_day,
        campaign.remind_days_after,
        campaign.escalate_after_days,
    ) == (4, False, 2, 5)
    sent = {offset: reminders_on(campaign, offset) for offset in range(DUE_IN + 4)}
    assert [offset for offset, rows in sent.items() if rows] == [DUE_IN - 4, DUE_IN + 2]
    assert "dans 4 jour(s)" in sent[DUE_IN - 4][0].context["intro"]
    assert {n.email for n in sent[DUE_IN + 2]} >= {"cellule.crise@pitie.aphp.fr"}


def test_the_default_policy_reminds_two_days_before_on_the_day_and_the_day_after(cast, survey):
    campaign = opened(cast, survey, remind_on_due_day="on")  # the other fields left empty
    sent = [offset for offset in range(DUE_IN + 4) if reminders_on(campaign, offset)]
    assert sent == [DUE_IN - 2, DUE_IN, DUE_IN + 1]


def test_a_policy_switched_off_in_the_form_sends_no_reminder(cast, survey):
    campaign = opened(
        cast, survey, remind_days_before=0, remind_days_after=0, escalate_after_days=0
    )
    assert not any(reminders_on(campaign, offset) for offset in range(DUE_IN + 4))


def test_out_of_bounds_days_are_refused_with_what_to_type(cast, survey):
    response = create(cast, survey, remind_days_before=45, remind_days_after=-1)
    assert response.status_code == 200
    page = response.content.decode()
    assert "entre 0 (aucune) et 30" in page
    assert "n&#x27;a plus l&#x27;effet d&#x27;une relance" in page
    assert "Un nombre négatif" in page
    assert not Campaign.objects.exists()


def test_an_escalation_before_the_late_reminder_is_refused(cast, survey):
    response = create(cast, survey, remind_days_after=3, escalate_after_days=1)
    assert response.status_code == 200
    assert "saisissez au moins 3" in response.content.decode()
    assert not Campaign.objects.exists()


def test_the_service_refuses_a_policy_out_of_bounds_whoever_calls_it(cast, survey):
    with pytest.raises(campaigns.CampaignError, match="de 0 \\(aucune\\) à 90"):
        campaigns.campaign_create(
            survey=survey,
            owner=survey.owner,
            title="Lits",
            unit_kind="establishment",
            frequency="once",
            period_kind="day",
            start_date=TODAY,
            due_offset_days=1,
            due_time=dt.time(14, 0),
            escalate_after_days=400,
            user=cast.national_requester,
        )


def test_editing_a_draft_changes_its_policy_and_the_page_shows_it(cast, survey):
    create(cast, survey, remind_on_due_day="on")
    campaign = Campaign.objects.get()
    client = client_for(cast.national_requester)
    edit = reverse("surveys:campaign_edit", kwargs={"pk": campaign.pk})
    form = client.get(edit).content.decode()
    assert "<legend" in form and "Relances" in form
    assert 'name="remind_days_before" value="2"' in form
    data = form_data(survey, remind_days_before=1, remind_days_after=3, escalate_after_days=7)
    response = client.post(edit, data)
    assert response.status_code == 302
    campaign.refresh_from_db()
    assert (campaign.remind_days_before, campaign.remind_on_due_day) == (1, False)
    detail = client.get(reverse("surveys:campaign_detail", kwargs={"pk": campaign.pk}))
    page = detail.content.decode()
    assert "1 jour avant l'échéance, 3 jours après, à ceux qui n'ont pas répondu" in page
    assert "au-delà de 7 jours" in page
