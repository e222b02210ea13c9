"""Sending a campaign after its overlap analysis: the choice recorded, reuse rows, coordination
requests, the justification, the gate on the surveys pages and API, the sending page, the API
and the register."""

import datetime as dt
import html
import io

import pytest
from django.urls import reverse

from accounts.models import AuditEvent, Organisation
from collection import sending
from notifications.models import Notification
from surveys.models import (
    AudienceMember,
    Campaign,
    CampaignReuse,
    CoordinationRequest,
    OverlapChoice,
    SurveyVersion,
)
from tests.collection.answering import campaign as make_campaign
from tests.collection.answering import unit_of
from tests.conftest import client_for
from tests.referentials.factories import EstablishmentFactory
from tests.referentials.factories_dictionary import DefinitionFactory

pytestmark = pytest.mark.django_db

# A Monday: weeks 2027-W02 (11-17 January) and 2027-W03 (18-24 January), in the future.
MONDAY = dt.date(2027, 1, 11)
JUSTIFICATION = "Le ministère exige une remontée propre à l'agence, tracée séparément."


def ehpad(**kwargs):
    return EstablishmentFactory(ehpad=True, region_code="11", territory_code="75", **kwargs)


@pytest.fixture
def world(cast):
    """The DGOS asks two definitions of every Ehpad daily for two weeks; the ARS Île-de-France
    drafts a weekly survey of its Ehpads asking those two and a new one."""
    beds = DefinitionFactory(code="lits_disponibles", label="Lits disponibles")
    admissions = DefinitionFactory(code="admissions", label="Admissions", time_aggregation="flow")
    staff = DefinitionFactory(code="personnels_absents", label="Personnels absents")
    ehpads = [cast.paris_ehpad, ehpad(), ehpad()]
    dgos = Organisation.objects.get(memberships__user=cast.national_requester)
    ars = Organisation.objects.get(memberships__user=cast.ars_idf_agent)
    national = make_campaign(
        owner=dgos,
        title="Capacités quotidiennes",
        definitions=[beds, admissions],
        frequency="daily",
        period_kind="day",
        start_date=MONDAY,
        end_date=MONDAY + dt.timedelta(days=13),
    )
    AudienceMember.objects.bulk_create(
        AudienceMember(campaign=national, unit=unit_of(e)) for e in [*ehpads, cast.cayenne_ehpad]
    )
    draft = make_campaign(
        owner=ars,
        title="Ehpad franciliens — hebdomadaire",
        definitions=[beds, admissions, staff],
        status=Campaign.Status.DRAFT,
        opened_at=None,
        frequency="weekly",
        period_kind="week",
        start_date=MONDAY,
        end_date=MONDAY + dt.timedelta(days=13),
        audience_filters={"categories": ["500"], "regions": ["11"]},
    )
    return {
        "beds": beds,
        "admissions": admissions,
        "staff": staff,
        "national": national,
        "draft": draft,
        "ehpads": ehpads,
    }


# --- The service ------------------------------------------------------------------------------


def test_choosing_reuse_records_the_analysis_and_one_reuse_row_per_covered_definition(world, cast):
    draft = world["draft"]

    decided = sending.overlap_decide(
        campaign=draft, choice=OverlapChoice.REUSE, user=cast.ars_idf_agent
    )

    assert decided.overlap_choice == OverlapChoice.REUSE
    assert decided.overlap_decided_by == cast.ars_idf_agent
    assert decided.overlap_analysed_at is not None
    # 3 Ehpads x 3 definitions x 2 weeks; the stock and the flow asked daily by the DGOS.
    summary = decided.overlap_summary
    assert (summary["asked"], summary["covered"], summary["in_store"], summary["new"]) == (
        18,
        12,
        0,
        6,
    )
    assert [o["campaign_id"] for o in summary["overlaps"]] == [world["national"].pk]
    rows = sorted(
        CampaignReuse.objects.filter(campaign=draft).values_list("definition__code", "source_id")
    )
    assert rows == [
        ("admissions", world["national"].pk),
        ("lits_disponibles", world["national"].pk),
    ]
    event = AuditEvent.objects.get(action="campaign.overlap_decide", target_id=str(draft.pk))
    assert event.details["choice"] == "reuse"
    assert event.details["covered"] == 12


