"""The dictionary of shared definitions: seed, meaning kept, history, rules, indicators."""

import io
import json
from decimal import Decimal

import pytest
from django.core.management import call_command

from accounts.models import AuditEvent
from referentials import dictionary
from referentials.dictionary import (
    SEED_PATH,
    DictionaryError,
    code_list_save,
    definition_deprecate,
    definition_save,
    dictionary_load_seed,
    dictionary_specs,
    indicator_aggregate,
    indicator_save,
    rule_save,
)
from referentials.expressions import compile_expression
from referentials.models import (
    CodeList,
    CodeListItem,
    Definition,
    DefinitionRevision,
    Indicator,
    Rule,
)
from referentials.validation import EXPRESSION_TYPES, Severity, ValueType, validate
from tests.accounts.factories import UserFactory
from tests.referentials.factories_dictionary import (
    DefinitionFactory,
    IndicatorFactory,
)

SEED = json.loads(SEED_PATH.read_text(encoding="utf-8"))
SEED_CODES = [row["code"] for row in SEED["definitions"]]


@pytest.fixture
def seeded(db):
    dictionary_load_seed()


@pytest.fixture
def curator(db):
    return UserFactory(email="referentiel@sante.gouv.fr")


# --- The seed ---------------------------------------------------------------------------------


def test_the_seed_loads_about_forty_published_definitions(seeded):
    assert 38 <= Definition.objects.count() <= 45
    assert set(Definition.objects.values_list("status", flat=True)) == {"published"}
    assert Rule.objects.count() == len(SEED["rules"])
    assert Indicator.objects.count() == len(SEED["indicators"])
    niveau = Definition.objects.get(code="niveau_tension")
    assert list(niveau.code_list.items.values_list("code", flat=True)) == ["1", "2", "3", "4"]


def test_every_seed_definition_has_a_doctrine_a_theme_and_sensible_bounds(seeded):
    for definition in Definition.objects.prefetch_related("themes"):
        assert len(definition.doctrine) > 80, definition.code
        assert definition.themes.exists(), definition.code
        if definition.value_type == ValueType.INTEGER:
            assert definition.minimum == 0 and definition.maximum, definition.code
            assert definition.unit, definition.code


def test_soins_critiques_is_stated_as_the_sum_of_its_three_parts(seeded):
    assert "réanimation + soins intensifs + soins continus" in (
        Definition.objects.get(code="lits_rea_installes").doctrine
    )
    indicator = Indicator.objects.get(code="lits_soins_critiques_installes")
    assert indicator.expression == "lits_rea_installes + lits_si_installes + lits_sc_installes"


def test_loading_the_seed_twice_changes_nothing(seeded):
    revisions = DefinitionRevision.objects.count()
    events = AuditEvent.objects.count()
    out = io.StringIO()
    call_command("load_dictionary", stdout=out)
    assert "41 définitions" in out.getvalue()
    assert DefinitionRevision.objects.count() == revisions
    assert AuditEvent.objects.count() == events
    assert set(Definition.objects.values_list("version", flat=True)) == {1}


def test_every_seed_rule_and_indicator_compiles_against_the_seed(seeded):
    types = {d.code: EXPRESSION_TYPES[ValueType(d.value_type)] for d in Definition.objects.all()}
    for rule in Rule.objects.all():
        assert compile_expression(rule.expression, types=types).result_type == "boolean"
        if rule.condition:
            compile_expression(rule.condition, types=types)
    definitions, rules = dictionary_specs(codes=SEED_CODES)
    assert len(definitions) == len(SEED_CODES)
    assert {r.code for r in rules} == {row["code"] for row in SEED["rules"]}


# Any confirmed case calls for the date of the first one (rule date_premier_cas_requise).
FIRST = {"date_premier_cas": "18/03/2020"}

