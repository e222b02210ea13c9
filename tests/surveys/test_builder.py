"""The survey builder's services: bound and ad-hoc questions, conditions, versions, JSON."""

from decimal import Decimal

import pytest

from accounts.models import AuditEvent, Organisation
from surveys import builder, selectors_builder
from surveys.builder import BuilderError
from surveys.models import LegalBasis, Question, Section, Survey, SurveyVersion
from surveys.schema import version_schema
from tests.referentials.factories_dictionary import DefinitionFactory


@pytest.fixture
def dgos(cast) -> Organisation:
    return Organisation.objects.get(short_name="DGOS")


@pytest.fixture
def ars_idf(cast) -> Organisation:
    return Organisation.objects.get(name="ARS Île-de-France")


@pytest.fixture
def rea(db):
    return DefinitionFactory(
        code="lits_rea_ouverts",
        label="Lits de réanimation ouverts",
        value_type="integer",
        doctrine="Lits installés et armés en personnel.",
    )


@pytest.fixture
def survey(cast, dgos) -> Survey:
    return builder.survey_create(
        owner=dgos,
        title="Capacités de réanimation",
        purpose="Suivre les capacités pendant l'épidémie.",
        legal_basis=LegalBasis.PUBLIC_INTEREST,
        legal_reference="CSP, art. L. 1431-2",
        user=cast.national_requester,
    )


def draft_of(survey: Survey) -> SurveyVersion:
    return survey.versions.get(status=SurveyVersion.Status.DRAFT)


def first_section(survey: Survey) -> Section:
    return draft_of(survey).sections.get()


def add_adhoc(survey, user, section=None, **kwargs) -> Question:
    version = draft_of(survey)
    values = {"label": "Nombre de respirateurs", "value_type": "integer", **kwargs}
    section = section or version.sections.get(title="Questions")
    return builder.question_add(version=version, section=section, user=user, **values)


# --- Surveys ------------------------------------------------------------------------------------


def test_a_requester_creates_a_survey_with_a_draft_version_and_a_first_section(survey, cast):
    version = draft_of(survey)
    assert version.number == 1
    assert version.title == "Capacités de réanimation"
    assert version.legal_reference == "CSP, art. L. 1431-2"
    assert list(version.sections.values_list("title", flat=True)) == ["Questions"]
    assert AuditEvent.objects.filter(action="survey.create", target_id=str(survey.pk)).exists()


def test_purpose_and_legal_basis_are_required(cast, dgos):
    with pytest.raises(BuilderError) as error:
        builder.survey_create(
            owner=dgos,
            title="Sans finalité",
            purpose=" ",
            legal_basis="",
            user=cast.national_requester,
        )
    text = " ".join(error.value.messages)
    assert "finalité est obligatoire" in text
    assert "base légale" in text
    assert not Survey.objects.exists()


def test_a_requester_cannot_create_a_survey_for_another_organisation(cast, ars_idf):
    with pytest.raises(BuilderError, match="pas demandeur"):
        builder.survey_create(
            owner=ars_idf,
            title="Enquête",
            purpose="Finalité",
            legal_basis=LegalBasis.PUBLIC_INTEREST,
            user=cast.national_requester,
        )


def test_only_the_owners_surveys_are_visible(survey, cast):
    assert list(selectors_builder.surveys_visible_to(cast.national_requester)) == [survey]
    assert list(selectors_builder.surveys_visible_to(cast.ars_idf_agent)) == []
    assert list(selectors_builder.surveys_visible_to(cast.curator)) == []
    assert list(selectors_builder.surveys_visible_to(cast.hospital_respondent)) == []


# --- Questions ----------------------------------------------------------------------------------


def test_a_bound_question_takes_its_definitions_code_and_shows_its_doctrine(survey, cast, rea):
    version = draft_of(survey)
    question = builder.question_add(
        version=version,
        section=first_section(survey),
        definition=rea,
        required=True,
        user=cast.national_requester,
    )
    assert question.code == "lits_rea_ouverts"
    assert question.label == "" and question.value_type == ""
    spec = version_schema(version).by_code["lits_rea_ouverts"]
    assert spec.help_text == "Lits installés et armés en personnel."
    assert spec.required


