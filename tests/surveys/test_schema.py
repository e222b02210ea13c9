"""A survey version as every channel checks it: bound and ad-hoc questions, conditions, rules."""

from decimal import Decimal

import pytest

from referentials.validation import Severity
from surveys.schema import version_schema
from tests.referentials.factories_dictionary import (
    CodeListFactory,
    CodeListItemFactory,
    DefinitionFactory,
    RuleFactory,
)
from tests.surveys.factories import QuestionFactory, SectionFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def version():
    occupied = DefinitionFactory(
        code="lits_rea_occupes",
        label="Lits de réanimation occupés",
        value_type="integer",
        minimum=Decimal(0),
        status="published",
        doctrine="Lits occupés à minuit.",
    )
    installed = DefinitionFactory(
        code="lits_rea_installes",
        label="Lits de réanimation installés",
        value_type="integer",
        minimum=Decimal(0),
        status="published",
    )
    RuleFactory(
        code="rea_occupes",
        expression="lits_rea_occupes <= lits_rea_installes",
        message="Plus de lits occupés qu'installés.",
        severity="error",
        status="published",
    )
    section = SectionFactory()
    QuestionFactory(section=section, definition=installed, required=True)
    QuestionFactory(section=section, definition=occupied, required=True)
    QuestionFactory(
        section=section,
        code="tension",
        label="Tension",
        value_type="single_choice",
        choices=[{"code": "faible", "label": "Faible"}, {"code": "forte", "label": "Forte"}],
    )
    QuestionFactory(
        section=section,
        code="motif_tension",
        label="Motif",
        value_type="text",
        required=True,
        condition='tension == "forte"',
    )
    return section.version


def test_bound_questions_take_the_definition_and_its_doctrine(version):
    schema = version_schema(version)
    occupied = schema.by_code["lits_rea_occupes"]
    assert occupied.label == "Lits de réanimation occupés"
    assert occupied.help_text == "Lits occupés à minuit."
    assert schema.by_code["tension"].choices == [("faible", "Faible"), ("forte", "Forte")]
    assert [r.code for r in schema.rules] == ["rea_occupes"]


def test_rules_of_the_dictionary_apply_to_the_survey(version):
    verdict = version_schema(version).check(
        {"lits_rea_installes": "10", "lits_rea_occupes": "12", "tension": "faible"}
    )
    assert [(i.code, i.severity) for i in verdict.issues] == [("rea_occupes", Severity.ERROR)]


def test_a_hidden_question_is_neither_required_nor_kept(version):
    schema = version_schema(version)
    calm = schema.check(
        {
            "lits_rea_installes": "10",
            "lits_rea_occupes": "8",
            "tension": "Faible",
            "motif_tension": "x",
        }
    )
    assert calm.is_valid and "motif_tension" not in calm.values
    tense = schema.check({"lits_rea_installes": "10", "lits_rea_occupes": "8", "tension": "forte"})
    assert [i.code for i in tense.errors] == ["motif_tension"]
    assert "obligatoire" in tense.errors[0].message


def test_a_code_that_is_no_question_is_reported(version):
    verdict = version_schema(version).check(
        {"lits_rea_installes": "10", "lits_rea_occupes": "8", "lits_fantome": "3"}
    )
    assert [i.code for i in verdict.errors] == ["lits_fantome"]


def test_choice_labels_of_a_bound_code_list_are_accepted(version):
    levels = CodeListFactory(code="niveau")
    CodeListItemFactory(code_list=levels, code="n1", label="Niveau 1")
    definition = DefinitionFactory(
        code="niveau_tension",
        label="Niveau",
        value_type="single_choice",
        code_list=levels,
        status="published",
    )
    QuestionFactory(section=version.sections.get(), definition=definition)
    verdict = version_schema(version).check(
        {"lits_rea_installes": "1", "lits_rea_occupes": "1", "niveau_tension": "niveau 1"}
    )
    assert verdict.values["niveau_tension"] == "n1"