# One answer set that satisfies each seed rule and one that breaks it (raw, as typed).
RULE_CASES = {
    "rea_occupes_inferieurs_installes": (
        {"lits_rea_occupes": "12", "lits_rea_installes": "14"},
        {"lits_rea_occupes": "15", "lits_rea_installes": "14"},
    ),
    "si_occupes_inferieurs_installes": (
        {"lits_si_occupes": "8", "lits_si_installes": "8"},
        {"lits_si_occupes": "9", "lits_si_installes": "8"},
    ),
    "sc_occupes_inferieurs_installes": (
        {"lits_sc_occupes": "0", "lits_sc_installes": "6"},
        {"lits_sc_occupes": "7", "lits_sc_installes": "6"},
    ),
    "rea_occupes_et_disponibles_inferieurs_installes": (
        {"lits_rea_occupes": "11", "lits_rea_disponibles": "2", "lits_rea_installes": "14"},
        {"lits_rea_occupes": "11", "lits_rea_disponibles": "4", "lits_rea_installes": "14"},
    ),
    "si_occupes_et_disponibles_inferieurs_installes": (
        {"lits_si_occupes": "4", "lits_si_disponibles": "4", "lits_si_installes": "8"},
        {"lits_si_occupes": "5", "lits_si_disponibles": "4", "lits_si_installes": "8"},
    ),
    "sc_occupes_et_disponibles_inferieurs_installes": (
        {"lits_sc_occupes": "1", "lits_sc_disponibles": "1", "lits_sc_installes": "6"},
        {"lits_sc_occupes": "6", "lits_sc_disponibles": "1", "lits_sc_installes": "6"},
    ),
    "covid_rea_inferieurs_soins_critiques": (
        {"patients_covid_rea": "9", "patients_covid_soins_critiques": "14"},
        {"patients_covid_rea": "15", "patients_covid_soins_critiques": "14"},
    ),
    "covid_soins_critiques_inferieurs_hospitalises": (
        {"patients_covid_soins_critiques": "14", "patients_covid_hospitalises": "52"},
        {"patients_covid_soins_critiques": "53", "patients_covid_hospitalises": "52"},
    ),
    "covid_rea_inferieurs_lits_occupes": (
        {"patients_covid_rea": "6", "lits_rea_occupes": "11"},
        {"patients_covid_rea": "12", "lits_rea_occupes": "11"},
    ),
    "deces_inferieurs_cas_cumules": (
        {"deces_etablissement": "2", "deces_hopital": "1", "cas_confirmes_cumul": "12", **FIRST},
        {"deces_etablissement": "2", "deces_hopital": "1", "cas_confirmes_cumul": "2", **FIRST},
    ),
    "cas_en_cours_inferieurs_cumul": (
        {"cas_confirmes_residents": "5", "cas_confirmes_cumul": "12", **FIRST},
        {"cas_confirmes_residents": "13", "cas_confirmes_cumul": "12", **FIRST},
    ),
    "date_premier_cas_requise": (
        {"cas_confirmes_cumul": "3", "date_premier_cas": "18/03/2020"},
        {"cas_confirmes_cumul": "3", "date_premier_cas": ""},
    ),
    "cas_residents_inferieurs_residents": (
        {"cas_confirmes_residents": "5", "residents_ehpad": "85"},
        {"cas_confirmes_residents": "86", "residents_ehpad": "85"},
    ),
    "residents_hospitalises_inferieurs_cas": (
        {
            "residents_hospitalises_covid": "2",
            "cas_confirmes_residents": "1",
            "cas_possibles_residents": "1",
        },
        {
            "residents_hospitalises_covid": "3",
            "cas_confirmes_residents": "1",
            "cas_possibles_residents": "1",
        },
    ),
    "positifs_inferieurs_realises": (
        {"tests_positifs": "18", "tests_realises": "200"},
        {"tests_positifs": "201", "tests_realises": "200"},
    ),
    "absents_inferieurs_effectif": (
        {"personnel_absent": "7", "effectif_personnel": "62"},
        {"personnel_absent": "63", "effectif_personnel": "62"},
    ),
    "absents_covid_inferieurs_absents": (
        {"personnel_absent_covid": "3", "personnel_absent": "7"},
        {"personnel_absent_covid": "8", "personnel_absent": "7"},
    ),
    "respirateurs_utilises_inferieurs_disponibles": (
        {"respirateurs_utilises": "17", "respirateurs": "26"},
        {"respirateurs_utilises": "27", "respirateurs": "26"},
    ),
    "date_plan_blanc_requise": (
        {"plan_blanc_declenche": "oui", "date_declenchement_plan_blanc": "2020-03-12"},
        {"plan_blanc_declenche": "oui"},
    ),
}


def test_every_seed_rule_has_a_passing_and_a_failing_case():
    assert set(RULE_CASES) == {row["code"] for row in SEED["rules"]}