def test_an_ad_hoc_question_gets_a_slug_code_unique_in_the_version(survey, cast):
    first = add_adhoc(survey, cast.national_requester, label="Nombre de lits d'été")
    second = add_adhoc(survey, cast.national_requester, label="Nombre de lits d'été")
    assert first.code == "nombre_de_lits_d_ete"
    assert second.code == "nombre_de_lits_d_ete_2"


def test_an_ad_hoc_code_cannot_be_a_definitions_code(survey, cast, rea):
    with pytest.raises(BuilderError, match="celui d'une définition du dictionnaire"):
        add_adhoc(survey, cast.national_requester, code="lits_rea_ouverts")


def test_an_ad_hoc_code_must_be_well_formed(survey, cast):
    with pytest.raises(BuilderError, match="code « 2lits » invalide"):
        add_adhoc(survey, cast.national_requester, code="2lits")


def test_a_choice_question_needs_its_choices(survey, cast):
    with pytest.raises(BuilderError, match="au moins deux choix"):
        add_adhoc(survey, cast.national_requester, label="Niveau", value_type="single_choice")
    question = add_adhoc(
        survey,
        cast.national_requester,
        label="Niveau de tension",
        value_type="single_choice",
        choices=[{"code": "faible", "label": "Faible"}, {"code": "forte", "label": "Forte"}],
    )
    assert version_schema(question.version).by_code["niveau_de_tension"].choices == [
        ("faible", "Faible"),
        ("forte", "Forte"),
    ]


def test_bounds_are_checked(survey, cast):
    with pytest.raises(BuilderError, match=r"le minimum .* dépasse le maximum"):
        add_adhoc(survey, cast.national_requester, minimum=Decimal(10), maximum=Decimal(2))


def test_a_deprecated_definition_is_refused_with_its_replacement(survey, cast, rea):
    old = DefinitionFactory(code="lits_rea", status="deprecated", replaced_by=rea)
    with pytest.raises(BuilderError) as error:
        builder.question_add(
            version=draft_of(survey),
            section=first_section(survey),
            definition=old,
            user=cast.national_requester,
        )
    assert "utilisez « lits_rea_ouverts »" in error.value.messages[0]


def test_a_draft_definition_is_refused(survey, cast):
    draft = DefinitionFactory(code="brouillon", draft=True)
    with pytest.raises(BuilderError, match="n'est pas publiée"):
        builder.question_add(
            version=draft_of(survey),
            section=first_section(survey),
            definition=draft,
            user=cast.national_requester,
        )


def test_a_condition_is_compiled_against_the_versions_questions(survey, cast, rea):
    version = draft_of(survey)
    section = first_section(survey)
    builder.question_add(
        version=version, section=section, definition=rea, user=cast.national_requester
    )
    question = add_adhoc(
        survey, cast.national_requester, label="Respirateurs", condition="lits_rea_ouverts > 0"
    )
    schema = version_schema(version)
    assert schema.visible_codes({"lits_rea_ouverts": 3}) == {"lits_rea_ouverts", "respirateurs"}
    assert question.condition == "lits_rea_ouverts > 0"


def test_a_condition_naming_an_unknown_code_is_refused_in_french(survey, cast):
    with pytest.raises(BuilderError) as error:
        add_adhoc(survey, cast.national_requester, condition="lits_inconnus > 0")
    assert "code de définition inconnu : « lits_inconnus »" in error.value.messages[0]
    assert not Question.objects.exists()


def test_a_condition_with_a_type_error_is_refused(survey, cast):
    add_adhoc(survey, cast.national_requester, label="Commentaire", value_type="text")
    with pytest.raises(BuilderError, match="condition d'affichage « commentaire > 3 » refusée"):
        add_adhoc(survey, cast.national_requester, label="Autre", condition="commentaire > 3")


def test_deleting_a_question_named_by_a_condition_is_refused_and_nothing_changes(survey, cast):
    trigger = add_adhoc(survey, cast.national_requester, label="Lits")
    add_adhoc(survey, cast.national_requester, label="Détail", condition="lits > 0")
    with pytest.raises(BuilderError, match=r"question « detail » .* « lits »"):
        builder.question_delete(question=trigger, user=cast.national_requester)
    assert Question.objects.filter(pk=trigger.pk).exists()
    assert not AuditEvent.objects.filter(action="question.delete").exists()