def test_a_new_choice_replaces_the_reuse_rows_of_the_previous_one(world, cast):
    draft = world["draft"]
    sending.overlap_decide(campaign=draft, choice=OverlapChoice.REUSE, user=cast.ars_idf_agent)

    decided = sending.overlap_decide(
        campaign=draft,
        choice=OverlapChoice.SEND_ANYWAY,
        justification=JUSTIFICATION,
        user=cast.ars_idf_agent,
    )

    assert decided.overlap_choice == OverlapChoice.SEND_ANYWAY
    assert decided.overlap_justification == JUSTIFICATION
    assert not CampaignReuse.objects.filter(campaign=draft).exists()


@pytest.mark.parametrize("justification", ["", "   ", "Parce que."])
def test_sending_anyway_needs_a_justification(world, cast, justification):
    with pytest.raises(sending.SendingError, match="Justification : expliquez"):
        sending.overlap_decide(
            campaign=world["draft"],
            choice=OverlapChoice.SEND_ANYWAY,
            justification=justification,
            user=cast.ars_idf_agent,
        )
    world["draft"].refresh_from_db()
    assert world["draft"].overlap_choice == ""


def test_with_an_overlap_a_choice_must_be_made(world, cast):
    with pytest.raises(sending.SendingError, match="Choisissez la suite"):
        sending.overlap_decide(campaign=world["draft"], choice="", user=cast.ars_idf_agent)


def test_without_any_overlap_the_choice_recorded_is_none(world, cast):
    world["national"].delete()

    decided = sending.overlap_decide(
        campaign=world["draft"], choice=OverlapChoice.REUSE, user=cast.ars_idf_agent
    )

    assert decided.overlap_choice == OverlapChoice.NONE
    assert decided.overlap_summary["covered"] == 0
    assert decided.overlap_summary["new"] == 18
    assert not CampaignReuse.objects.exists()


def test_coordinating_asks_the_other_owner_to_add_the_missing_definition(world, cast):
    decided = sending.overlap_decide(
        campaign=world["draft"],
        choice=OverlapChoice.COORDINATE,
        coordination_message="Pourriez-vous ajouter les absences ?",
        user=cast.ars_idf_agent,
    )

    assert decided.overlap_choice == OverlapChoice.COORDINATE
    request = CoordinationRequest.objects.get()
    assert request.requesting_campaign == world["draft"]
    assert request.target_campaign == world["national"]
    assert [d.code for d in request.definitions.all()] == ["personnels_absents"]
    assert request.message == "Pourriez-vous ajouter les absences ?"
    told = Notification.objects.get(kind="coordination_requested")
    assert told.recipient == cast.national_requester


def test_only_a_requester_of_the_owner_decides(world, cast):
    for user in (cast.national_requester, cast.ehpad_respondent):
        with pytest.raises(sending.SendingError, match="Seul un demandeur"):
            sending.overlap_decide(campaign=world["draft"], choice=OverlapChoice.REUSE, user=user)


def test_the_choice_is_made_before_sending(world, cast):
    with pytest.raises(sending.SendingStateError, match="avant l'envoi"):
        sending.overlap_decide(
            campaign=world["national"], choice=OverlapChoice.REUSE, user=cast.national_requester
        )


def test_sending_checked_records_the_choice_and_opens_the_campaign(world, cast):
    sent = sending.campaign_send_checked(
        campaign=world["draft"], choice=OverlapChoice.REUSE, user=cast.ars_idf_agent
    )

    assert sent.status == Campaign.Status.OPEN
    assert sent.overlap_choice == OverlapChoice.REUSE
    assert sent.audience_size == 3
    assert CampaignReuse.objects.filter(campaign=sent).count() == 2


def test_a_refused_sending_keeps_no_choice_and_no_reuse(world, cast):
    draft = world["draft"]
    Campaign.objects.filter(pk=draft.pk).update(audience_filters={"finess": ["000000000"]})
    draft.refresh_from_db()

    with pytest.raises(sending.SendingError):
        sending.campaign_send_checked(
            campaign=draft, choice=OverlapChoice.REUSE, user=cast.ars_idf_agent
        )

    draft.refresh_from_db()
    assert draft.status == Campaign.Status.DRAFT
    assert draft.overlap_choice == ""
    assert not CampaignReuse.objects.exists()