@pytest.mark.parametrize("rule_code", sorted(RULE_CASES))
def test_the_engine_gives_each_seed_rule_its_verdict(seeded, rule_code):
    definitions, rules = dictionary_specs(codes=SEED_CODES)
    seed_rule = next(row for row in SEED["rules"] if row["code"] == rule_code)
    passing, failing = RULE_CASES[rule_code]

    passed = validate(answers=passing, definitions=definitions, rules=rules)
    assert [i for i in passed.issues if i.code == rule_code] == []
    assert [i.message for i in passed.errors] == []

    failed = validate(answers=failing, definitions=definitions, rules=rules)
    issues = [i for i in failed.issues if i.code == rule_code]
    assert len(issues) == 1
    assert issues[0].severity is Severity(seed_rule["severity"])
    assert issues[0].message == seed_rule["message"]
    assert [i.code for i in failed.issues] == [rule_code]


def test_a_condition_that_does_not_hold_leaves_its_rule_silent(seeded):
    definitions, rules = dictionary_specs(codes=SEED_CODES)
    verdict = validate(
        answers={"cas_confirmes_cumul": "0", "plan_blanc_declenche": "non"},
        definitions=definitions,
        rules=rules,
    )
    assert verdict.issues == []


def test_only_rules_whose_codes_are_all_in_play_are_given_to_the_engine(seeded):
    definitions, rules = dictionary_specs(codes=["lits_rea_occupes", "lits_rea_installes"])
    assert [d.code for d in definitions] == ["lits_rea_occupes", "lits_rea_installes"]
    assert [r.code for r in rules] == ["rea_occupes_inferieurs_installes"]


def test_choice_specs_accept_the_labels_of_their_code_list(seeded):
    definitions, _rules = dictionary_specs(codes=["niveau_tension"])
    verdict = validate(answers={"niveau_tension": "Tension forte"}, definitions=definitions)
    assert verdict.values == {"niveau_tension": "3"}


# --- A published definition keeps its meaning -------------------------------------------------


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("unit", "places"),
        ("maximum", Decimal(2000)),
        ("value_type", "decimal"),
        ("time_aggregation", "flow"),
        ("establishment_aggregation", "mean"),
    ],
)
def test_changing_the_meaning_of_a_published_definition_is_refused(seeded, curator, field, value):
    definition = Definition.objects.get(code="lits_rea_occupes")
    setattr(definition, field, value)
    with pytest.raises(DictionaryError) as refused:
        definition_save(definition=definition, acting_user=curator)
    assert "ne peut pas changer de sens" in refused.value.messages[0]
    assert "Créez une nouvelle définition" in refused.value.messages[0]
    stored = Definition.objects.get(code="lits_rea_occupes")
    assert (stored.unit, stored.maximum, stored.version) == ("lits", 1000, 1)


def test_a_draft_may_change_its_meaning_freely(db, curator):
    draft = DefinitionFactory(code="lits_ephemeres", draft=True)
    draft.unit = "places"
    definition_save(definition=draft, acting_user=curator)
    draft.refresh_from_db()
    assert (draft.unit, draft.version) == ("places", 1)


def test_a_wording_fix_bumps_the_version_and_keeps_the_history(seeded, curator):
    definition = Definition.objects.get(code="lits_rea_occupes")
    definition.label = "Lits de réanimation occupés à minuit"
    definition.synonyms = [*definition.synonyms, "lits réa pris"]
    definition_save(definition=definition, acting_user=curator, comment="Précision de l'heure")

    definition.refresh_from_db()
    assert definition.version == 2
    assert "LITS REA PRIS" in definition.search_text
    history = list(definition.revisions.order_by("version"))
    assert [(r.version, r.snapshot["label"]) for r in history] == [
        (1, "Lits de réanimation occupés"),
        (2, "Lits de réanimation occupés à minuit"),
    ]
    assert history[1].changed_by == curator
    assert history[1].comment == "Précision de l'heure"
    assert AuditEvent.objects.filter(action="definition.update", actor=curator).exists()


def test_saving_an_unchanged_definition_writes_no_version(seeded, curator):
    definition = Definition.objects.get(code="lits_rea_occupes")
    definition.maximum = Decimal("1000.0")
    definition_save(definition=definition, acting_user=curator)
    assert Definition.objects.get(code="lits_rea_occupes").version == 1
    assert definition.revisions.count() == 1


def test_a_new_meaning_is_a_new_definition_that_deprecates_the_old_one(seeded, curator):
    old = Definition.objects.get(code="lits_rea_occupes")
    new = Definition(
        code="lits_rea_occupes_8h",
        label="Lits de réanimation occupés à 8 h",
        value_type="integer",
        unit="lits",
        minimum=0,
        maximum=1000,
        status="published",
    )
    definition_save(definition=new, acting_user=curator)
    definition_deprecate(old=old, new=new, acting_user=curator)

    old.refresh_from_db()
    assert (old.status, old.replaced_by, old.version) == ("deprecated", new, 2)


