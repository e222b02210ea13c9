"""Queries on values: ask, confirm, correct, validate, close; who may do what; the thread page
and the queries' inbox."""

import pytest
from django.urls import reverse

from accounts.models import AuditEvent, Organisation
from collection import queries
from collection.models import Value, ValueQuery, ValueQueryMessage, ValueRevision
from notifications.models import Notification
from referentials.units import unit_for_establishment
from tests.collection import quality_setup as setup
from tests.conftest import client_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def queried_setup(cast):
    """A DGOS campaign; the Ehpad Edmar Lama (Cayenne) answered 11, far below its history."""
    occupied, _ = setup.definitions()
    dgos = Organisation.objects.get(short_name="DGOS")
    campaign = setup.campaign(dgos, definition=occupied)
    setup.history(unit_for_establishment(cast.cayenne_ehpad), occupied, [30, 31, 30, 29, 30])
    value = setup.answered(campaign, cast.cayenne_ehpad, occupied, 11)
    return campaign, value


def _ask(cast, campaign, value, text="11 lits occupés, contre 30 d'habitude : est-ce juste ?"):
    return queries.query_create(
        value=value, text=text, campaign=campaign, user=cast.national_requester
    )


def test_a_requester_query_marks_the_value_and_tells_the_establishment(cast, queried_setup):
    campaign, value = queried_setup
    query = _ask(cast, campaign, value)
    value.refresh_from_db()
    assert value.status == Value.Status.QUERIED
    assert (query.status, query.asked_by, query.campaign) == (
        ValueQuery.Status.OPEN,
        cast.national_requester,
        campaign,
    )
    assert [(m.kind, m.author) for m in query.messages.all()] == [
        ("question", cast.national_requester)
    ]
    told = Notification.objects.filter(kind="value_queried")
    # The Ehpad's respondent and its legal entity's (CH de Cayenne) are both told.
    assert {n.recipient for n in told} == {cast.ehpad_respondent, cast.legal_entity_respondent}
    notification = told.first()
    assert "confirmer ou corriger" in notification.subject
    assert notification.link == reverse("collection:value_query", kwargs={"pk": value.pk})
    assert AuditEvent.objects.filter(action="value.query", target_id=str(value.pk)).exists()


def test_asking_again_adds_to_the_open_thread(cast, queried_setup):
    campaign, value = queried_setup
    first = _ask(cast, campaign, value)
    second = _ask(cast, campaign, value, text="Pouvez-vous vérifier ?")
    assert first == second and first.messages.count() == 2
    assert ValueQuery.objects.count() == 1


def test_a_query_needs_a_text_and_a_requester_of_a_reading_campaign(cast, queried_setup):
    campaign, value = queried_setup
    with pytest.raises(queries.QueryError, match="Écrivez votre question"):
        _ask(cast, campaign, value, text="  ")
    # The ARS of Île-de-France neither owns the campaign nor sees Cayenne.
    with pytest.raises(queries.QueryError, match="Seul un demandeur"):
        queries.query_create(value=value, text="?", campaign=None, user=cast.ars_idf_agent)
    # A campaign that does not read the value is refused even for its owner's requester.
    other = setup.campaign(campaign.owner, title="Autre enquête")
    with pytest.raises(queries.QueryError, match="Seul un demandeur"):
        queries.query_create(value=value, text="?", campaign=other, user=cast.national_requester)
    assert not ValueQuery.objects.exists()


def test_the_establishment_confirms_with_a_comment_and_the_requester_is_told(cast, queried_setup):
    campaign, value = queried_setup
    query = _ask(cast, campaign, value)
    with pytest.raises(queries.QueryError, match="pourquoi la valeur est juste"):
        queries.query_confirm(query=query, comment="", user=cast.ehpad_respondent)
    queries.query_confirm(
        query=query, comment="Unité fermée pour travaux cette semaine.", user=cast.ehpad_respondent
    )
    query.refresh_from_db()
    value.refresh_from_db()
    assert query.status == ValueQuery.Status.CONFIRMED
    assert value.status == Value.Status.SUBMITTED and value.data == "11"
    assert query.messages.last().kind == ValueQueryMessage.Kind.CONFIRMATION
    answered = Notification.objects.get(kind="value_query_answered")
    assert answered.recipient == cast.national_requester
    assert "a répondu" in answered.subject
    # Answered once: a second answer is refused.
    with pytest.raises(queries.QueryError, match="déjà reçu une réponse"):
        queries.query_confirm(query=query, comment="Encore", user=cast.ehpad_respondent)