def test_renaming_a_code_named_by_a_condition_is_refused(survey, cast):
    trigger = add_adhoc(survey, cast.national_requester, label="Lits")
    add_adhoc(survey, cast.national_requester, label="Détail", condition="lits > 0")
    with pytest.raises(BuilderError):
        builder.question_update(
            question=trigger,
            code="lits_ouverts",
            label="Lits",
            value_type="integer",
            user=cast.national_requester,
        )
    trigger.refresh_from_db()
    assert trigger.code == "lits"


def test_questions_move_within_and_across_sections(survey, cast):
    version = draft_of(survey)
    user = cast.national_requester
    first = add_adhoc(survey, user, label="Un")
    second = add_adhoc(survey, user, label="Deux")
    other = builder.section_add(version=version, title="Ressources humaines", user=user)
    builder.question_move(question=second, direction="up", user=user)
    assert list(first_in(version)) == [("Questions", "deux"), ("Questions", "un")]
    builder.question_move(question=first, direction="down", user=user)  # past the edge
    assert list(first_in(version)) == [("Questions", "deux"), ("Ressources humaines", "un")]
    builder.question_move(question=second, position=2, section=other, user=user)
    assert list(first_in(version)) == [
        ("Ressources humaines", "un"),
        ("Ressources humaines", "deux"),
    ]


def first_in(version):
    return version.questions.order_by("section__order", "order").values_list(
        "section__title", "code"
    )


def test_sections_are_added_renamed_moved_and_deleted(survey, cast):
    version = draft_of(survey)
    user = cast.national_requester
    second = builder.section_add(version=version, title="Personnel", user=user)
    builder.section_move(section=second, direction="up", user=user)
    assert list(version.sections.values_list("title", flat=True)) == ["Personnel", "Questions"]
    builder.section_update(section=second, title="Ressources humaines", user=user)
    add_adhoc(survey, user, label="Un")
    builder.section_delete(section=first_section_titled(version, "Questions"), user=user)
    assert list(version.sections.values_list("title", flat=True)) == ["Ressources humaines"]
    assert not version.questions.exists()


def first_section_titled(version, title):
    return version.sections.get(title=title)


def test_only_requesters_of_the_owner_edit(survey, cast):
    with pytest.raises(BuilderError, match="Seuls les demandeurs"):
        add_adhoc(survey, cast.ars_idf_agent)


# --- Versions -----------------------------------------------------------------------------------


def test_a_frozen_version_refuses_every_edit(survey, cast, rea):
    user = cast.national_requester
    question = add_adhoc(survey, user)
    version = draft_of(survey)
    builder.freeze_version(version=version, user=user)
    version.refresh_from_db()
    assert version.is_frozen and version.frozen_by == user and version.frozen_at
    section = version.sections.get()
    for attempt in [
        lambda: builder.question_add(version=version, section=section, definition=rea, user=user),
        lambda: builder.question_delete(question=question, user=user),
        lambda: builder.section_add(version=version, title="Autre", user=user),
        lambda: builder.version_update(
            version=version, title="X", purpose="Y", legal_basis="consent", user=user
        ),
    ]:
        with pytest.raises(BuilderError, match="figée"):
            attempt()


def test_a_new_version_copies_sections_and_questions(survey, cast, rea):
    user = cast.national_requester
    version = draft_of(survey)
    builder.question_add(version=version, section=first_section(survey), definition=rea, user=user)
    add_adhoc(survey, user, label="Respirateurs", condition="lits_rea_ouverts > 0", required=True)
    builder.freeze_version(version=version, user=user)
    copy = builder.new_version(survey=survey, user=user)
    assert copy.number == 2 and not copy.is_frozen
    assert list(copy.questions.values_list("code", "condition", "required")) == list(
        version.questions.values_list("code", "condition", "required")
    )
    assert copy.sections.get().title == "Questions"
    assert builder.new_version(survey=survey, user=user) == copy  # one draft at a time
    # The frozen version keeps its own questions.
    assert version.questions.count() == 2


# --- A survey from a JSON document --------------------------------------------------------------


