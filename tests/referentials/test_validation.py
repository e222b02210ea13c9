"""The one validation engine: same input, same verdict, on every channel; never a crash."""

from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from referentials.expressions import compile_expression
from referentials.validation import (
    EXPRESSION_TYPES,
    Context,
    DefinitionSpec,
    ParseError,
    RuleSpec,
    Severity,
    ValueType,
    format_value,
    parse_value,
    validate,
)

OCCUPES = DefinitionSpec(
    "lits_rea_occupes",
    "Lits de réanimation occupés",
    ValueType.INTEGER,
    unit="lits",
    minimum=Decimal(0),
    maximum=Decimal(500),
    max_jump_ratio=Decimal(3),
    directory_maximum="lits_rea_autorises",
)
INSTALLES = DefinitionSpec(
    "lits_rea_installes", "Lits de réanimation installés", ValueType.INTEGER, minimum=Decimal(0)
)
TAUX = DefinitionSpec(
    "taux_absence",
    "Taux d'absence du personnel",
    ValueType.PERCENTAGE,
    maximum=Decimal(100),
    decimals=1,
)
STOCK = DefinitionSpec("stock_ffp2", "Stock de masques FFP2", ValueType.DECIMAL, decimals=2)
PLAN = DefinitionSpec("plan_blanc_active", "Plan blanc déclenché", ValueType.BOOLEAN)
PREMIER = DefinitionSpec("date_premier_cas", "Date du premier cas", ValueType.DATE)
CAS = DefinitionSpec("cas_confirmes", "Cas confirmés", ValueType.INTEGER, minimum=Decimal(0))
NIVEAU = DefinitionSpec(
    "niveau_tension",
    "Niveau de tension",
    ValueType.SINGLE_CHOICE,
    choices=("1", "2", "3"),
    choice_labels={"faible": "1", "moyen": "2", "fort": "3"},
)
EQUIPEMENTS = DefinitionSpec(
    "equipements", "Équipements", ValueType.MULTIPLE_CHOICE, choices=("ecmo", "respi", "dialyse")
)
FINESS = DefinitionSpec("finess_site", "FINESS du site", ValueType.FINESS)
RPPS = DefinitionSpec("rpps_referent", "RPPS du référent", ValueType.RPPS)
COMMENTAIRE = DefinitionSpec("commentaire", "Commentaire", ValueType.TEXT)
ALL = [
    OCCUPES,
    INSTALLES,
    TAUX,
    STOCK,
    PLAN,
    PREMIER,
    CAS,
    NIVEAU,
    EQUIPEMENTS,
    FINESS,
    RPPS,
    COMMENTAIRE,
]
TYPES = {spec.code: EXPRESSION_TYPES[spec.type] for spec in ALL}


def rule(code, source, message, severity=Severity.ERROR, condition=None):
    return RuleSpec(
        code,
        compile_expression(source, types=TYPES),
        message,
        severity,
        compile_expression(condition, types=TYPES) if condition else None,
    )


CAPACITY = rule(
    "capacite_rea",
    "lits_rea_occupes <= lits_rea_installes",
    "Les lits occupés ne peuvent dépasser les lits installés.",
)
FIRST_CASE = rule(
    "date_premier_cas_requise",
    "renseigne(date_premier_cas)",
    "Indiquez la date du premier cas dès qu'un cas est confirmé.",
    condition="cas_confirmes > 0",
)


@pytest.mark.parametrize(
    "spec, raw, expected",
    [
        (INSTALLES, "1 234", 1234),
        (INSTALLES, "1\u202f234", 1234),
        (INSTALLES, 12, 12),
        (INSTALLES, "12,0", 12),
        (STOCK, "1 234,5", Decimal("1234.5")),
        (STOCK, "1.234,56", Decimal("1234.56")),
        (STOCK, "1234.5", Decimal("1234.5")),
        (STOCK, 2.5, Decimal("2.5")),
        (TAUX, "12,5 %", Decimal("12.5")),
        (PLAN, "oui", True),
        (PLAN, "Non", False),
        (PLAN, "yes", True),
        (PLAN, "FALSE", False),
        (PLAN, True, True),
        (PREMIER, "03/04/2020", date(2020, 4, 3)),
        (PREMIER, "2020-04-03", date(2020, 4, 3)),
        (NIVEAU, "2", "2"),
        (NIVEAU, "fort", "3"),
        (EQUIPEMENTS, "ecmo; respi", frozenset({"ecmo", "respi"})),
        (EQUIPEMENTS, ["dialyse"], frozenset({"dialyse"})),
        (FINESS, "2a0000030", "2A0000030"),
        (COMMENTAIRE, "  rien à signaler ", "rien à signaler"),
        (INSTALLES, "   ", None),
    ],
)
def test_raw_values_are_read_the_french_way(spec, raw, expected):
    assert parse_value(spec, raw) == expected


