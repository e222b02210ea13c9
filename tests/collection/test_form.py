"""The respondent's web form over the value store: prefill, live check, drafts, submission,
corrections, locks and concurrent edits."""

import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape

from collection import values
from collection.models import Channel, Draft, Value, ValueRevision
from referentials.units import unit_for_establishment
from surveys.models import Assignment
from tests.conftest import client_for
from tests.referentials.factories_dictionary import DefinitionFactory, RuleFactory
from tests.surveys.factories import (
    AssignmentFactory,
    CampaignFactory,
    CampaignPeriodFactory,
    QuestionFactory,
    SectionFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def survey(national_org):
    """A daily survey of Ehpad beds: bounds, a jump warning, a cross rule, a condition."""
    installed = DefinitionFactory(
        code="lits_installes",
        label="Lits installés",
        value_type="integer",
        minimum=Decimal(0),
        maximum=Decimal(300),
        doctrine="Lits en état d'accueillir un résident, à minuit.",
    )
    occupied = DefinitionFactory(
        code="lits_occupes",
        label="Lits occupés",
        value_type="integer",
        minimum=Decimal(0),
        max_jump_ratio=Decimal(2),
    )
    RuleFactory(
        code="occupes_installes",
        expression="lits_occupes <= lits_installes",
        message="Plus de lits occupés qu'installés : vérifiez les deux nombres.",
        severity="error",
        status="published",
    )
    section = SectionFactory(title="Capacités", version__survey__owner=national_org)
    QuestionFactory(section=section, definition=installed, required=True)
    QuestionFactory(section=section, definition=occupied)
    QuestionFactory(section=section, code="cluster", label="Foyer de cas", value_type="boolean")
    QuestionFactory(
        section=section,
        code="cluster_cas",
        label="Nombre de cas",
        value_type="integer",
        condition="cluster",
    )
    return section.version


def _assignment(cast, version, *, day=None, **kwargs):
    campaign = CampaignFactory(version=version, title="Capacités des Ehpad")
    period = CampaignPeriodFactory(campaign=campaign, **({"day": day} if day else {}))
    unit = unit_for_establishment(cast.cayenne_ehpad)
    return AssignmentFactory(period=period, unit=unit, **kwargs)


def _url(assignment, name="collection:assignment_form"):
    return reverse(name, kwargs={"pk": assignment.pk})


def _post(client, assignment, answers, *, action="submit", revision=None, **extra):
    data = {
        "_revision": assignment.revision if revision is None else revision,
        "_action": action,
        "cluster": "non",
        **answers,
        **extra,
    }
    return client.post(_url(assignment), data)


def test_prefills_the_store_with_its_provenance_and_the_previous_period(cast, survey):
    yesterday = timezone.localdate() - dt.timedelta(days=1)
    earlier = _assignment(cast, survey, day=yesterday)
    values.submit(earlier, {"lits_installes": "80", "lits_occupes": "70"}, channel=Channel.API)
    # Another campaign already declared today's installed beds: the form reads that value.
    other = _assignment(cast, survey)
    values.submit(
        other, {"lits_installes": "82"}, channel=Channel.SPREADSHEET, user=cast.ehpad_respondent
    )
    assignment = _assignment(cast, survey)
    response = client_for(cast.ehpad_respondent).get(_url(assignment))
    assert response.status_code == 200
    html = response.content.decode()
    assert 'name="lits_installes" value="82"' in html
    assert (
        "Déjà connu : Déclaré le" in html
        and "via l&#x27;enquête « Capacités des Ehpad » (DGOS), par tableur" in html
    )
    value = Value.objects.get(code="lits_installes", period_key=assignment.period.key)
    assert reverse("collection:value_history", kwargs={"pk": value.pk}) in html
    assert "Période précédente : 70 lits" in html
    assert "Lits en état d&#x27;accueillir un résident, à minuit." in html


def test_live_check_returns_errors_and_the_rule_message(cast, survey):
    assignment = _assignment(cast, survey)
    client = client_for(cast.ehpad_respondent)
    response = client.post(
        _url(assignment, "collection:assignment_check"),
        {"lits_installes": "400", "lits_occupes": "12", "cluster": "non"},
        HTTP_HX_REQUEST="true",
    )
    html = response.content.decode()
    assert response.status_code == 200 and "<html" not in html
    assert "fr-input-group--error" in html and "400 lits dépasse le maximum" in html
    response = client.post(
        _url(assignment, "collection:assignment_check"),
        {"lits_installes": "10", "lits_occupes": "12", "cluster": "oui"},
    )
    html = response.content.decode()
    assert "Plus de lits occupés qu&#x27;installés" in html
    assert 'id="q-cluster_cas-group" data-condition="cluster">' in html  # shown now


def test_a_warning_needs_a_comment_before_submission(cast, survey):
    yesterday = timezone.localdate() - dt.timedelta(days=1)
    earlier = _assignment(cast, survey, day=yesterday)
    values.submit(earlier, {"lits_installes": "80", "lits_occupes": "10"}, channel=Channel.FORM)
    assignment = _assignment(cast, survey)
    client = client_for(cast.ehpad_respondent)
    answers = {"lits_installes": "80", "lits_occupes": "60"}
    response = _post(client, assignment, answers)
    html = response.content.decode()
    assert response.status_code == 200
    assert "fr-message--warning" in html and "un écart de plus de x2" in html
    assert 'name="_comment_lits_occupes"' in html and "fr-alert--error" in html
    assert not Value.objects.filter(period_key=assignment.period.key).exists()
    response = _post(client, assignment, answers, _comment_lits_occupes="Réouverture de l'aile B.")
    assert response.status_code == 302
    value = Value.objects.get(code="lits_occupes", period_key=assignment.period.key)
    assert (value.data, value.comment) == ("60", "Réouverture de l'aile B.")


def test_a_draft_is_restored_then_submitted(cast, survey):
    assignment = _assignment(cast, survey)
    client = client_for(cast.ehpad_respondent)
    response = _post(
        client, assignment, {"lits_installes": "50", "lits_occupes": ""}, action="draft"
    )
    assert response.status_code == 302
    assert not Value.objects.exists() and Draft.objects.filter(assignment=assignment).exists()
    page = client.get(_url(assignment)).content.decode()
    assert 'name="lits_installes" value="50"' in page and "Brouillon enregistré le" in page
    assignment.refresh_from_db()
    response = _post(client, assignment, {"lits_installes": "50", "lits_occupes": "40"})
    assert response.status_code == 302
    assignment.refresh_from_db()
    assert assignment.status == Assignment.Status.SUBMITTED
    assert not Draft.objects.exists()
    page = client.get(_url(assignment)).content.decode()
    assert "Vos réponses ont été transmises" in page and "Transmettre la correction" in page


def test_a_correction_makes_a_revision_shown_in_the_history(cast, survey):
    assignment = _assignment(cast, survey)
    client = client_for(cast.ehpad_respondent)
    _post(client, assignment, {"lits_installes": "50", "lits_occupes": "40"})
    assignment.refresh_from_db()
    response = _post(client, assignment, {"lits_installes": "52", "lits_occupes": "40"})
    assert response.status_code == 302
    value = Value.objects.get(code="lits_installes")
    assert list(value.revisions.values_list("old_data", "new_data")) == [(None, "50"), ("50", "52")]
    history = client.get(reverse("collection:value_history", kwargs={"pk": value.pk}))
    html = history.content.decode()
    assert history.status_code == 200 and "<caption>" in html
    assert "<td>50</td>" in html and "<td>52</td>" in html and "formulaire en ligne" in html
    assert escape(cast.ehpad_respondent.get_full_name()) in html


def test_a_locked_period_makes_the_form_read_only_with_the_reason(cast, survey):
    assignment = _assignment(cast, survey)
    client = client_for(cast.ehpad_respondent)
    _post(client, assignment, {"lits_installes": "50"})
    period = assignment.period
    period.locks_at = timezone.now() - dt.timedelta(minutes=1)
    period.save()
    page = client.get(_url(assignment)).content.decode()
    assert "Formulaire en lecture seule" in page and "est verrouillée depuis le" in page
    assert 'name="lits_installes" value="50"' in page and "readonly" in page
    assert "hx-post" not in page and 'value="submit"' not in page
    assignment.refresh_from_db()
    response = _post(client, assignment, {"lits_installes": "51"})
    assert "est verrouillée depuis le" in response.content.decode()
    assert Value.objects.get(code="lits_installes").data == "50"


def test_a_stale_save_shows_both_values_and_keeps_the_input(cast, survey):
    assignment = _assignment(cast, survey)
    loaded = assignment.revision
    colleague = client_for(cast.legal_entity_respondent)
    me = client_for(cast.ehpad_respondent)
    _post(colleague, assignment, {"lits_installes": "60"}, revision=loaded)
    response = _post(me, assignment, {"lits_installes": "65"}, revision=loaded)
    assert response.status_code == 409
    html = response.content.decode()
    assert "pendant votre saisie" in html
    assert "<td>60</td>" in html and "<td>65</td>" in html
    assert 'name="lits_installes" value="65"' in html  # my input is re-shown, not lost
    assert Value.objects.get(code="lits_installes").data == "60"
    assignment.refresh_from_db()
    # Choosing the colleague's value, then saving, goes through at the current revision.
    response = _post(
        me,
        assignment,
        {
            "lits_installes": "65",
            "_conflict_lits_installes": "theirs",
            "_theirs_lits_installes": "60",
        },
    )
    assert response.status_code == 302
    assert Value.objects.get(code="lits_installes").data == "60"


def test_an_exempted_assignment_refuses_answers(cast, survey):
    assignment = _assignment(cast, survey, status=Assignment.Status.EXEMPTED)
    client = client_for(cast.ehpad_respondent)
    page = client.get(_url(assignment)).content.decode()
    assert "dispense" in page and "Formulaire en lecture seule" in page
    response = _post(client, assignment, {"lits_installes": "50"})
    assert "fait l&#x27;objet d&#x27;une dispense" in response.content.decode()
    assert not Value.objects.exists() and not ValueRevision.objects.exists()


def test_the_campaign_owner_reads_but_cannot_answer_nor_see_drafts(cast, survey):
    assignment = _assignment(cast, survey)
    values.save_draft(assignment, {"lits_installes": "47"}, user=cast.ehpad_respondent)
    client = client_for(cast.national_requester)
    page = client.get(_url(assignment)).content.decode()
    assert "Consultation seule" in page and "hx-post" not in page
    assert 'value="47"' not in page and "Brouillon" not in page
    assert _post(client, assignment, {"lits_installes": "50"}).status_code == 403
    assert not Value.objects.exists()


def test_respondents_of_other_establishments_get_a_404(cast, survey):
    assignment = _assignment(cast, survey)
    assert client_for(cast.hospital_respondent).get(_url(assignment)).status_code == 404
    assert client_for(cast.ars_idf_agent).get(_url(assignment)).status_code == 404


def test_a_rule_warning_is_justified_once_and_its_comment_kept_with_the_values(cast, survey):
    RuleFactory(
        code="occupation_elevee",
        expression="lits_occupes * 10 <= lits_installes * 9",
        message="Plus de 90 % des lits sont occupés : confirmez.",
        severity="warning",
        status="published",
    )
    assignment = _assignment(cast, survey)
    client = client_for(cast.ehpad_respondent)
    answers = {"lits_installes": "50", "lits_occupes": "49"}
    html = _post(client, assignment, answers).content.decode()
    assert "Plus de 90 % des lits sont occupés" in html
    assert 'name="_comment_occupation_elevee"' in html
    assert not Value.objects.exists()
    response = _post(client, assignment, answers, _comment_occupation_elevee="Épidémie de grippe.")
    assert response.status_code == 302
    assert set(Value.objects.values_list("code", "comment")) == {
        ("cluster", ""),
        ("lits_installes", "Épidémie de grippe."),
        ("lits_occupes", "Épidémie de grippe."),
    }
    # A later correction of another answer does not ask for the justification again.
    assignment.refresh_from_db()
    page = client.get(_url(assignment)).content.decode()
    assert "Épidémie de grippe.</textarea>" not in page  # no warning shown before a check
    response = _post(client, assignment, {**answers, "cluster": "oui", "cluster_cas": "3"})
    assert response.status_code == 302


def test_a_changed_value_needs_a_new_justification(cast, survey):
    yesterday = timezone.localdate() - dt.timedelta(days=1)
    earlier = _assignment(cast, survey, day=yesterday)
    values.submit(earlier, {"lits_installes": "80", "lits_occupes": "10"}, channel=Channel.FORM)
    assignment = _assignment(cast, survey)
    client = client_for(cast.ehpad_respondent)
    answers = {"lits_installes": "80", "lits_occupes": "60"}
    _post(client, assignment, answers, _comment_lits_occupes="Réouverture de l'aile B.")
    assignment.refresh_from_db()
    # The same value again: its stored justification still holds.
    assert _post(client, assignment, answers).status_code == 302
    assignment.refresh_from_db()
    # Another value still far from yesterday's: the old justification was for 60, not 70.
    response = _post(client, assignment, {**answers, "lits_occupes": "70"})
    assert response.status_code == 200 and "un écart de plus de x2" in response.content.decode()
    assert Value.objects.get(code="lits_occupes", period_key=assignment.period.key).data == "60"


def test_a_form_that_lost_its_revision_is_treated_as_stale(cast, survey):
    assignment = _assignment(cast, survey)
    client = client_for(cast.ehpad_respondent)
    _post(client, assignment, {"lits_installes": "60"})
    response = client.post(
        _url(assignment), {"_action": "submit", "cluster": "non", "lits_installes": "65"}
    )
    assert response.status_code == 409  # both values shown, nothing overwritten
    assert Value.objects.get(code="lits_installes").data == "60"