def test_the_establishment_corrects_and_the_thread_keeps_the_revision(cast, queried_setup):
    campaign, value = queried_setup
    query = _ask(cast, campaign, value)
    queries.query_correct(
        query=query, raw="31", comment="Erreur de saisie : 31.", user=cast.ehpad_respondent
    )
    value.refresh_from_db()
    query.refresh_from_db()
    # Revision 1 declared 11, 2 put it in question (same data), 3 corrected it.
    assert (value.data, value.status, value.revision_count) == ("31", "submitted", 3)
    queried = ValueRevision.objects.get(value=value, number=2)
    assert (queried.old_status, queried.new_status, queried.new_data) == (
        "submitted",
        "queried",
        "11",
    )
    revision = ValueRevision.objects.get(value=value, number=3)
    assert (revision.old_data, revision.new_data, revision.changed_by) == (
        "11",
        "31",
        cast.ehpad_respondent,
    )
    message = query.messages.get(kind=ValueQueryMessage.Kind.CORRECTION)
    assert message.revision == revision and query.status == ValueQuery.Status.CORRECTED
    assert Notification.objects.filter(
        kind="value_query_answered", recipient=cast.national_requester
    ).exists()


def test_a_refused_correction_changes_nothing(cast, queried_setup):
    campaign, value = queried_setup
    query = _ask(cast, campaign, value)
    with pytest.raises(queries.QueryError, match="n'est pas un nombre"):
        queries.query_correct(query=query, raw="trente", comment="x", user=cast.ehpad_respondent)
    query.refresh_from_db()
    value.refresh_from_db()
    assert query.status == ValueQuery.Status.OPEN and value.data == "11"
    assert query.messages.count() == 1


def test_another_establishments_respondent_cannot_answer(cast, queried_setup):
    campaign, value = queried_setup
    query = _ask(cast, campaign, value)
    with pytest.raises(queries.QueryError, match="Seul un répondant"):
        queries.query_confirm(query=query, comment="Juste", user=cast.hospital_respondent)


def test_validation_is_recorded_as_a_status_revision_and_closes_the_thread(cast, queried_setup):
    campaign, value = queried_setup
    query = _ask(cast, campaign, value)
    queries.query_confirm(query=query, comment="Travaux.", user=cast.ehpad_respondent)
    queries.value_validate(value=value, user=cast.national_requester, comment="Vu, merci.")
    value.refresh_from_db()
    query.refresh_from_db()
    assert value.status == Value.Status.VALIDATED and value.data == "11"
    revision = ValueRevision.objects.get(value=value, number=value.revision_count)
    assert (revision.old_status, revision.new_status) == ("submitted", "validated")
    assert revision.old_data == revision.new_data == "11"
    assert revision.changed_by == cast.national_requester
    assert query.status == ValueQuery.Status.CLOSED and query.closed_at is not None
    assert query.messages.last().kind == ValueQueryMessage.Kind.VALIDATION
    with pytest.raises(queries.QueryError, match="déjà validée"):
        queries.value_validate(value=value, user=cast.national_requester)
    with pytest.raises(queries.QueryError, match="Seul un demandeur"):
        queries.value_validate(value=value, user=cast.ehpad_respondent)


def test_closing_an_unanswered_query_puts_the_value_back(cast, queried_setup):
    campaign, value = queried_setup
    query = _ask(cast, campaign, value)
    queries.query_close(query=query, user=cast.national_requester, comment="Sans objet.")
    value.refresh_from_db()
    query.refresh_from_db()
    assert query.status == ValueQuery.Status.CLOSED and value.status == Value.Status.SUBMITTED
    # Once closed, a new query may be opened.
    assert _ask(cast, campaign, value).pk != query.pk


# --- Pages ------------------------------------------------------------------------------------


def _url(value):
    return reverse("collection:value_query", kwargs={"pk": value.pk})


def test_the_thread_page_gives_each_viewer_their_own_forms(cast, queried_setup):
    campaign, value = queried_setup
    _ask(cast, campaign, value)
    requester = client_for(cast.national_requester).get(_url(value)).content.decode()
    assert 'id="validate-form"' in requester and 'id="close-form"' in requester
    assert 'id="confirm-form"' not in requester
    respondent = client_for(cast.ehpad_respondent).get(_url(value)).content.decode()
    assert 'id="confirm-form"' in respondent and 'id="correct-form"' in respondent
    assert 'id="validate-form"' not in respondent and 'id="ask-form"' not in respondent
    assert "11 lits occupés, contre 30 d&#x27;habitude" in respondent


def test_other_establishments_and_regions_get_a_404(cast, queried_setup):
    _, value = queried_setup
    for user in (cast.hospital_respondent, cast.ars_idf_agent, cast.ars_guadeloupe_agent):
        assert client_for(user).get(_url(value)).status_code == 404
        assert client_for(user).post(_url(value), {"action": "confirm"}).status_code == 404


def test_the_respondent_corrects_through_the_page(cast, queried_setup):
    campaign, value = queried_setup
    _ask(cast, campaign, value)
    client = client_for(cast.ehpad_respondent)
    response = client.post(
        _url(value), {"action": "correct", "correct-raw": "trente", "correct-comment": "Erreur"}
    )
    assert response.status_code == 400 and "n&#x27;est pas un nombre" in response.content.decode()
    response = client.post(
        _url(value), {"action": "correct", "correct-raw": "31", "correct-comment": "Erreur"}
    )
    assert response.status_code == 302
    value.refresh_from_db()
    assert value.data == "31"
    # The requester's actions are not the respondent's.
    assert client.post(_url(value), {"action": "validate"}).status_code == 403