@pytest.mark.parametrize(
    "spec, raw, message",
    [
        (INSTALLES, "douze", "n'est pas un nombre"),
        (INSTALLES, "12,5", "nombre entier"),
        (STOCK, "1,234", "au plus 2 chiffre(s)"),
        (PLAN, "peut-être", "répondez oui ou non"),
        (PREMIER, "31/02/2020", "n'est pas une date qui existe"),
        (PREMIER, "mars 2020", "JJ/MM/AAAA"),
        (NIVEAU, "4", "ne fait pas partie des choix possibles (1, 2, 3)"),
        (FINESS, "010000025", "n'est pas un numéro FINESS valide"),
        (RPPS, "12345", "n'est pas un numéro RPPS valide"),
        (INSTALLES, True, "pas oui/non"),
        (STOCK, float("nan"), "nombre fini"),
    ],
)
def test_unreadable_values_get_a_french_reason(spec, raw, message):
    with pytest.raises(ParseError) as error:
        parse_value(spec, raw)
    assert message in str(error.value)


def test_a_valid_answer_set_gives_typed_values_and_no_issue():
    verdict = validate(
        answers={"lits_rea_occupes": "8", "lits_rea_installes": "10", "plan_blanc_active": "oui"},
        definitions=[OCCUPES, INSTALLES, PLAN],
        rules=[CAPACITY],
    )
    assert verdict.is_valid and verdict.issues == []
    assert verdict.values == {
        "lits_rea_occupes": 8,
        "lits_rea_installes": 10,
        "plan_blanc_active": True,
    }


def test_a_broken_rule_blocks_and_names_the_cell_it_came_from():
    verdict = validate(
        answers={"lits_rea_occupes": "12", "lits_rea_installes": "10"},
        definitions=[OCCUPES, INSTALLES],
        rules=[CAPACITY],
        sources={"lits_rea_occupes": "C7", "lits_rea_installes": "D7"},
    )
    [issue] = verdict.errors
    assert issue.code == "capacite_rea"
    assert issue.message == "Les lits occupés ne peuvent dépasser les lits installés."
    assert issue.source in {"C7", "D7"}


def test_a_conditional_requirement_applies_only_when_its_condition_holds():
    with_cases = validate(
        answers={"cas_confirmes": "2"}, definitions=[CAS, PREMIER], rules=[FIRST_CASE]
    )
    assert [i.code for i in with_cases.errors] == ["date_premier_cas_requise"]
    without = validate(
        answers={"cas_confirmes": "0"}, definitions=[CAS, PREMIER], rules=[FIRST_CASE]
    )
    assert without.is_valid


def test_a_rule_over_a_missing_value_waits_for_it():
    verdict = validate(
        answers={"lits_rea_occupes": "12"}, definitions=[OCCUPES, INSTALLES], rules=[CAPACITY]
    )
    assert verdict.is_valid


def test_bounds_required_and_unknown_columns_are_errors():
    verdict = validate(
        answers={"lits_rea_occupes": "-1", "colonne_inconnue": "3"},
        definitions=[
            OCCUPES,
            DefinitionSpec("x", "Question obligatoire", ValueType.TEXT, required=True),
        ],
    )
    messages = [i.message for i in verdict.errors]
    assert any("inférieur au minimum (0 lits)" in m for m in messages)
    assert "Question obligatoire : réponse obligatoire." in messages
    assert any(
        "« colonne_inconnue » n'est pas une question de cette enquête" in m for m in messages
    )


def test_above_directory_capacity_is_a_warning_that_asks_for_a_comment():
    verdict = validate(
        answers={"lits_rea_occupes": "30"},
        definitions=[OCCUPES],
        context=Context(facts={"lits_rea_autorises": 20}),
    )
    assert verdict.is_valid
    [warning] = verdict.warnings
    assert "dépasse la capacité connue de l'établissement (20)" in warning.message


def test_a_jump_from_the_previous_period_is_a_warning():
    jump = validate(
        answers={"lits_rea_occupes": "40"},
        definitions=[OCCUPES],
        context=Context(previous={"lits_rea_occupes": 10}),
    )
    assert [w.code for w in jump.warnings] == ["lits_rea_occupes"]
    steady = validate(
        answers={"lits_rea_occupes": "12"},
        definitions=[OCCUPES],
        context=Context(previous={"lits_rea_occupes": 10}),
    )
    assert steady.warnings == []


