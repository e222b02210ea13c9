"""The builder's pages, through the test client: create, add questions, search, preview."""

import pytest
from django.urls import reverse

from accounts.models import Organisation
from surveys import builder
from surveys.models import LegalBasis, Question, Survey, SurveyVersion
from tests.conftest import client_for
from tests.referentials.factories_dictionary import DefinitionFactory


@pytest.fixture
def rea(db):
    return DefinitionFactory(
        code="lits_rea_ouverts",
        label="Lits de réanimation ouverts",
        doctrine="Lits installés et armés en personnel.",
    )


@pytest.fixture
def version(cast) -> SurveyVersion:
    dgos = Organisation.objects.get(short_name="DGOS")
    survey = builder.survey_create(
        owner=dgos,
        title="Capacités de réanimation",
        purpose="Suivre les capacités.",
        legal_basis=LegalBasis.PUBLIC_INTEREST,
        user=cast.national_requester,
    )
    return survey.versions.get()


def test_a_requester_creates_a_survey_and_lands_in_its_editor(cast):
    client = client_for(cast.national_requester)
    page = client.get(reverse("surveys:builder_survey_create"))
    assert "Finalité" in page.content.decode()
    response = client.post(
        reverse("surveys:builder_survey_create"),
        {
            "owner": Organisation.objects.get(short_name="DGOS").pk,
            "title": "Tension hospitalière",
            "purpose": "Piloter la crise.",
            "legal_basis": "public_interest",
            "legal_reference": "CSP, art. L. 1431-2",
        },
    )
    version = SurveyVersion.objects.get()
    assert response.status_code == 302
    assert response.url == reverse("surveys:builder_version_edit", kwargs={"pk": version.pk})
    editor = client.get(response.url).content.decode()
    assert "Tension hospitalière" in editor
    assert "Ajouter une question" in editor


def test_a_survey_without_purpose_is_refused_with_a_french_message(cast):
    response = client_for(cast.national_requester).post(
        reverse("surveys:builder_survey_create"),
        {
            "owner": Organisation.objects.get(short_name="DGOS").pk,
            "title": "Sans finalité",
            "purpose": "",
            "legal_basis": "public_interest",
        },
    )
    assert response.status_code == 200
    assert "Ce champ est obligatoire" in response.content.decode()
    assert not Survey.objects.exists()


def test_the_list_shows_only_the_organisations_surveys(cast, version):
    mine = client_for(cast.national_requester).get(reverse("surveys:builder_survey_list"))
    theirs = client_for(cast.ars_idf_agent).get(reverse("surveys:builder_survey_list"))
    assert "Capacités de réanimation" in mine.content.decode()
    assert "Capacités de réanimation" not in theirs.content.decode()