def test_survey_from_json_creates_everything(cast, dgos, rea):
    survey = builder.survey_from_json(
        data={
            "title": "Tension hospitalière",
            "purpose": "Piloter la crise.",
            "legal_basis": "public_interest",
            "sections": [
                {
                    "title": "Capacités",
                    "questions": [
                        {"definition": "lits_rea_ouverts", "required": True},
                        {
                            "code": "niveau",
                            "label": "Niveau de tension",
                            "value_type": "single_choice",
                            "choices": [
                                {"code": "faible", "label": "Faible"},
                                {"code": "forte", "label": "Forte"},
                            ],
                            "condition": "lits_rea_ouverts > 0",
                        },
                    ],
                }
            ],
        },
        owner=dgos,
        user=cast.national_requester,
    )
    version = survey.versions.get()
    assert version.title == "Tension hospitalière"
    assert list(version.questions.values_list("code", flat=True)) == ["lits_rea_ouverts", "niveau"]
    assert version_schema(version).by_code["niveau"].condition is not None


def test_survey_from_json_collects_every_error_with_its_path(cast, dgos, rea):
    with pytest.raises(BuilderError) as error:
        builder.survey_from_json(
            data={
                "title": "",
                "purpose": "Piloter la crise.",
                "legal_basis": "public_interest",
                "sections": [
                    {
                        "title": "Capacités",
                        "questions": [
                            {"definition": "lits_rea_ouverts"},
                            {"label": "Libre", "value_type": "integer"},
                            {"definition": "xyz"},
                        ],
                    },
                    {
                        "title": "Suite",
                        "questions": [
                            {"label": "Autre", "value_type": "nombre"},
                            {"label": "Cond", "value_type": "integer", "condition": "inconnu > 1"},
                        ],
                    },
                ],
            },
            owner=dgos,
            user=cast.national_requester,
        )
    messages = error.value.messages
    assert "questionnaire : le titre est obligatoire." in messages
    assert "sections[0].questions[2] : définition « xyz » inconnue." in messages
    assert any(
        m.startswith("sections[1].questions[0] : type de valeur « nombre »") for m in messages
    )
    assert any(
        m.startswith("sections[1].questions[1] : condition d'affichage « inconnu > 1 » refusée")
        for m in messages
    )
    assert not Survey.objects.exists() and not Question.objects.exists()


@pytest.mark.parametrize("bound", ["NaN", "Infinity", "1e30", "0.00001"])
def test_a_json_survey_with_an_impossible_bound_is_refused_where_it_is(dgos, cast, bound):
    data = {
        "title": "Lits",
        "purpose": "Suivi des lits.",
        "legal_basis": "public_interest",
        "sections": [
            {
                "title": "Capacités",
                "questions": [{"label": "Lits", "value_type": "integer", "minimum": bound}],
            }
        ],
    }
    with pytest.raises(builder.BuilderError) as refused:
        builder.survey_from_json(data=data, owner=dgos, user=cast.national_requester)
    assert any(m.startswith("sections[0].questions[0]") for m in refused.value.messages)


def test_a_json_survey_with_too_long_texts_is_refused_before_anything_is_written(dgos, cast):
    data = {
        "title": "Lits",
        "purpose": "Suivi des lits.",
        "legal_basis": "public_interest",
        "sections": [
            {
                "title": "S" * 201,
                "questions": [{"label": "Lits", "value_type": "integer", "unit": "u" * 41}],
            }
        ],
    }
    with pytest.raises(builder.BuilderError) as refused:
        builder.survey_from_json(data=data, owner=dgos, user=cast.national_requester)
    assert "sections[0] : « title » trop long (201 caractères, 200 au plus)." in (
        refused.value.messages
    )
    assert any(
        m.startswith("sections[0].questions[0] : « unit » trop long")
        for m in refused.value.messages
    )
    assert not Survey.objects.exists()


@pytest.mark.django_db
def test_close_definitions_are_not_suggested_for_a_common_word_alone():
    """« Nombre d'infirmiers » shares only « nombre » with « Nombre de lits »: no suggestion."""
    beds = DefinitionFactory(code="nombre_lits", label="Nombre de lits installés")
    assert selectors_builder.definitions_close_to("Nombre d'infirmiers") == []
    assert selectors_builder.definitions_close_to("Nombre de lits ouverts") == [beds]
