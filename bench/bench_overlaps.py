"""The overlap analysis of a national draft against 200 open campaigns, against a naive
campaign-by-campaign Python loop.

Run from the repository root, on PostgreSQL::

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/recueil_bench \\
        DJANGO_DEBUG=1 .venv/bin/python bench/bench_overlaps.py [ESTABLISHMENTS]

Migrates the database if needed and writes its own rows (seeded random, the same every run):

- ESTABLISHMENTS Ehpads (10,000) over 13 regions, each with its reporting unit;
- 30 definitions: stocks, flows (integers) and levels (decimals);
- 200 open campaigns of a national directorate and 13 regional agencies, each asking 8 of the
  first 25 definitions: 5 national (every Ehpad), 195 regional (the Ehpads of one region); most
  daily, over the draft's month or part of it (some end mid-month), some weekly; their
  audience members written with COPY;
- values already in the store: 5 definitions (2 that campaigns ask, 3 that none asks), one
  Ehpad in 4, the first 10 days (COPY);
- the draft: daily over 30 days, 30 definitions, every Ehpad (audience filters, no members).

Then measures, in one run:

a. ``collection.overlaps.analyse`` on the draft (best of 3; the first run is printed too);
b. the baseline: a naive loop, campaign by campaign, loading each audience and intersecting
   sets of unit ids in Python per (definition, period), then the store per definition.

Both must give the same counts. Every row it wrote is deleted at the end.
"""

import datetime as dt
import io
import os
import random
import sys
import time
from collections import defaultdict
from pathlib import Path

sys.dont_write_bytecode = True
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("DJANGO_SECRET_KEY", "bench-only-secret-key-not-used-anywhere-else")
os.environ.pop("REDIS_URL", None)

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.utils import timezone  # noqa: E402

from accounts.models import Organisation  # noqa: E402
from collection.models import Value  # noqa: E402
from collection.overlaps import analyse  # noqa: E402
from referentials.identifiers import finess_is_valid  # noqa: E402
from referentials.models import Definition, Establishment, LegalEntity, ReportingUnit  # noqa: E402
from surveys.audience import audience_queryset  # noqa: E402
from surveys.campaigns import planned_periods  # noqa: E402
from surveys.coverage import NUMERIC_TYPES, source_periods  # noqa: E402
from surveys.models import (  # noqa: E402
    AudienceMember,
    Campaign,
    Question,
    Section,
    Survey,
    SurveyVersion,
)
from surveys.periods import PeriodKind  # noqa: E402

ARGS = [a for a in sys.argv[1:] if not a.startswith("--")]
COUNT = int(ARGS[0]) if ARGS else 10_000
# --keep: leave the rows for the next run (which reuses them): for profiling only.
KEEP = "--keep" in sys.argv
DEFINITIONS = 30
CAMPAIGNS = 200
NATIONAL = 5
PER_CAMPAIGN = 8
DAYS = 30
REGIONS = ["11", "24", "27", "28", "32", "44", "52", "53", "75", "76", "84", "93", "94"]
START = dt.date(2027, 3, 1)
PREFIX = "bench_ov_"


def valid_finess(stem: str) -> str:
    for key in "0123456789":
        if finess_is_valid(stem + key):
            return stem + key
    raise AssertionError(stem)


def copy_rows(table: str, columns: tuple[str, ...], rows) -> None:
    """COPY the rows into ``table`` (PostgreSQL)."""
    buffer = io.StringIO()
    for row in rows:
        buffer.write("\t".join("\\N" if v is None else str(v) for v in row) + "\n")
    buffer.seek(0)
    connection.ensure_connection()
    with (
        connection.connection.cursor() as cursor,
        cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy,
    ):
        while chunk := buffer.read(1 << 20):
            copy.write(chunk)


def survey(owner: Organisation, title: str, definitions: list[Definition]) -> SurveyVersion:
    record = Survey.objects.create(owner=owner)
    version = SurveyVersion.objects.create(
        survey=record,
        title=title,
        purpose="Mesure",
        legal_basis="public_interest",
        status=SurveyVersion.Status.FROZEN,
    )
    section = Section.objects.create(version=version, title="Capacités")
    Question.objects.bulk_create(
        Question(version=version, section=section, order=n, code=d.code, definition=d)
        for n, d in enumerate(definitions)
    )
    return version


def campaign(owner, version, *, title, frequency, kind, start, end, status, filters=None):
    return Campaign.objects.create(
        survey=version.survey,
        version=version,
        owner=owner,
        title=title,
        status=status,
        frequency=frequency,
        period_kind=kind,
        start_date=start,
        end_date=end,
        due_time=dt.time(14, 0),
        audience_filters=filters or {},
    )


