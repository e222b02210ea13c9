"""How many answers per second the validation engine checks.

Run: ``.venv/bin/python bench/bench_validation.py [ROWS]`` (default 10,000 rows of 40 answers,
like a national spreadsheet upload). The baseline, measured in the same run, is the least any
reader must do: ``Decimal()`` on each cleaned cell. No database, nothing written.
"""

import random
import sys
import time
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.dont_write_bytecode = True

from referentials.expressions import compile_expression  # noqa: E402
from referentials.validation import (  # noqa: E402
    EXPRESSION_TYPES,
    Context,
    DefinitionSpec,
    RuleSpec,
    Severity,
    ValueType,
    validate,
)

COLUMNS = 40


def build() -> tuple[list[DefinitionSpec], list[RuleSpec]]:
    definitions = []
    for i in range(COLUMNS):
        kind = [ValueType.INTEGER, ValueType.DECIMAL, ValueType.BOOLEAN, ValueType.DATE][i % 4]
        definitions.append(
            DefinitionSpec(
                f"d{i}",
                f"Définition {i}",
                kind,
                minimum=Decimal(0) if kind in (ValueType.INTEGER, ValueType.DECIMAL) else None,
                maximum=Decimal(100000) if kind is ValueType.INTEGER else None,
                decimals=2 if kind is ValueType.DECIMAL else None,
                max_jump_ratio=Decimal(3) if kind is ValueType.INTEGER else None,
            )
        )
    types = {d.code: EXPRESSION_TYPES[d.type] for d in definitions}
    rules = [
        RuleSpec(
            f"r{i}",
            compile_expression(f"d{i} <= d{i + 4} + 1000", types=types),
            "règle",
            Severity.ERROR,
        )
        for i in range(0, COLUMNS - 4, 4)
    ]
    rules.append(
        RuleSpec(
            "cond",
            compile_expression("renseigne(d3)", types=types),
            "date requise",
            Severity.ERROR,
            compile_expression("d0 > 0", types=types),
        )
    )
    return definitions, rules


def rows(count: int) -> list[dict[str, str]]:
    rng = random.Random(42)
    data = []
    for _ in range(count):
        row = {}
        for i in range(COLUMNS):
            match i % 4:
                case 0:
                    row[f"d{i}"] = f"{rng.randint(0, 20000):,}".replace(",", " ")
                case 1:
                    row[f"d{i}"] = f"{rng.randint(0, 99999)},{rng.randint(0, 99):02d}"
                case 2:
                    row[f"d{i}"] = rng.choice(["oui", "non", "Oui", "NON"])
                case 3:
                    row[f"d{i}"] = f"{rng.randint(1, 28):02d}/{rng.randint(1, 12):02d}/2020"
        data.append(row)
    return data


def best_of(runs: int, fn) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000
    definitions, rules = build()
    data = rows(count)
    context = Context(previous={f"d{i}": 5000 for i in range(0, COLUMNS, 4)})
    values = count * COLUMNS

    def baseline() -> None:
        for row in data:
            for cell in row.values():
                try:  # noqa: SIM105 - a plain try, as cheap as the engine's
                    Decimal(cell.replace(" ", "").replace(",", "."))
                except ArithmeticError:
                    pass

    def engine() -> None:
        for row in data:
            validate(answers=row, definitions=definitions, rules=rules, context=context)

    base = best_of(3, baseline)
    full = best_of(3, engine)
    print(
        f"{count} lignes x {COLUMNS} réponses = {values:,} valeurs, {len(rules)} règles".replace(
            ",", " "
        )
    )
    print(
        f"référence Decimal() seul : {base:.3f} s  ({values / base:,.0f} valeurs/s)".replace(
            ",", " "
        )
    )
    print(
        f"moteur de validation     : {full:.3f} s  ({values / full:,.0f} valeurs/s)".replace(
            ",", " "
        )
    )
    print(f"rapport moteur / référence : {full / base:.1f}x")


if __name__ == "__main__":
    main()
