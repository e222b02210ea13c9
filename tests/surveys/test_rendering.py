"""The form renderer shared by the builder's preview and the respondent's form."""

from decimal import Decimal

import pytest
from django.http import QueryDict
from django.template.loader import render_to_string

from referentials.validation import Issue, Severity
from surveys.rendering import answers_from, comment_name, form_context, preview_context
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
def schema():
    installed = DefinitionFactory(
        code="lits_rea_installes",
        label="Lits de réanimation installés",
        value_type="integer",
        minimum=Decimal(0),
        maximum=Decimal(500),
        doctrine="Lits équipés et armés à minuit.\nSans les lits fermés.",
    )
    occupied = DefinitionFactory(
        code="lits_rea_occupes", label="Lits de réanimation occupés", value_type="integer"
    )
    RuleFactory(
        code="rea_occupes_installes",
        expression="lits_rea_occupes <= lits_rea_installes",
        message="Plus de lits occupés qu'installés.",
        severity="warning",
        status="published",
    )
    codes = CodeListFactory(code="niveaux_tension")
    for order, (code, label) in enumerate([("faible", "Faible"), ("forte", "Forte")]):
        CodeListItemFactory(code_list=codes, code=code, label=label, order=order)
    tension = DefinitionFactory(
        code="tension", label="Tension", value_type="single_choice", code_list=codes, unit=""
    )
    section = SectionFactory(title="Capacités", description="Au jour de la déclaration.")
    QuestionFactory(section=section, definition=installed, required=True)
    QuestionFactory(section=section, definition=occupied)
    QuestionFactory(section=section, definition=tension)
    QuestionFactory(
        section=section,
        code="motif",
        label="Motif de la tension",
        value_type="text",
        condition='tension == "forte"',
    )
    QuestionFactory(
        section=section,
        code="renfort",
        label="Renfort demandé",
        value_type="boolean",
    )
    QuestionFactory(
        section=section,
        code="besoins",
        label="Besoins",
        value_type="multiple_choice",
        choices=[{"code": "med", "label": "Médecins"}, {"code": "ide", "label": "Infirmiers"}],
    )
    return version_schema(section.version)


def _fields(context):
    return {f.name: f for f in context.fields}


def test_fields_carry_kind_bounds_help_and_choices(schema):
    fields = _fields(form_context(schema))
    installed = fields["lits_rea_installes"]
    assert (installed.kind, installed.minimum, installed.maximum) == ("number", "0", "500")
    assert installed.hint == "Nombre entier entre 0 et 500 lits"
    assert installed.help_lines == ["Lits équipés et armés à minuit.", "Sans les lits fermés."]
    assert fields["tension"].kind == "radio"
    assert [c.label for c in fields["tension"].choices] == ["Faible", "Forte"]
    assert fields["renfort"].kind == "yes-no"
    assert fields["besoins"].kind == "checkbox"


def test_a_condition_hides_its_question_until_it_holds(schema):
    assert _fields(form_context(schema))["motif"].hidden
    shown = _fields(form_context(schema, answers={"tension": "forte"}))
    assert not shown["motif"].hidden and shown["tension"].choices[1].checked


def test_issues_land_on_their_field_and_rule_warnings_on_the_last_question(schema):
    issues = [
        Issue("lits_rea_installes", Severity.ERROR, "Lits : 600 dépasse le maximum (500)"),
        Issue("rea_occupes_installes", Severity.WARNING, "Plus de lits occupés qu'installés."),
    ]
    context = form_context(
        schema, answers={"lits_rea_installes": "600", "lits_rea_occupes": "700"}, issues=issues
    )
    fields = _fields(context)
    assert fields["lits_rea_installes"].errors == ["Lits : 600 dépasse le maximum (500)"]
    assert fields["lits_rea_installes"].state == "error"
    warning = fields["lits_rea_occupes"].warnings[0]
    assert warning.comment_name == comment_name("rea_occupes_installes")
    assert [w.message for _, w in context.unjustified] == ["Plus de lits occupés qu'installés."]


def test_the_template_renders_dsfr_inputs_states_and_a_summary(schema):
    data = QueryDict(mutable=True)
    data.update({"lits_rea_installes": "600", "tension": "forte", "renfort": "oui"})
    data.setlist("besoins", ["med", "ide"])
    context = preview_context(schema, data)
    html = render_to_string(
        "surveys/_questions.html", {"questions": context, "live_url": "/verifier/"}
    )
    assert "fr-alert--error" in html and 'href="#q-lits_rea_installes"' in html
    assert "fr-input-group--error" in html and "fr-message--error" in html
    assert "Lits équipés et armés à minuit.<br>Sans les lits fermés." in html
    assert (
        'hx-post="/verifier/"' in html and 'hx-trigger="change, input changed delay:500ms"' in html
    )
    assert 'id="q-besoins-0" name="besoins" value="med" checked' in html
    assert 'name="motif"' in html and "fr-radio-group" in html and "fr-checkbox-group" in html


def test_the_preview_renders_without_live_check_or_store(schema):
    html = render_to_string(
        "surveys/_questions.html", {"questions": preview_context(schema), "live_url": ""}
    )
    assert "hx-post" not in html and "fr-alert--error" not in html
    assert 'id="q-motif-group" data-condition="tension == &quot;forte&quot;" hidden' in html


def test_posted_checkboxes_are_joined_and_missing_questions_blank(schema):
    data = QueryDict(mutable=True)
    data.setlist("besoins", ["med", "ide"])
    answers = answers_from(schema, data)
    assert answers["besoins"] == "med;ide" and answers["lits_rea_installes"] == ""


def test_a_warning_with_its_comment_is_justified(schema):
    issues = [
        Issue("rea_occupes_installes", Severity.WARNING, "Plus de lits occupés qu'installés.")
    ]
    context = form_context(
        schema, issues=issues, comments={"rea_occupes_installes": "Lits de renfort ouverts."}
    )
    assert context.unjustified == []
    html = render_to_string("surveys/_questions.html", {"questions": context, "live_url": ""})
    assert "fr-message--warning" in html and "Lits de renfort ouverts.</textarea>" in html