def setup() -> Campaign:
    rng = random.Random(7)
    national = Organisation.objects.create(
        kind="national", name="Bench DGOS", short_name=f"{PREFIX}DGOS"
    )
    agencies = {
        code: Organisation.objects.create(
            kind="ars",
            name=f"Bench ARS {code}",
            short_name=f"{PREFIX}ARS{code}",
            region_code=code,
        )
        for code in REGIONS
    }
    legal_entity = LegalEntity.objects.create(
        finess=valid_finess("99980000"), name="Bench EJ", territory_code="75"
    )
    Establishment.objects.bulk_create(
        (
            Establishment(
                finess=valid_finess(f"98{n:06d}"),
                legal_entity=legal_entity,
                name=f"Ehpad bench {n}",
                category_code="500",
                category_label="Ehpad",
                finess_department="75",
                territory_code="75",
                region_code=REGIONS[n % len(REGIONS)],
                postcode="75013",
                city="PARIS",
            )
            for n in range(COUNT)
        ),
        batch_size=2000,
    )
    establishments = list(
        Establishment.objects.filter(legal_entity=legal_entity).values_list("pk", "region_code")
    )
    ReportingUnit.objects.bulk_create(
        (
            ReportingUnit(
                kind="establishment", establishment_id=pk, label="Ehpad", territory_code="75"
            )
            for pk, _ in establishments
        ),
        batch_size=5000,
    )
    unit_of = dict(
        ReportingUnit.objects.filter(establishment__legal_entity=legal_entity).values_list(
            "establishment_id", "pk"
        )
    )
    kinds = [("stock", "integer"), ("flow", "integer"), ("level", "decimal")]
    definitions = [
        Definition.objects.create(
            code=f"{PREFIX}{n}",
            label=f"Définition bench {n}",
            value_type=kinds[n % 3][1],
            time_aggregation=kinds[n % 3][0],
            status="published",
        )
        for n in range(DEFINITIONS)
    ]
    members: list[tuple[int, int]] = []
    for n in range(CAMPAIGNS):
        region = None if n < NATIONAL else REGIONS[n % len(REGIONS)]
        owner = national if region is None else agencies[region]
        version = survey(owner, f"Bench {n}", rng.sample(definitions[:25], PER_CAMPAIGN))
        weekly = n % 10 == 9
        end = START + dt.timedelta(days=rng.choice([DAYS - 1, DAYS - 1, 20, 45]))
        other = campaign(
            owner,
            version,
            title=f"Bench campagne {n}",
            frequency="weekly" if weekly else "daily",
            kind="week" if weekly else "day",
            start=START - dt.timedelta(days=rng.choice([0, 0, 7])),
            end=end,
            status=Campaign.Status.OPEN,
        )
        members.extend(
            (other.pk, unit_of[pk]) for pk, code in establishments if region in (None, code)
        )
    copy_rows(AudienceMember._meta.db_table, ("campaign_id", "unit_id"), members)
    now = timezone.now().isoformat()
    values = []
    for definition in [*definitions[:2], *definitions[25:28]]:
        for index, (pk, _) in enumerate(establishments):
            if index % 4:
                continue
            for day in range(10):
                date = START + dt.timedelta(days=day)
                values.append(
                    (
                        unit_of[pk],
                        definition.pk,
                        definition.code,
                        "day",
                        date.isoformat(),
                        date.isoformat(),
                        date.isoformat(),
                        '"3"',
                        "3",
                        "",
                        "submitted",
                        "api",
                        now,
                        1,
                    )
                )
    copy_rows(
        Value._meta.db_table,
        (
            "unit_id",
            "definition_id",
            "code",
            "period_kind",
            "period_key",
            "period_start",
            "period_end",
            "data",
            "number",
            "comment",
            "status",
            "channel",
            "changed_at",
            "revision_count",
        ),
        values,
    )
    print(f"  {len(members)} destinataires, {len(values)} valeurs en base")
    draft_version = survey(national, "Bench brouillon", definitions)
    return campaign(
        national,
        draft_version,
        title="Bench brouillon",
        frequency="daily",
        kind="day",
        start=START,
        end=START + dt.timedelta(days=DAYS - 1),
        status=Campaign.Status.DRAFT,
        filters={"categories": ["500"]},
    )


