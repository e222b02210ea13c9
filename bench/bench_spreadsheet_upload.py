"""Reading and checking a national-size spreadsheet upload, against raw parsers.

Run: ``DJANGO_DEBUG=1 .venv/bin/python bench/bench_spreadsheet_upload.py [ROWS]`` (default
10,000 rows x 30 questions). Everything runs in an in-memory SQLite database created for the
run: a campaign with 30 questions (integers, decimals, yes/no, a list), 10 sites of one legal
entity, ROWS/10 daily periods each, so that ROWS assignments are owed; a legal-entity
respondent answers them all in one .xlsx file (definition codes as headers).

Measured in the same run, best of 3:
a. raw calamine: ``CalamineWorkbook.from_filelike(...).get_sheet_by_name(...).to_python()``;
b. openpyxl read-only: ``iter_rows(values_only=True)`` over the sheet;
c. ours: ``collection.spreadsheets.importer.analyse`` = the safety checks, calamine, the
   formula/merge scan, row-to-assignment mapping, the batch check of every row by the engine
   (stored values preloaded), the preview's counts and issues. No value is written.
   Two of its parts are timed alone: our reader (safety checks + calamine + formula scan) and
   the engine alone (``validate`` on each row's answers, no database): the floor of (c).
"""

import io
import os
import random
import sys
import time
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.dont_write_bytecode = True
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ["DATABASE_URL"] = "sqlite://:memory:"
os.environ.setdefault("DJANGO_DEBUG", "1")

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.utils import timezone  # noqa: E402
from openpyxl import Workbook, load_workbook  # noqa: E402
from python_calamine import CalamineWorkbook  # noqa: E402

from accounts.models import Membership, Organisation, Role, User  # noqa: E402
from collection.spreadsheets import importer  # noqa: E402
from surveys.models import Assignment, CampaignPeriod  # noqa: E402

QUESTIONS = 30
SITES = 10


def build_campaign(rows: int):
    from tests.referentials.factories import EstablishmentFactory, LegalEntityFactory
    from tests.referentials.factories_dictionary import (
        CodeListFactory,
        CodeListItemFactory,
        DefinitionFactory,
    )
    from tests.surveys.factories import (
        CampaignFactory,
        QuestionFactory,
        ReportingUnitFactory,
        SectionFactory,
    )

    section = SectionFactory()
    levels = CodeListFactory(code="niveau")
    for code in "123":
        CodeListItemFactory(code_list=levels, code=code, label=f"Niveau {code}")
    for i in range(QUESTIONS):
        kind = ["integer", "decimal", "boolean", "single_choice"][i % 4]
        definition = DefinitionFactory(
            code=f"q{i}",
            value_type=kind,
            minimum=Decimal(0) if kind in ("integer", "decimal") else None,
            maximum=Decimal(100_000) if kind == "integer" else None,
            code_list=levels if kind == "single_choice" else None,
        )
        QuestionFactory(section=section, definition=definition)
    campaign = CampaignFactory(version=section.version, start_date=date(2024, 1, 1))
    entity = LegalEntityFactory(finess="970302022", territory_code="973")
    units = [
        ReportingUnitFactory(establishment=EstablishmentFactory(legal_entity=entity))
        for _ in range(SITES)
    ]
    far = timezone.now() + timedelta(days=365)
    periods = CampaignPeriod.objects.bulk_create(
        CampaignPeriod(
            campaign=campaign,
            kind="day",
            key=(date(2024, 1, 1) + timedelta(days=d)).isoformat(),
            start=date(2024, 1, 1) + timedelta(days=d),
            end=date(2024, 1, 1) + timedelta(days=d),
            due_at=far,
            locks_at=far,
            version=campaign.version,
        )
        for d in range(rows // SITES)
    )
    Assignment.objects.bulk_create(
        Assignment(campaign=campaign, period=p, unit=u, version=campaign.version, due_at=far)
        for p in periods
        for u in units
    )
    organisation = Organisation.objects.create(
        kind=Organisation.Kind.LEGAL_ENTITY, name="CH", finess=entity.finess, territory_code="973"
    )
    user = User.objects.create(email="dim@ch.fr")
    Membership.objects.create(user=user, organisation=organisation, role=Role.RESPONDENT)
    return campaign, units, periods, user


def build_file(units, periods) -> bytes:
    rng = random.Random(42)
    book = Workbook(write_only=True)
    sheet = book.create_sheet("Réponses")
    sheet.append(["finess", "periode", *[f"q{i}" for i in range(QUESTIONS)]])
    for period in periods:
        for unit in units:
            row: list[object] = [unit.finess, period.key]
            for i in range(QUESTIONS):
                match i % 4:
                    case 0:
                        row.append(rng.randint(0, 20_000))
                    case 1:
                        row.append(round(rng.uniform(0, 1000), 2))
                    case 2:
                        row.append(rng.choice(["oui", "non"]))
                    case 3:
                        row.append(rng.choice(["1", "2", "3"]))
            sheet.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def best_of(runs: int, fn) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    rows = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000
    call_command("migrate", verbosity=0)
    campaign, units, periods, user = build_campaign(rows)
    data = build_file(units, periods)

    def calamine() -> None:
        book = CalamineWorkbook.from_filelike(io.BytesIO(data))
        book.get_sheet_by_name("Réponses").to_python()

    def openpyxl_read_only() -> None:
        book = load_workbook(io.BytesIO(data), read_only=True)
        for _ in book["Réponses"].iter_rows(values_only=True):
            pass
        book.close()

    result = {}

    def ours() -> None:
        result["analysis"] = importer.analyse(
            user=user, campaign=campaign, name="reponses.xlsx", data=data
        )

    from collection.spreadsheets import reader
    from referentials.validation import validate
    from surveys.schema import version_schema

    schema = version_schema(campaign.version)
    specs = [q.spec for q in schema.questions]
    parsed = reader.read("reponses.xlsx", data).first().rows
    header = parsed[0]
    answers = [dict(zip(header[2:], row[2:], strict=False)) for row in parsed[1:]]

    def our_reader() -> None:
        reader.read("reponses.xlsx", data)

    def engine() -> None:
        for row in answers:
            validate(answers=row, definitions=specs, rules=schema.rules)

    raw = best_of(3, calamine)
    reading = best_of(3, our_reader)
    checking = best_of(3, engine)
    slow = best_of(3, openpyxl_read_only)
    full = best_of(3, ours)
    analysis = result["analysis"]
    assert not analysis.blocking, analysis.issues[:3] + analysis.file_errors
    assert analysis.counts()["new"] == rows
    cells = rows * QUESTIONS
    print(
        f"{rows} lignes x {QUESTIONS} questions, {len(data) / 1_048_576:.1f} Mo".replace(",", " ")
    )
    print(f"a. calamine brut             : {raw:.3f} s")
    print(f"b. openpyxl lecture seule    : {slow:.3f} s  ({slow / raw:.1f}x calamine)")
    print(f"   dont notre lecture (contrôles de sûreté + calamine + formules) : {reading:.3f} s")
    print(f"   dont le moteur seul (validate par ligne, sans base)           : {checking:.3f} s")
    print(
        f"c. lecture + contrôle + aperçu : {full:.3f} s  ({full / raw:.1f}x calamine, "
        f"{slow / full:.1f}x plus rapide qu'openpyxl, {cells / full:,.0f} valeurs/s)".replace(
            ",", " "
        )
    )


if __name__ == "__main__":
    main()