def test_a_division_by_zero_in_a_rule_is_reported_not_raised():
    ratio = rule(
        "ratio",
        "lits_rea_occupes / lits_rea_installes <= 1",
        "Taux d'occupation supérieur à 100 %.",
    )
    verdict = validate(
        answers={"lits_rea_occupes": "1", "lits_rea_installes": "0"},
        definitions=[OCCUPES, INSTALLES],
        rules=[ratio],
    )
    [warning] = verdict.warnings
    assert "division par zéro" in warning.message


def test_the_same_answers_give_the_same_verdict_from_a_form_a_spreadsheet_or_json():
    form = {"lits_rea_occupes": "12", "lits_rea_installes": "10", "plan_blanc_active": "oui"}
    spreadsheet = {"lits_rea_occupes": 12.0, "lits_rea_installes": 10, "plan_blanc_active": "OUI"}
    api = {"lits_rea_occupes": 12, "lits_rea_installes": 10, "plan_blanc_active": True}
    verdicts = [
        validate(answers=a, definitions=[OCCUPES, INSTALLES, PLAN], rules=[CAPACITY])
        for a in (form, spreadsheet, api)
    ]
    assert verdicts[0].values == verdicts[1].values == verdicts[2].values
    assert (
        [i.as_dict() for i in verdicts[0].issues]
        == [i.as_dict() for i in verdicts[1].issues]
        == [i.as_dict() for i in verdicts[2].issues]
    )


# --- Properties -------------------------------------------------------------------------------

typed_values = [
    (INSTALLES, st.integers(min_value=-(10**12), max_value=10**12)),
    (
        STOCK,
        st.decimals(
            min_value=-(10**9), max_value=10**9, places=2, allow_nan=False, allow_infinity=False
        ),
    ),
    (PLAN, st.booleans()),
    (PREMIER, st.dates(min_value=date(1900, 1, 1), max_value=date(2100, 12, 31))),
    (NIVEAU, st.sampled_from(NIVEAU.choices)),
    # An empty multiple choice is written blank and read as unanswered (None): see below.
    (EQUIPEMENTS, st.frozensets(st.sampled_from(EQUIPEMENTS.choices), min_size=1)),
    (COMMENTAIRE, st.text().map(str.strip).filter(bool)),
]


@pytest.mark.parametrize("spec, strategy", typed_values, ids=lambda s: getattr(s, "code", ""))
def test_formatting_a_valid_value_and_reading_it_back_gives_the_same_value(spec, strategy):
    @settings(max_examples=300, deadline=None)
    @given(strategy)
    def round_trip(value):
        assert parse_value(spec, format_value(spec, value)) == value

    round_trip()


raw_anything = st.one_of(
    st.none(),
    st.text(),
    st.integers(),
    st.floats(),
    st.booleans(),
    st.decimals(),
    st.dates(),
    st.lists(st.one_of(st.text(), st.integers())),
    st.dictionaries(st.text(), st.text()),
)


@settings(max_examples=500, deadline=None)
@given(st.dictionaries(st.sampled_from([s.code for s in ALL] + ["inconnue"]), raw_anything))
def test_the_engine_never_raises_whatever_it_is_given(answers):
    verdict = validate(
        answers=answers,
        definitions=ALL,
        rules=[CAPACITY, FIRST_CASE],
        context=Context(facts={"lits_rea_autorises": 5}, previous={"lits_rea_occupes": 3}),
    )
    assert set(verdict.values) <= {s.code for s in ALL}
    for issue in verdict.issues:
        assert issue.message


def test_a_multiple_choice_with_nothing_ticked_counts_as_unanswered():
    assert format_value(EQUIPEMENTS, frozenset()) == ""
    assert parse_value(EQUIPEMENTS, "") is None
    required = DefinitionSpec(
        "equipements", "Équipements", ValueType.MULTIPLE_CHOICE, choices=("ecmo",), required=True
    )
    verdict = validate(answers={"equipements": []}, definitions=[required])
    assert [i.message for i in verdict.errors] == ["Équipements : réponse obligatoire."]


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("1000000000000000000", "trop grand"),
        ("0,1234567", "au plus 6 chiffres après la virgule"),
        ("NaN", "n'est pas un nombre"),
    ],
)
def test_numbers_the_store_cannot_keep_exactly_are_refused(raw, message):
    spec = DefinitionSpec(code="x", label="X", type=ValueType.DECIMAL)
    with pytest.raises(ParseError, match=message):
        parse_value(spec, raw)