def test_sending_checked_schedules_when_given_an_opening_time(world, cast):
    from django.utils import timezone

    opens_at = timezone.now() + dt.timedelta(days=2)
    scheduled = sending.campaign_send_checked(
        campaign=world["draft"],
        choice=OverlapChoice.SEND_ANYWAY,
        justification=JUSTIFICATION,
        opens_at=opens_at,
        user=cast.ars_idf_agent,
    )

    assert scheduled.status == Campaign.Status.SCHEDULED
    assert scheduled.overlap_choice == OverlapChoice.SEND_ANYWAY


def test_a_new_choice_withdraws_the_coordination_requests_still_pending(world, cast):
    draft = world["draft"]
    sending.overlap_decide(campaign=draft, choice=OverlapChoice.COORDINATE, user=cast.ars_idf_agent)
    request = CoordinationRequest.objects.get()

    sending.overlap_decide(
        campaign=draft,
        choice=OverlapChoice.SEND_ANYWAY,
        justification=JUSTIFICATION,
        user=cast.ars_idf_agent,
    )

    request.refresh_from_db()
    assert request.status == CoordinationRequest.Status.WITHDRAWN
    assert request.decided_by == cast.ars_idf_agent


def test_coordinating_again_keeps_the_pending_request_and_updates_it(world, cast):
    draft = world["draft"]
    sending.overlap_decide(campaign=draft, choice=OverlapChoice.COORDINATE, user=cast.ars_idf_agent)

    sending.overlap_decide(
        campaign=draft,
        choice=OverlapChoice.COORDINATE,
        coordination_message="Nouveau message",
        user=cast.ars_idf_agent,
    )

    request = CoordinationRequest.objects.get()
    assert request.status == CoordinationRequest.Status.PENDING
    assert request.message == "Nouveau message"


def test_a_coordinated_campaign_is_not_sent(world, cast):
    with pytest.raises(sending.SendingError, match="attend la réponse"):
        sending.campaign_send_checked(
            campaign=world["draft"], choice=OverlapChoice.COORDINATE, user=cast.ars_idf_agent
        )

    draft = Campaign.objects.get(pk=world["draft"].pk)
    assert draft.status == Campaign.Status.DRAFT
    assert draft.overlap_choice == ""
    assert not CoordinationRequest.objects.exists()


def test_a_scheduled_campaign_cannot_choose_to_coordinate(world, cast):
    from django.utils import timezone

    sending.campaign_send_checked(
        campaign=world["draft"],
        choice=OverlapChoice.REUSE,
        opens_at=timezone.now() + dt.timedelta(days=2),
        user=cast.ars_idf_agent,
    )

    with pytest.raises(sending.SendingError, match="programmée"):
        sending.overlap_decide(
            campaign=world["draft"], choice=OverlapChoice.COORDINATE, user=cast.ars_idf_agent
        )
    assert Campaign.objects.get(pk=world["draft"].pk).overlap_choice == OverlapChoice.REUSE
    assert not CoordinationRequest.objects.exists()


# --- A choice made on another analysis ------------------------------------------------------


def _update(campaign, user, **changes):
    from surveys import campaigns

    values = {
        field: getattr(campaign, field)
        for field in (
            "title",
            "unit_kind",
            "frequency",
            "period_kind",
            "start_date",
            "end_date",
            "due_offset_days",
            "due_time",
            "correction_days",
            "crisis_frequency",
        )
    }
    return campaigns.campaign_update(campaign=campaign, user=user, **{**values, **changes})