def naive(draft: Campaign) -> tuple[int, int, int]:
    """Campaign by campaign, sets of unit ids in Python: (asked, covered, in store)."""
    definitions = list(
        Definition.objects.filter(questions__version=draft.version).distinct().order_by("code")
    )
    periods = planned_periods(draft)
    establishment_ids = list(
        audience_queryset(
            filters=draft.audience_filters, unit_kind=draft.unit_kind, owner=draft.owner
        ).values_list("pk", flat=True)
    )
    units = set(
        ReportingUnit.objects.filter(establishment_id__in=establishment_ids).values_list(
            "pk", flat=True
        )
    )
    covered: dict[tuple[int, str], set[int]] = defaultdict(set)
    others = Campaign.objects.filter(status__in=["scheduled", "open"]).exclude(pk=draft.pk)
    for other in others:
        bound = set(
            Question.objects.filter(version=other.version, definition__isnull=False).values_list(
                "definition_id", flat=True
            )
        )
        common_definitions = [d for d in definitions if d.pk in bound]
        if not common_definitions:
            continue
        plan = planned_periods(other)
        keys = {p.key for p in plan}
        kinds = {p.kind for p in plan}
        common = units & set(other.members.values_list("unit_id", flat=True))
        if not common:
            continue
        for definition in common_definitions:
            numeric = definition.value_type in NUMERIC_TYPES
            for period in periods:
                for kind in kinds:
                    needed = source_periods(
                        period, kind, aggregation=definition.time_aggregation, numeric=numeric
                    )
                    if needed is not None and all(p.key in keys for p in needed):
                        covered[(definition.pk, period.key)] |= common
                        break
    in_store = 0
    for definition in definitions:
        stored: dict[int, set[str]] = defaultdict(set)
        for unit_id, key in Value.objects.filter(
            definition=definition, unit_id__in=units, data__isnull=False
        ).values_list("unit_id", "period_key"):
            stored[unit_id].add(key)
        numeric = definition.value_type in NUMERIC_TYPES
        for period in periods:
            options = [
                [p.key for p in needed]
                for kind in PeriodKind
                if (
                    needed := source_periods(
                        period, kind, aggregation=definition.time_aggregation, numeric=numeric
                    )
                )
                is not None
            ]
            done = covered[(definition.pk, period.key)]
            for unit_id, keys in stored.items():
                if unit_id not in done and any(all(k in keys for k in o) for o in options):
                    in_store += 1
    asked = len(establishment_ids) * len(definitions) * len(periods)
    return asked, sum(len(s) for s in covered.values()), in_store


def cleanup() -> None:
    with transaction.atomic():
        owners = Organisation.objects.filter(short_name__startswith=PREFIX)
        ids = list(Campaign.objects.filter(owner__in=owners).values_list("pk", flat=True))
        AudienceMember.objects.filter(campaign_id__in=ids).delete()
        Campaign.objects.filter(pk__in=ids).delete()
        SurveyVersion.objects.filter(survey__owner__in=owners).delete()
        Survey.objects.filter(owner__in=owners).delete()
        definitions = Definition.objects.filter(code__startswith=PREFIX)
        Value.objects.filter(definition__in=definitions).delete()
        definitions.delete()
        legal_entities = LegalEntity.objects.filter(name="Bench EJ", finess__startswith="9998")
        ReportingUnit.objects.filter(establishment__legal_entity__in=legal_entities).delete()
        Establishment.objects.filter(legal_entity__in=legal_entities).delete()
        legal_entities.delete()
        owners.delete()


def main() -> None:
    if connection.vendor != "postgresql":
        sys.exit("Ce banc se lance sur PostgreSQL (DATABASE_URL=postgres://...).")
    call_command("migrate", verbosity=0)
    kept = Campaign.objects.filter(
        owner__short_name=f"{PREFIX}DGOS", status=Campaign.Status.DRAFT
    ).first()
    if kept is None or not KEEP:
        cleanup()  # what an interrupted or kept run left
    print(f"Base : {connection.settings_dict['NAME']}, {COUNT} établissements")
    try:
        started = time.perf_counter()
        draft = kept if kept is not None and KEEP else setup()
        print(f"  jeu de données écrit en {time.perf_counter() - started:.1f} s")
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
        times = []
        for _ in range(3):
            started = time.perf_counter()
            analysis = analyse(campaign=draft)
            times.append(time.perf_counter() - started)
        started = time.perf_counter()
        expected = naive(draft)
        t_naive = time.perf_counter() - started
        got = (analysis.asked, analysis.covered, analysis.in_store)
        assert got == expected, (got, expected)
        print(
            f"  cellules demandées {analysis.asked}, couvertes {analysis.covered}, "
            f"en base {analysis.in_store}, nouvelles {analysis.new}; "
            f"{len(analysis.overlaps)} campagnes en chevauchement"
        )
        print(f"a. analyse (ensembliste, SQL) : {min(times):6.2f} s (1re : {times[0]:.2f} s)")
        print(f"b. boucle naïve par campagne  : {t_naive:6.2f} s")
        print(f"   gain b/a : x{t_naive / min(times):.1f}")
    finally:
        if not KEEP:
            cleanup()


if __name__ == "__main__":
    main()
