"""The expression language: typed, checked before saving, and unable to reach Python."""

from datetime import date
from decimal import Decimal

import pytest

from referentials.expressions import (
    BOOLEAN,
    DATE,
    NUMBER,
    SET,
    TEXT,
    EvaluationError,
    ExpressionError,
    MissingValue,
    compile_expression,
    referenced_codes,
)

TYPES = {
    "lits_rea_occupes": NUMBER,
    "lits_rea_installes": NUMBER,
    "deces_etablissement": NUMBER,
    "deces_hopital": NUMBER,
    "cas_confirmes_cumul": NUMBER,
    "cas_confirmes": NUMBER,
    "date_premier_cas": DATE,
    "date_dernier_cas": DATE,
    "plan_blanc_active": BOOLEAN,
    "statut": TEXT,
    "equipements": SET,
}


def evaluate(source, **values):
    return compile_expression(source, types=TYPES).evaluate(values)


def test_a_capacity_rule_holds_or_not():
    rule = "lits_rea_occupes <= lits_rea_installes"
    assert evaluate(rule, lits_rea_occupes=8, lits_rea_installes=10) is True
    assert evaluate(rule, lits_rea_occupes=12, lits_rea_installes=10) is False


def test_a_sum_rule_over_three_definitions():
    rule = "deces_etablissement + deces_hopital <= cas_confirmes_cumul"
    assert evaluate(rule, deces_etablissement=2, deces_hopital=1, cas_confirmes_cumul=3)
    assert not evaluate(rule, deces_etablissement=2, deces_hopital=2, cas_confirmes_cumul=3)


def test_an_indicator_is_a_decimal_ratio():
    indicator = "100 * lits_rea_occupes / lits_rea_installes"
    assert evaluate(indicator, lits_rea_occupes=3, lits_rea_installes=4) == Decimal(75)
    assert compile_expression(indicator, types=TYPES).result_type == NUMBER


def test_division_by_zero_is_a_french_evaluation_error():
    with pytest.raises(EvaluationError, match="division par zéro"):
        evaluate("lits_rea_occupes / lits_rea_installes", lits_rea_occupes=1, lits_rea_installes=0)


def test_a_missing_value_makes_the_rule_not_applicable():
    with pytest.raises(MissingValue) as missing:
        evaluate("lits_rea_occupes <= lits_rea_installes", lits_rea_occupes=3)
    assert missing.value.code == "lits_rea_installes"


def test_presence_is_tested_with_renseigne():
    assert evaluate("renseigne(date_premier_cas)", date_premier_cas=date(2020, 3, 1))
    assert not evaluate("renseigne(date_premier_cas)")
    assert not evaluate("renseigne(equipements)", equipements=frozenset())


def test_dates_compare_and_subtract_to_days():
    assert evaluate(
        "date_dernier_cas - date_premier_cas >= 14",
        date_premier_cas=date(2020, 3, 1),
        date_dernier_cas=date(2020, 3, 20),
    )


def test_choices_min_max_abs_and_conditional_values():
    assert evaluate('contient(equipements, "ecmo")', equipements=frozenset({"ecmo", "respi"}))
    assert evaluate('statut == "ouvert"', statut="ouvert")
    assert evaluate("max(deces_hopital, 2) == 5", deces_hopital=5)
    assert evaluate("abs(-3) + min(1, 2) == 4")
    assert evaluate("(1 if plan_blanc_active else 0) == 1", plan_blanc_active=True)


def test_the_names_an_expression_reads_are_known_before_evaluation():
    compiled = compile_expression("lits_rea_occupes <= lits_rea_installes", types=TYPES)
    assert compiled.names == {"lits_rea_occupes", "lits_rea_installes"}
    assert referenced_codes("a + renseigne(b)") == {"a", "b"}


@pytest.mark.parametrize(
    "source, message",
    [
        ("lits_rea_ocupes <= lits_rea_installes", "Vouliez-vous dire « lits_rea_occupes »"),
        ("lits_rea_occupes <= date_premier_cas", "entre un nombre et une date"),
        ("plan_blanc_active + 1", "attend un nombre, pas oui/non"),
        ("lits_rea_occupes and plan_blanc_active", "attend oui/non, pas un nombre"),
        ("equipements < 3", "comparaison impossible"),
        ("lits_rea_occupes <=", "syntaxe invalide"),
        ("", "vide"),
        ("renseigne(1)", "renseigne() prend un seul code"),
        ('statut in ["a"]', "contient"),
        ("lits_rea_occupes ** 2", "pas de puissance"),
        ("lits_rea_occupes % 2", "pas de puissance ni de modulo"),
    ],
)
def test_bad_expressions_are_refused_with_a_french_reason(source, message):
    with pytest.raises(ExpressionError) as error:
        compile_expression(source, types=TYPES)
    assert message in str(error.value)


@pytest.mark.parametrize(
    "attack",
    [
        "__import__('os').system('id')",
        "().__class__.__bases__[0].__subclasses__()",
        "lits_rea_occupes.__class__",
        "lits_rea_occupes.real",
        "open('/etc/passwd')",
        "eval('1')",
        "exec('x=1')",
        "getattr(lits_rea_occupes, 'real')",
        "(lambda: 1)()",
        "[x for x in (1, 2)]",
        "{'a': 1}['a']",
        "lits_rea_occupes[0]",
        "globals()",
        "__builtins__",
        "f'{lits_rea_occupes}'",
        "9 ** 9 ** 9",
        "(x := 1)",
        "abs(*[1])",
        "max(lits_rea_occupes, key=abs)",
        "\"\".join(['a'])",
        " + ".join(["1"] * 400),
        "1" * 2000,
    ],
)
def test_no_expression_reaches_python_internals(attack):
    with pytest.raises(ExpressionError):
        compile_expression(attack, types=TYPES)


def test_compiled_expressions_hold_no_reference_to_python_builtins():
    compiled = compile_expression("lits_rea_occupes <= lits_rea_installes", types=TYPES)
    # Evaluation reads only the mapping it is given: a mapping of builtins gives nothing more.
    with pytest.raises(MissingValue):
        compiled.evaluate({"__builtins__": __builtins__})