def test_a_deprecated_definition_stays_deprecated(seeded, curator):
    old = Definition.objects.get(code="lits_rea_occupes")
    new = Definition.objects.get(code="lits_rea_disponibles")
    definition_deprecate(old=old, new=new, acting_user=curator)
    old.refresh_from_db()
    old.status = "published"
    with pytest.raises(DictionaryError, match="est obsolète : elle le reste"):
        definition_save(definition=old, acting_user=curator)


def test_a_deprecated_definition_without_replacement_is_refused(seeded, curator):
    definition = Definition.objects.get(code="lits_rea_occupes")
    definition.status = "deprecated"
    with pytest.raises(DictionaryError, match="remplacée par"):
        definition_save(definition=definition, acting_user=curator)


def test_a_choice_definition_needs_a_code_list(db, curator):
    definition = Definition(
        code="niveau_alerte", label="Niveau d'alerte", value_type="single_choice"
    )
    with pytest.raises(DictionaryError, match="liste de codes"):
        definition_save(definition=definition, acting_user=curator)
    assert not Definition.objects.filter(code="niveau_alerte").exists()


def test_a_code_that_is_not_an_identifier_is_refused(db, curator):
    definition = Definition(code="Lits réa", label="Lits", value_type="integer")
    with pytest.raises(DictionaryError, match="Code invalide"):
        definition_save(definition=definition, acting_user=curator)


# --- Code lists -------------------------------------------------------------------------------


def test_a_code_list_with_duplicate_codes_is_refused(db, curator):
    with pytest.raises(DictionaryError) as refused:
        code_list_save(
            code="sexe",
            label="Sexe",
            items=[("f", "Femme"), ("h", "Homme"), ("f", "Féminin")],
            acting_user=curator,
        )
    assert "codes en double : f" in refused.value.messages[0]
    assert not CodeList.objects.filter(code="sexe").exists()


def test_a_code_used_by_a_published_definition_cannot_be_removed(seeded, curator):
    with pytest.raises(DictionaryError, match="ne peuvent pas être retirés"):
        code_list_save(
            code="niveau_tension",
            label="Niveau de tension hospitalière",
            items=[("1", "Habituelle"), ("2", "Modérée"), ("3", "Forte")],
            acting_user=curator,
        )
    assert CodeListItem.objects.filter(code_list__code="niveau_tension").count() == 4


def test_labels_of_a_used_code_list_may_be_fixed(seeded, curator):
    code_list_save(
        code="niveau_tension",
        label="Niveau de tension hospitalière",
        items=[("1", "Habituelle"), ("2", "Modérée"), ("3", "Forte"), ("4", "Critique")],
        acting_user=curator,
    )
    assert CodeListItem.objects.get(code_list__code="niveau_tension", code="4").label == (
        "Critique"
    )


def test_the_database_refuses_a_duplicate_code_too(db):
    code_list = CodeList.objects.create(code="oui_non", label="Oui/non")
    CodeListItem.objects.create(code_list=code_list, code="o", label="Oui")
    item = CodeListItem(code_list=code_list, code="o", label="Oui encore")
    with pytest.raises(DictionaryError, match="figure déjà dans la liste"):
        dictionary.code_list_item_save(item=item, acting_user=None)


# --- Rules ------------------------------------------------------------------------------------


def test_a_rule_with_an_unknown_code_is_refused_with_a_suggestion(seeded, curator):
    rule = Rule(code="faute", expression="lits_rea_occupe <= lits_rea_installes", message="x")
    with pytest.raises(DictionaryError) as refused:
        rule_save(rule=rule, acting_user=curator)
    message = refused.value.messages[0]
    assert "code de définition inconnu : « lits_rea_occupe »" in message
    assert "Vouliez-vous dire « lits_rea_occupes »" in message
    assert not Rule.objects.filter(code="faute").exists()


def test_a_rule_with_a_type_error_is_refused(seeded, curator):
    rule = Rule(code="faute", expression="date_premier_cas <= lits_rea_installes", message="x")
    with pytest.raises(DictionaryError, match="comparaison impossible entre une date et un nombre"):
        rule_save(rule=rule, acting_user=curator)
    assert not Rule.objects.filter(code="faute").exists()


def test_a_rule_that_is_not_a_yes_no_question_is_refused(seeded, curator):
    rule = Rule(code="faute", expression="lits_rea_occupes + 1", message="x")
    with pytest.raises(DictionaryError, match="doit donner oui/non, pas un nombre"):
        rule_save(rule=rule, acting_user=curator)