def test_the_search_endpoint_finds_definitions_despite_a_typo(cast, rea):
    DefinitionFactory(code="lits_medecine", label="Lits de médecine")
    response = client_for(cast.national_requester).get(
        reverse("surveys:builder_definition_search"), {"q": "reanimtion"}, HTTP_HX_REQUEST="true"
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert "Lits de réanimation ouverts" in html
    assert "?definition=lits_rea_ouverts" in html
    assert "Lits de médecine" not in html


def test_the_search_shows_a_deprecated_definitions_replacement_and_never_offers_it(cast, rea):
    DefinitionFactory(
        code="lits_rea", label="Lits de réanimation", status="deprecated", replaced_by=rea
    )
    html = (
        client_for(cast.national_requester)
        .get(reverse("surveys:builder_definition_search"), {"q": "lits reanimation"})
        .content.decode()
    )
    assert "?definition=lits_rea&quot;" not in html and 'href="?definition=lits_rea"' not in html
    assert "utilisez « lits_rea_ouverts »" in html


def test_typing_an_ad_hoc_label_offers_the_closest_definitions(cast, rea):
    html = (
        client_for(cast.national_requester)
        .get(reverse("surveys:builder_definition_search"), {"label": "lits reanimation"})
        .content.decode()
    )
    assert "Utiliser cette définition à la place" in html
    assert "?definition=lits_rea_ouverts" in html


def test_picking_a_definition_shows_its_doctrine_and_binds_the_question(cast, version, rea):
    client = client_for(cast.national_requester)
    section = version.sections.get()
    url = reverse("surveys:builder_question_add", kwargs={"pk": section.pk})
    page = client.get(url, {"definition": "lits_rea_ouverts"}).content.decode()
    assert "Lits installés et armés en personnel." in page
    response = client.post(url, {"definition": "lits_rea_ouverts", "required": "on"})
    assert response.status_code == 302
    question = version.questions.get()
    assert question.definition == rea and question.required
    editor = client.get(reverse("surveys:builder_version_edit", kwargs={"pk": version.pk}))
    assert "Doctrine (affichée aux répondants)" in editor.content.decode()


def test_an_ad_hoc_question_with_choices_is_added(cast, version):
    section = version.sections.get()
    response = client_for(cast.national_requester).post(
        reverse("surveys:builder_question_add", kwargs={"pk": section.pk}),
        {
            "label": "Niveau de tension",
            "value_type": "single_choice",
            "choices": "faible ; Faible\nForte",
        },
    )
    assert response.status_code == 302
    question = version.questions.get()
    assert question.code == "niveau_de_tension"
    assert question.choices == [
        {"code": "faible", "label": "Faible"},
        {"code": "forte", "label": "Forte"},
    ]


def test_a_condition_on_an_unknown_code_is_shown_in_french_and_nothing_is_saved(cast, version):
    section = version.sections.get()
    response = client_for(cast.national_requester).post(
        reverse("surveys:builder_question_add", kwargs={"pk": section.pk}),
        {"label": "Respirateurs", "value_type": "integer", "condition": "lits_fantomes > 0"},
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert "Rien n'a été enregistré" in html
    assert "code de définition inconnu : « lits_fantomes »" in html
    assert not Question.objects.exists()


def test_questions_are_moved_and_deleted_from_the_editor(cast, version):
    user = cast.national_requester
    section = version.sections.get()
    first = builder.question_add(
        version=version, section=section, label="Un", value_type="integer", user=user
    )
    second = builder.question_add(
        version=version, section=section, label="Deux", value_type="integer", user=user
    )
    client = client_for(user)
    client.post(
        reverse("surveys:builder_question_move", kwargs={"pk": second.pk}), {"direction": "up"}
    )
    assert list(version.questions.order_by("order").values_list("code", flat=True)) == [
        "deux",
        "un",
    ]
    client.post(reverse("surveys:builder_question_delete", kwargs={"pk": first.pk}))
    assert list(version.questions.values_list("code", flat=True)) == ["deux"]


def test_a_frozen_version_is_read_only_with_a_new_version_button(cast, version, rea):
    user = cast.national_requester
    section = version.sections.get()
    builder.question_add(version=version, section=section, definition=rea, user=user)
    builder.freeze_version(version=version, user=user)
    client = client_for(user)
    page = client.get(reverse("surveys:builder_version_edit", kwargs={"pk": version.pk}))
    html = page.content.decode()
    assert "Créer une nouvelle version" in html
    assert "Ajouter une question" not in html
    refused = client.post(
        reverse("surveys:builder_question_add", kwargs={"pk": section.pk}),
        {"label": "Autre", "value_type": "integer"},
    )
    assert refused.status_code == 403
    response = client.post(reverse("surveys:builder_version_new", kwargs={"pk": version.survey_id}))
    copy = version.survey.versions.get(number=2)
    assert response.url == reverse("surveys:builder_version_edit", kwargs={"pk": copy.pk})
    assert copy.questions.get().code == "lits_rea_ouverts"


def test_the_preview_shows_the_form_and_checks_answers_live(cast, version, rea):
    user = cast.national_requester
    section = version.sections.get()
    builder.question_add(version=version, section=section, definition=rea, user=user)
    client = client_for(user)
    url = reverse("surveys:builder_version_preview", kwargs={"pk": version.pk})
    html = client.get(url).content.decode()
    assert "Lits de réanimation ouverts" in html
    assert 'name="lits_rea_ouverts"' in html
    live = client.post(url, {"lits_rea_ouverts": "-3"}, HTTP_HX_REQUEST="true").content.decode()
    assert "erreur" in live


def test_a_viewer_of_the_owner_reads_the_survey_but_cannot_change_it(cast, version):
    from accounts.models import Role
    from tests.accounts.factories import MembershipFactory, UserFactory

    viewer = UserFactory(email="lecteur@sante.gouv.fr")
    MembershipFactory(user=viewer, organisation=version.survey.owner, role=Role.VIEWER)
    client = client_for(viewer)
    assert (
        "Capacités de réanimation"
        in client.get(reverse("surveys:builder_survey_list")).content.decode()
    )
    editor = client.get(reverse("surveys:builder_version_edit", kwargs={"pk": version.pk}))
    assert editor.status_code == 200
    assert "Consultation seule" in editor.content.decode()
    assert "Ajouter une question" not in editor.content.decode()
    section = version.sections.get()
    added = client.post(
        reverse("surveys:builder_question_add", kwargs={"pk": section.pk}),
        {"label": "Autre", "value_type": "integer"},
    )
    assert added.status_code == 403
    assert not version.questions.exists()


def test_the_detail_page_lists_versions_and_offers_a_new_one_once_frozen(cast, version, rea):
    user = cast.national_requester
    builder.question_add(version=version, section=version.sections.get(), definition=rea, user=user)
    client = client_for(user)
    url = reverse("surveys:builder_survey_detail", kwargs={"pk": version.survey_id})
    assert "Créer une nouvelle version" not in client.get(url).content.decode()
    builder.freeze_version(version=version, user=user)
    html = client.get(url).content.decode()
    assert "Créer une nouvelle version" in html
    assert "Figée (envoyée)" in html


def test_a_section_is_renamed_and_a_question_edited(cast, version, rea):
    user = cast.national_requester
    section = version.sections.get()
    question = builder.question_add(version=version, section=section, definition=rea, user=user)
    client = client_for(user)
    client.post(
        reverse("surveys:builder_section_edit", kwargs={"pk": section.pk}),
        {"title": "Capacités", "description": ""},
    )
    section.refresh_from_db()
    assert section.title == "Capacités"
    url = reverse("surveys:builder_question_edit", kwargs={"pk": question.pk})
    assert "Lits installés et armés en personnel." in client.get(url).content.decode()
    client.post(url, {"definition": "lits_rea_ouverts", "help_text": "Comptez les lits armés."})
    question.refresh_from_db()
    assert question.help_text == "Comptez les lits armés." and not question.required