def test_the_requester_asks_and_validates_through_the_pages(cast, queried_setup):
    campaign, value = queried_setup
    client = client_for(cast.national_requester)
    # An outside « next » is not followed.
    response = client.post(
        _url(value), {"action": "ask", "text": "Vraiment ?", "next": "https://exemple.fr/"}
    )
    assert response.status_code == 302 and response.url == _url(value)
    assert ValueQuery.objects.get().campaign == campaign
    quality_url = reverse("collection:campaign_quality", kwargs={"pk": campaign.pk})
    response = client.post(_url(value), {"action": "validate", "next": quality_url})
    assert response.status_code == 302 and response.url == quality_url
    value.refresh_from_db()
    assert value.status == Value.Status.VALIDATED
    # Validated, the thread is closed: nothing is left to close.
    assert client.post(_url(value), {"action": "close"}).status_code == 403


def test_the_inbox_lists_a_respondents_open_queries_and_the_requesters_answers(cast, queried_setup):
    campaign, value = queried_setup
    query = _ask(cast, campaign, value)
    inbox = reverse("collection:queries_inbox")
    page = client_for(cast.ehpad_respondent).get(inbox).content.decode()
    assert 'id="queries-to-answer"' in page and _url(value) in page
    assert _url(value) not in client_for(cast.hospital_respondent).get(inbox).content.decode()
    requester = client_for(cast.national_requester).get(inbox).content.decode()
    assert 'id="queries-waiting"' in requester and 'id="queries-answered"' not in requester
    queries.query_confirm(query=query, comment="Juste.", user=cast.ehpad_respondent)
    requester = client_for(cast.national_requester).get(inbox).content.decode()
    assert 'id="queries-answered"' in requester
    assert _url(value) not in client_for(cast.ars_idf_agent).get(inbox).content.decode()


def test_the_respondents_inbox_shows_a_badge_with_the_open_queries(cast, queried_setup):
    campaign, value = queried_setup
    client = client_for(cast.ehpad_respondent)
    inbox = reverse("collection:inbox")
    assert 'id="open-queries"' not in client.get(inbox).content.decode()
    _ask(cast, campaign, value)
    page = client.get(inbox).content.decode()
    assert 'id="open-queries"' in page and "1 en attente de réponse" in page
    assert (
        'id="open-queries"' not in client_for(cast.hospital_respondent).get(inbox).content.decode()
    )


def test_every_change_of_status_is_a_revision_with_the_same_data(cast, queried_setup):
    campaign, value = queried_setup
    query = _ask(cast, campaign, value)
    queries.query_confirm(query=query, comment="Travaux.", user=cast.ehpad_respondent)
    second = _ask(cast, campaign, value, text="Et aujourd'hui ?")
    queries.query_close(query=second, user=cast.national_requester)
    value.refresh_from_db()
    revisions = list(ValueRevision.objects.filter(value=value).order_by("number"))
    assert value.revision_count == len(revisions) == 5
    assert [(r.old_status, r.new_status, r.changed_by) for r in revisions[1:]] == [
        ("submitted", "queried", cast.national_requester),
        ("queried", "submitted", cast.ehpad_respondent),
        ("submitted", "queried", cast.national_requester),
        ("queried", "submitted", cast.national_requester),
    ]
    assert all(r.old_data == r.new_data == "11" for r in revisions[1:])
    assert "Travaux." in revisions[2].comment


def campaign_definition(campaign):
    return campaign.version.sections.get().questions.get().definition


def test_a_value_validated_by_another_organisation_cannot_be_questioned(cast, queried_setup):
    # The ARS of Guadeloupe reads a clinic's value shared with the DGOS campaign for a
    # campaign of its own; the DGOS validated it: the ARS may not put it back in question,
    # the DGOS may.
    campaign, _ = queried_setup
    value = setup.answered(campaign, cast.pointe_a_pitre_clinic, campaign_definition(campaign), 12)
    queries.value_validate(value=value, user=cast.national_requester)
    ars = Organisation.objects.get(memberships__user=cast.ars_guadeloupe_agent)
    regional = setup.campaign(ars, title="Lits occupés (ARS)", definition=value.definition)
    setup.assignment(regional, cast.pointe_a_pitre_clinic, day=value.period_start)
    assert queries.askable_campaigns(user=cast.ars_guadeloupe_agent, value=value) == [regional]
    with pytest.raises(queries.QueryError, match="validée par DGOS"):
        queries.query_create(
            value=value, text="Vraiment ?", campaign=regional, user=cast.ars_guadeloupe_agent
        )
    value.refresh_from_db()
    assert value.status == Value.Status.VALIDATED and not ValueQuery.objects.exists()
    _ask(cast, campaign, value)
    value.refresh_from_db()
    assert value.status == Value.Status.QUERIED
    last = ValueRevision.objects.get(value=value, number=value.revision_count)
    assert (last.old_status, last.new_status) == ("validated", "queried")