def test_a_valid_rule_is_saved_and_audited(seeded, curator):
    rule = Rule(
        code="stock_ffp2_positif",
        expression="stock_masques_ffp2 >= 0",
        condition="renseigne(consommation_masques_ffp2)",
        message="Stock négatif.",
    )
    rule_save(rule=rule, acting_user=curator)
    assert AuditEvent.objects.filter(action="rule.create", target_id=str(rule.pk)).exists()


# --- Indicators -------------------------------------------------------------------------------


def test_an_indicator_cycle_is_refused_naming_the_cycle(seeded, curator):
    IndicatorFactory(code="indice_a", expression="lits_rea_occupes + indice_b")
    IndicatorFactory(code="indice_b", expression="2 * lits_rea_installes")
    changed = Indicator.objects.get(code="indice_b")
    changed.expression = "2 * indice_a"
    with pytest.raises(DictionaryError) as refused:
        indicator_save(indicator=changed, acting_user=curator)
    assert "forme un cycle : indice_b → indice_a → indice_b" in refused.value.messages[0]
    assert Indicator.objects.get(code="indice_b").expression == "2 * lits_rea_installes"


def test_an_indicator_naming_itself_is_a_cycle(seeded, curator):
    indicator = Indicator(code="boucle", label="Boucle", expression="boucle + 1")
    with pytest.raises(DictionaryError, match="boucle → boucle"):
        indicator_save(indicator=indicator, acting_user=curator)
    assert not Indicator.objects.filter(code="boucle").exists()


def test_an_indicator_with_an_unknown_code_or_a_non_number_is_refused(seeded, curator):
    with pytest.raises(DictionaryError, match="code de définition inconnu"):
        indicator_save(
            indicator=Indicator(code="x", label="x", expression="100 * lits / lits_rea_installes"),
            acting_user=curator,
        )
    with pytest.raises(DictionaryError, match="doit donner un nombre"):
        indicator_save(
            indicator=Indicator(code="x", label="x", expression="plan_blanc_declenche"),
            acting_user=curator,
        )
    assert not Indicator.objects.filter(code="x").exists()


def test_an_indicator_over_establishments_is_a_ratio_of_sums(seeded):
    taux = Indicator.objects.get(code="taux_occupation_rea")
    result = indicator_aggregate(
        indicator=taux,
        rows=[
            {"lits_rea_occupes": 1, "lits_rea_installes": 10},
            {"lits_rea_occupes": 9, "lits_rea_installes": 10},
            {"lits_rea_occupes": 5},  # incomplete: left out rather than biasing the ratio
        ],
    )
    assert result.value == Decimal(50)  # 10 / 20, not the mean of 10 % and 90 % weighted
    assert result.establishments == 2
    uneven = indicator_aggregate(
        indicator=taux,
        rows=[
            {"lits_rea_occupes": 1, "lits_rea_installes": 10},
            {"lits_rea_occupes": 9, "lits_rea_installes": 30},
        ],
    )
    assert uneven.value == Decimal(25)  # 10 / 40, where the mean of ratios would say 20 %


def test_an_indicator_built_on_indicators_is_computed_on_the_sums(seeded):
    taux = Indicator.objects.get(code="taux_occupation_soins_critiques")
    result = indicator_aggregate(
        indicator=taux,
        rows=[
            {
                "lits_rea_occupes": 10,
                "lits_rea_installes": 10,
                "lits_si_occupes": 0,
                "lits_si_installes": 10,
                "lits_sc_occupes": 5,
                "lits_sc_installes": 20,
            },
            {
                "lits_rea_occupes": 5,
                "lits_rea_installes": 10,
                "lits_si_occupes": 0,
                "lits_si_installes": 0,
                "lits_sc_occupes": 0,
                "lits_sc_installes": 0,
            },
        ],
    )
    assert result.value == Decimal(40)  # 20 occupied / 50 installed


def test_a_division_by_zero_gives_no_value_and_says_why(seeded):
    result = indicator_aggregate(
        indicator=Indicator.objects.get(code="taux_positivite"),
        rows=[{"tests_positifs": 0, "tests_realises": 0}],
    )
    assert result.value is None
    assert "division par zéro" in result.reason


def test_an_indicator_with_no_complete_row_says_so(seeded):
    result = indicator_aggregate(
        indicator=Indicator.objects.get(code="taux_positivite"), rows=[{"tests_positifs": 3}]
    )
    assert result.value is None
    assert "aucun établissement" in result.reason