def test_widening_the_audience_after_choosing_none_sends_back_to_the_overlap_page(world, cast):
    from surveys import audience

    draft = world["draft"]
    # The Ehpads of Seine-et-Marne: no other campaign asks them.
    EstablishmentFactory(ehpad=True, region_code="11", territory_code="77")
    audience.audience_save(
        campaign=draft,
        filters={"categories": ["500"], "territories": ["77"]},
        user=cast.ars_idf_agent,
    )
    decided = sending.overlap_decide(
        campaign=draft, choice=OverlapChoice.REUSE, user=cast.ars_idf_agent
    )
    assert decided.overlap_choice == OverlapChoice.NONE

    widened = audience.audience_save(
        campaign=draft, filters={"categories": ["500"], "regions": ["11"]}, user=cast.ars_idf_agent
    )

    assert widened.overlap_choice == ""
    assert widened.overlap_summary == {}
    assert widened.overlap_analysed_at is None
    assert widened.overlap_decided_by is None
    client = client_for(cast.ars_idf_agent)
    send = client.post(reverse("surveys:campaign_send", kwargs={"pk": draft.pk}))
    assert send.status_code == 302
    assert send.url == reverse("collection:campaign_overlaps", kwargs={"pk": draft.pk})
    opened = client.post(reverse("api:campaign_open", kwargs={"pk": draft.pk}))
    assert opened.status_code == 409
    assert Campaign.objects.get(pk=draft.pk).status == Campaign.Status.DRAFT


def test_changing_the_audience_deletes_the_reuse_rows(world, cast):
    from surveys import audience

    draft = world["draft"]
    sending.overlap_decide(campaign=draft, choice=OverlapChoice.REUSE, user=cast.ars_idf_agent)

    audience.audience_save(
        campaign=draft,
        filters={"categories": ["500"], "territories": ["75"]},
        user=cast.ars_idf_agent,
    )

    assert not CampaignReuse.objects.filter(campaign=draft).exists()
    assert Campaign.objects.get(pk=draft.pk).overlap_choice == ""
    assert AuditEvent.objects.filter(
        action="campaign.overlap_reset", target_id=str(draft.pk)
    ).exists()


@pytest.mark.parametrize("change", ["dates", "version", "frequency"])
def test_changing_the_periods_or_the_version_forgets_the_choice_and_withdraws_requests(
    world, cast, change
):
    from tests.surveys.factories import SurveyVersionFactory

    draft = world["draft"]
    sending.overlap_decide(campaign=draft, choice=OverlapChoice.COORDINATE, user=cast.ars_idf_agent)
    changes: dict[str, object] = {}
    if change == "dates":
        changes["end_date"] = draft.end_date + dt.timedelta(days=7)
    elif change == "frequency":
        changes["frequency"] = "daily"
        changes["period_kind"] = "day"
    else:
        SurveyVersionFactory(survey=draft.survey, number=2)

    updated = _update(draft, cast.ars_idf_agent, **changes)

    assert updated.overlap_choice == ""
    assert updated.overlap_summary == {}
    request = CoordinationRequest.objects.get()
    assert request.status == CoordinationRequest.Status.WITHDRAWN
    assert updated.events.filter(details__overlap_reset=True).exists()


def test_renaming_a_draft_keeps_its_choice(world, cast):
    draft = world["draft"]
    sending.overlap_decide(campaign=draft, choice=OverlapChoice.REUSE, user=cast.ars_idf_agent)

    updated = _update(draft, cast.ars_idf_agent, title="Ehpad franciliens — nouveau titre")

    assert updated.overlap_choice == OverlapChoice.REUSE
    assert CampaignReuse.objects.filter(campaign=draft).count() == 2


# --- The gate on the surveys pages and API --------------------------------------------------


def test_the_surveys_send_page_leads_to_the_overlap_page_while_no_choice_is_recorded(world, cast):
    client = client_for(cast.ars_idf_agent)
    pk = world["draft"].pk

    send = client.post(reverse("surveys:campaign_send", kwargs={"pk": pk}))
    schedule = client.get(reverse("surveys:campaign_schedule", kwargs={"pk": pk}))

    overlaps_url = reverse("collection:campaign_overlaps", kwargs={"pk": pk})
    assert send.status_code == 302 and send.url == overlaps_url
    assert schedule.status_code == 302 and schedule.url == f"{overlaps_url}?suite=programmer"
    world["draft"].refresh_from_db()
    assert world["draft"].status == Campaign.Status.DRAFT


