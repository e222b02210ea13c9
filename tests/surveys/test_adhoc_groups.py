"""Ad-hoc questions grouped by closeness, with the closest definitions, for curators."""

import pytest
from django.urls import reverse

from accounts.models import Organisation
from surveys.adhoc_groups import adhoc_groups
from tests.accounts.factories import OrganisationFactory, dgos
from tests.conftest import client_for
from tests.referentials.factories_dictionary import DefinitionFactory
from tests.surveys.factories import (
    CampaignFactory,
    QuestionFactory,
    SectionFactory,
    SurveyFactory,
    SurveyVersionFactory,
)

pytestmark = pytest.mark.django_db


def ask(label, *, owner=None, title="Enquête", number=1, draft=False, code=None):
    survey_owner = owner or dgos()
    version = SurveyVersionFactory(
        survey=SurveyFactory(owner=survey_owner),
        title=title,
        number=number,
        status="draft" if draft else "frozen",
    )
    extra = {"code": code} if code else {}
    return QuestionFactory(section=SectionFactory(version=version), label=label, **extra)


def labels(group):
    return sorted(q.label for q in group.questions)


def test_close_labels_of_two_surveys_form_one_group_despite_accents_case_and_typos():
    other: Organisation = OrganisationFactory()
    ask("Nombre de masques FFP2 en stock", title="Stocks DGOS")
    ask("nombre de masques ffp2 en stok", owner=other, title="Stocks ARS")
    ask("Nombre de repas servis", title="Restauration")

    [group] = adhoc_groups()

    assert labels(group) == ["Nombre de masques FFP2 en stock", "nombre de masques ffp2 en stok"]
    assert group.survey_count == 2
    assert group.verdict == "candidate à une nouvelle définition"
    assert {q.owner for q in group.questions} == {str(dgos()), str(other)}


def test_a_question_close_to_a_published_definition_is_to_be_rebound_even_alone():
    definition = DefinitionFactory(code="lits_rea_ouverts", label="Lits de réanimation ouverts")
    DefinitionFactory(code="brouillon", label="Lits de réanimation ouverts ce jour", draft=True)
    ask("Lits de reanimation ouverts")

    [group] = adhoc_groups()

    assert group.rebind_to is not None
    assert group.rebind_to.definition_id == definition.pk
    assert group.rebind_to.similarity == 100
    assert [m.code for m in group.matches] == ["lits_rea_ouverts"]  # drafts are not offered
    assert group.verdict == "à rebrancher sur « Lits de réanimation ouverts » (lits_rea_ouverts)"


def test_a_question_asked_by_one_survey_only_and_like_no_definition_is_not_shown():
    ask("Nombre de repas servis")
    ask("Nombre de masques FFP2 en stock")

    assert adhoc_groups() == []


def test_successive_versions_of_one_survey_count_once_with_their_campaigns():
    first = ask("Nombre de repas servis", code="repas", title="Restauration")
    survey = first.version.survey
    second = SurveyVersionFactory(survey=survey, number=2, title="Restauration")
    QuestionFactory(section=SectionFactory(version=second), code="repas", label="Repas servis")
    campaign = CampaignFactory(version=first.version, title="Restauration 2026")
    ask("Nombre de repas servis", title="Cantine", owner=OrganisationFactory())

    [group] = adhoc_groups()

    # « Nombre de » says nothing of what is counted: both labels are « repas servis ».
    assert labels(group) == ["Nombre de repas servis", "Repas servis"]
    [latest] = [q for q in group.questions if q.survey_id == survey.pk]
    assert latest.version_number == 2
    assert latest.campaigns == [(campaign.pk, "Restauration 2026")]


def test_bound_questions_are_never_grouped():
    definition = DefinitionFactory(label="Nombre de repas servis")
    version = SurveyVersionFactory()
    QuestionFactory(section=SectionFactory(version=version), definition=definition)
    version = SurveyVersionFactory()
    QuestionFactory(section=SectionFactory(version=version), definition=definition)

    assert adhoc_groups() == []


def test_the_curator_sees_the_groups_and_the_actions(cast):
    DefinitionFactory(code="lits_rea_ouverts", label="Lits de réanimation ouverts")
    ask("Lits de reanimation ouverts", title="Capacités")
    ask("Nombre de masques FFP2 en stock", title="Stocks DGOS")
    ask("Nombre de masques FFP2 en stock", title="Stocks ARS", owner=OrganisationFactory())

    response = client_for(cast.curator).get(reverse("surveys:adhoc_candidates"))

    page = response.content.decode()
    assert response.status_code == 200
    assert "à rebrancher sur « Lits de réanimation ouverts »" in page
    assert "candidate à une nouvelle définition" in page
    assert "?label=Nombre%20de%20masques%20FFP2%20en%20stock" in page
    assert reverse("glossary:definition_detail", kwargs={"code": "lits_rea_ouverts"}) in page


@pytest.mark.parametrize("role", ["national_requester", "ehpad_respondent", "outsider"])
def test_only_curators_see_the_page(cast, role):
    response = client_for(getattr(cast, role)).get(reverse("surveys:adhoc_candidates"))

    assert response.status_code == 403