def test_the_surveys_send_page_sends_once_a_choice_is_recorded(world, cast):
    sending.overlap_decide(
        campaign=world["draft"], choice=OverlapChoice.REUSE, user=cast.ars_idf_agent
    )

    response = client_for(cast.ars_idf_agent).post(
        reverse("surveys:campaign_send", kwargs={"pk": world["draft"].pk})
    )

    assert response.status_code == 302
    world["draft"].refresh_from_db()
    assert world["draft"].status == Campaign.Status.OPEN


def test_the_api_refuses_to_open_a_campaign_without_a_choice(world, cast):
    pk = world["draft"].pk
    client = client_for(cast.ars_idf_agent)

    refused = client.post(reverse("api:campaign_open", kwargs={"pk": pk}))

    assert refused.status_code == 409
    assert f"/api/v1/campagnes/{pk}/chevauchements/" in refused.json()["erreurs"][0]
    chosen = client.post(
        reverse("api:campaign_overlaps", kwargs={"pk": pk}),
        {"choix": "reutiliser"},
        content_type="application/json",
    )
    assert chosen.status_code == 200
    opened = client.post(reverse("api:campaign_open", kwargs={"pk": pk}))
    assert opened.status_code == 200
    assert Campaign.objects.get(pk=pk).status == Campaign.Status.OPEN


def test_a_campaign_waiting_for_a_coordination_answer_is_not_sent(world, cast):
    pk = world["draft"].pk
    sending.overlap_decide(
        campaign=world["draft"], choice=OverlapChoice.COORDINATE, user=cast.ars_idf_agent
    )
    client = client_for(cast.ars_idf_agent)

    send = client.post(reverse("surveys:campaign_send", kwargs={"pk": pk}))
    schedule = client.get(reverse("surveys:campaign_schedule", kwargs={"pk": pk}))
    opened = client.post(reverse("api:campaign_open", kwargs={"pk": pk}))

    overlaps_url = reverse("collection:campaign_overlaps", kwargs={"pk": pk})
    assert send.status_code == 302 and send.url == overlaps_url
    assert schedule.status_code == 302 and schedule.url == f"{overlaps_url}?suite=programmer"
    assert opened.status_code == 409
    assert "coordination" in opened.json()["erreurs"][0]
    assert Campaign.objects.get(pk=pk).status == Campaign.Status.DRAFT


# --- The sending page -----------------------------------------------------------------------


def test_the_sending_page_shows_the_exact_counts_and_the_overlapping_campaign(world, cast):
    response = client_for(cast.ars_idf_agent).get(
        reverse("collection:campaign_overlaps", kwargs={"pk": world["draft"].pk})
    )

    assert response.status_code == 200
    assert response.context["counts"]["asked"] == 18
    assert response.context["counts"]["covered"] == 12
    assert response.context["counts"]["new"] == 6
    [overlap] = response.context["overlaps"]
    assert overlap["title"] == "Capacités quotidiennes"
    assert overlap["units_in_common"] == 3
    assert overlap["periods_label"] == "2027-W02, 2027-W03"
    page = response.content.decode()
    assert 'id="overlap-choice"' in page
    assert "Envoyer malgré tout (justifié)" in page
    assert "Capacités quotidiennes" in page


def test_the_sending_page_sends_with_reuse(world, cast):
    response = client_for(cast.ars_idf_agent).post(
        reverse("collection:campaign_overlaps", kwargs={"pk": world["draft"].pk}),
        {"choice": "reuse", "then": "send"},
    )

    assert response.status_code == 302
    assert response.url == reverse("surveys:campaign_detail", kwargs={"pk": world["draft"].pk})
    draft = Campaign.objects.get(pk=world["draft"].pk)
    assert draft.status == Campaign.Status.OPEN
    assert draft.overlap_choice == OverlapChoice.REUSE


def test_the_sending_page_says_why_sending_anyway_is_refused(world, cast):
    response = client_for(cast.ars_idf_agent).post(
        reverse("collection:campaign_overlaps", kwargs={"pk": world["draft"].pk}),
        {"choice": "send_anyway", "justification": "", "then": "send"},
    )

    assert response.status_code == 200
    assert "Justification : expliquez" in response.content.decode()
    assert Campaign.objects.get(pk=world["draft"].pk).status == Campaign.Status.DRAFT


def test_the_sending_page_refuses_to_send_with_coordination_and_says_what_to_do(world, cast):
    url = reverse("collection:campaign_overlaps", kwargs={"pk": world["draft"].pk})
    client = client_for(cast.ars_idf_agent)

    refused = client.post(url, {"choice": "coordinate", "then": "send"})
    recorded = client.post(url, {"choice": "coordinate", "then": "record"}, follow=True)

    assert refused.status_code == 200
    assert "enregistrez ce choix sans envoyer" in html.unescape(refused.content.decode())
    assert recorded.redirect_chain[-1][0] == reverse(
        "surveys:campaign_detail", kwargs={"pk": world["draft"].pk}
    )
    assert "La campagne reste en brouillon" in html.unescape(recorded.content.decode())
    draft = Campaign.objects.get(pk=world["draft"].pk)
    assert draft.status == Campaign.Status.DRAFT
    assert draft.overlap_choice == OverlapChoice.COORDINATE
    assert CoordinationRequest.objects.get().status == CoordinationRequest.Status.PENDING
    page = html.unescape(client.get(url).content.decode())
    assert "La campagne attend la réponse" in page
    assert 'id="send-hint"' in page


def test_recording_before_scheduling_leads_to_the_schedule_page(world, cast):
    url = reverse("collection:campaign_overlaps", kwargs={"pk": world["draft"].pk})
    response = client_for(cast.ars_idf_agent).post(
        f"{url}?suite=programmer", {"choice": "reuse", "then": "send"}
    )

    assert response.status_code == 302
    assert response.url == reverse("surveys:campaign_schedule", kwargs={"pk": world["draft"].pk})
    draft = Campaign.objects.get(pk=world["draft"].pk)
    assert draft.status == Campaign.Status.DRAFT  # scheduling is the next page's job
    assert draft.overlap_choice == OverlapChoice.REUSE


def test_without_overlap_the_page_is_a_plain_confirmation(world, cast):
    world["national"].delete()

    response = client_for(cast.ars_idf_agent).get(
        reverse("collection:campaign_overlaps", kwargs={"pk": world["draft"].pk})
    )

    page = response.content.decode()
    assert 'id="no-overlap"' in page
    assert 'id="overlap-choice"' not in page
    assert 'id="send-summary"' in page


def test_the_campaign_detail_page_sends_through_the_overlap_page(world, cast):
    response = client_for(cast.ars_idf_agent).get(
        reverse("surveys:campaign_detail", kwargs={"pk": world["draft"].pk})
    )

    assert reverse("collection:campaign_overlaps", kwargs={"pk": world["draft"].pk}) in (
        response.content.decode()
    )


# --- The API ----------------------------------------------------------------------------------


def test_the_api_gives_the_analysis_of_a_draft(world, cast):
    response = client_for(cast.ars_idf_agent).get(
        reverse("api:campaign_overlaps", kwargs={"pk": world["draft"].pk})
    )

    assert response.status_code == 200
    body = response.json()
    assert body["chevauchement"] is True
    assert body["choix"] == ""
    analysis = body["analyse"]
    assert (analysis["asked"], analysis["covered"], analysis["in_store"], analysis["new"]) == (
        18,
        12,
        0,
        6,
    )
    assert analysis["overlaps"][0]["campaign_id"] == world["national"].pk


def test_the_api_records_sending_anyway_with_its_justification(world, cast):
    url = reverse("api:campaign_overlaps", kwargs={"pk": world["draft"].pk})
    client = client_for(cast.ars_idf_agent)

    refused = client.post(url, {"choix": "envoyer_malgre_tout"}, content_type="application/json")
    unknown = client.post(url, {"choix": "peut-etre"}, content_type="application/json")
    accepted = client.post(
        url,
        {"choix": "envoyer_malgre_tout", "justification": JUSTIFICATION},
        content_type="application/json",
    )

    assert refused.status_code == 400
    assert "Justification" in refused.json()["erreurs"][0]
    assert unknown.status_code == 400
    assert unknown.json()["erreurs"][0].startswith("choix : ")
    assert accepted.status_code == 200
    assert accepted.json()["choix"] == "envoyer_malgre_tout"
    assert accepted.json()["justification"] == JUSTIFICATION


def test_only_the_owner_records_a_choice_through_the_api(world, cast):
    # An open campaign is in every requester's register: the ARS sees it but cannot decide.
    url = reverse("api:campaign_overlaps", kwargs={"pk": world["national"].pk})

    assert client_for(cast.ars_idf_agent).get(url).status_code == 200
    posted = client_for(cast.ars_idf_agent).post(
        url, {"choix": "reutiliser"}, content_type="application/json"
    )
    assert posted.status_code == 403
    too_late = client_for(cast.national_requester).post(
        url, {"choix": "reutiliser"}, content_type="application/json"
    )
    assert too_late.status_code == 409


def test_the_api_is_in_the_openapi_schema(cast):
    schema = client_for(cast.national_requester).get(
        reverse("api:schema"), HTTP_ACCEPT="application/json"
    )
    text = schema.content.decode()
    assert "/api/v1/campagnes/{id}/chevauchements/" in text
    assert "envoyer_malgre_tout" in text


# --- The register -----------------------------------------------------------------------------


def test_the_register_shows_the_justification_of_a_campaign_sent_anyway(world, cast):
    sending.campaign_send_checked(
        campaign=world["draft"],
        choice=OverlapChoice.SEND_ANYWAY,
        justification=JUSTIFICATION,
        user=cast.ars_idf_agent,
    )
    client = client_for(cast.national_requester)

    listing = client.get(reverse("surveys:register")).content.decode()
    detail = client.get(
        reverse("surveys:register_detail", kwargs={"pk": world["draft"].pk})
    ).content.decode()

    assert "Envoyer malgré tout (justifié)" in listing
    assert "12 cellules déjà demandées ailleurs, 0 en entrepôt, 6 nouvelles sur 18" in listing
    assert "Chevauche « Capacités quotidiennes »" in listing
    assert JUSTIFICATION in html.unescape(detail)
    assert 'id="register-overlap"' in detail


def test_the_register_csv_has_the_overlap_columns(world, cast):
    import csv

    sending.campaign_send_checked(
        campaign=world["draft"], choice=OverlapChoice.REUSE, user=cast.ars_idf_agent
    )
    response = client_for(cast.national_requester).get(reverse("surveys:register_csv"))
    content = b"".join(response.streaming_content).decode("utf-8-sig")
    header, *rows = list(csv.reader(io.StringIO(content), delimiter=";"))
    row = next(dict(zip(header, r, strict=True)) for r in rows if r[0] == str(world["draft"].pk))

    assert row["Suite aux chevauchements"] == "Réutiliser les valeurs déjà demandées"
    assert row["Cellules demandées (analyse)"] == "18"
    assert row["Cellules déjà demandées ailleurs"] == "12"
    assert row["Cellules nouvelles"] == "6"
    assert row["Campagnes qui chevauchent"] == (
        f"Capacités quotidiennes ({world['national'].owner}) : 12 cellules"
    )


def test_adding_or_deleting_a_question_of_the_drafts_version_forgets_the_choice(world, cast):
    from surveys import builder

    draft = world["draft"]
    sending.overlap_decide(campaign=draft, choice=OverlapChoice.REUSE, user=cast.ars_idf_agent)
    version = draft.version
    # A campaign's version stays a draft until the campaign is sent: the builder may change it.
    version.status = SurveyVersion.Status.DRAFT
    version.save(update_fields=["status"])

    question = builder.question_add(
        version=version,
        section=version.sections.first(),
        definition=DefinitionFactory(code="lits_reanimation", label="Lits de réanimation"),
        user=cast.ars_idf_agent,
    )

    draft.refresh_from_db()
    assert draft.overlap_choice == "" and draft.overlap_summary == {}
    assert not CampaignReuse.objects.filter(campaign=draft).exists()

    sending.overlap_decide(campaign=draft, choice=OverlapChoice.REUSE, user=cast.ars_idf_agent)
    builder.question_delete(question=question, user=cast.ars_idf_agent)
    draft.refresh_from_db()
    assert draft.overlap_choice == ""
