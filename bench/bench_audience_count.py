# ruff: noqa: S608 - the baseline queries are built from this file's own constants.
"""The audience page's live count on a national-size directory, against a raw ``count(*)``.

Run from the repository root: ``DJANGO_DEBUG=1 .venv/bin/python bench/bench_audience_count.py
[rows]`` (PostgreSQL at ``BENCH_DATABASE_URL``, default
``postgres://postgres@127.0.0.1:5432/recueil_bench``; SQLite works too with ``sqlite:///...``).

Migrates the database, replaces its directory with ``rows`` synthetic open and closed
establishments (100,000 by default, bulk_create, 2,000 legal entities, the real territory and
region codes, a FINESS-like category mix, pharmacies first, Ehpad a pessimistic 16 %), runs
ANALYZE, then for typical
audiences measures (best of 7 runs):

a. baseline: a hand-written ``SELECT count(*)`` of the same filter through a raw cursor;
b. ``surveys.audience.audience_count`` (building the queryset with the owner's scope, count);
c. ``audience_count`` + ``audience_sample`` (10 rows): what the htmx preview does.

The synthetic rows are deleted at the end.
"""

import os
import random
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.dont_write_bytecode = True
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

os.environ["DATABASE_URL"] = os.environ.get(
    "BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/recueil_bench"
)
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("DJANGO_SECRET_KEY", "bench-only-secret-key-not-used-anywhere-else")
os.environ.setdefault("DJANGO_ALLOWED_HOSTS", "localhost")
os.environ.pop("REDIS_URL", None)

ROWS = 100_000
RUNS = 7
# (code, label, aggregate code, weight): a FINESS-like mix.
CATEGORIES = [
    ("500", "Etablissement d'hébergement pour personnes âgées dépendantes", "4401", 75),
    ("355", "Centre Hospitalier (C.H.)", "1102", 10),
    ("365", "Etablissement de Soins Pluridisciplinaire", "1106", 10),
    ("620", "Pharmacie d'Officine", "3107", 210),
    ("124", "Centre de Santé", "2203", 25),
    ("228", "Centre Soins Infirmiers", "2203", 5),
    ("209", "Service de Soins Infirmiers A Domicile (S.S.I.A.D)", "4402", 20),
    ("696", "Laboratoire de Biologie Médicale", "3105", 40),
    ("446", "Service d'Aide et d'Accompagnement à Domicile (S.A.A.D)", "4403", 60),
    ("101", "Centre Hospitalier Régional (C.H.R.)", "1101", 1),
]
LEGAL_STATUSES = [("13", "Centre Hospitalier"), ("60", "Association Loi 1901"), ("73", "SARL")]


def with_check_digit(stem: str) -> str:
    from referentials.identifiers import finess_is_valid

    return next(stem + key for key in "0123456789" if finess_is_valid(stem + key))


def populate(rows: int) -> None:
    from django.db import connection

    from referentials.models import Establishment, LegalEntity, ReportingUnit
    from referentials.territories import departments

    ReportingUnit.objects.filter(establishment__isnull=False).delete()
    Establishment.objects.all().delete()
    LegalEntity.objects.all().delete()
    rng = random.Random(20261129)
    territories = [d for d in departments().values() if d.code not in {"984", "989"}]
    weights = [c[3] for c in CATEGORIES]
    legal_entities = LegalEntity.objects.bulk_create(
        [
            LegalEntity(
                finess=with_check_digit(f"{i:08d}"),
                name=f"Entité {i}",
                territory_code=rng.choice(territories).code,
                legal_status_code=(status := rng.choice(LEGAL_STATUSES))[0],
                legal_status_label=status[1],
            )
            for i in range(10_000_000, 10_002_000)
        ],
        batch_size=2000,
    )
    batch: list[Establishment] = []
    for i in range(rows):
        territory = rng.choice(territories)
        code, label, aggregate, _ = rng.choices(CATEGORIES, weights)[0]
        batch.append(
            Establishment(
                finess=with_check_digit(f"{20_000_000 + i:08d}"),
                legal_entity=rng.choice(legal_entities),
                name=f"Établissement {i:06d}",
                category_code=code,
                category_label=label,
                aggregate_category_code=aggregate,
                aggregate_category_label=f"Agrégat {aggregate}",
                finess_department=territory.code[:2],
                territory_code=territory.code,
                region_code=territory.region_code,
                city="COMMUNE",
                status="closed" if rng.random() < 0.03 else "open",
            )
        )
        if len(batch) == 5000:
            Establishment.objects.bulk_create(batch, batch_size=5000)
            batch = []
    Establishment.objects.bulk_create(batch, batch_size=5000)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE referentials_establishment")
            cursor.execute("ANALYZE referentials_legalentity")


def best_ms(fn: Callable[[], object]) -> tuple[float, object]:
    result = fn()
    times = []
    for _ in range(RUNS):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return min(times) * 1000, result


def main() -> None:
    rows = int(sys.argv[1]) if len(sys.argv) > 1 else ROWS
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from accounts.models import Organisation
    from referentials.models import Establishment, LegalEntity
    from surveys.audience import audience_count, audience_sample

    call_command("migrate", verbosity=0)
    start = time.perf_counter()
    populate(rows)
    print(
        f"{connection.vendor} : {Establishment.objects.count():,} établissements "
        f"créés en {time.perf_counter() - start:.1f} s".replace(",", " ")
    )
    national = Organisation(pk=1, kind="national", name="DGOS")
    idf = ["75", "77", "78", "91", "92", "93", "94", "95"]
    ars_idf = Organisation(pk=2, kind="ars", region_code="11", covered_territories=idf)
    explicit = list(Establishment.objects.order_by("?").values_list("finess", flat=True)[:1000])
    excluded = explicit[:100]

    def in_list(values: list[str]) -> str:
        return ", ".join(f"'{v}'" for v in values)

    table = "referentials_establishment"
    cases = [
        (
            "toutes les Ehpad de France (national)",
            national,
            {"categories": ["500"]},
            f"SELECT count(*) FROM {table} WHERE status = 'open' AND category_code IN ('500')",
        ),
        (
            "Ehpad d'Île-de-France (ARS IdF)",
            ars_idf,
            {"categories": ["500"]},
            f"SELECT count(*) FROM {table} WHERE status = 'open' AND category_code IN ('500') "
            f"AND territory_code IN ({in_list(idf)})",
        ),
        (
            "Ehpad + CH de 75/92/93 (ARS IdF)",
            ars_idf,
            {"categories": ["500", "355"], "departments": ["75", "92", "93"]},
            f"SELECT count(*) FROM {table} WHERE status = 'open' AND category_code IN "
            f"('500', '355') AND territory_code IN ('75', '92', '93') "
            f"AND territory_code IN ({in_list(idf)})",
        ),
        (
            "agrégat 4401 + région 84 + statut 60 (national)",
            national,
            {"aggregate_categories": ["4401"], "regions": ["84"], "legal_statuses": ["60"]},
            f"SELECT count(*) FROM {table} e JOIN referentials_legalentity j "
            "ON j.id = e.legal_entity_id WHERE e.status = 'open' AND "
            "e.aggregate_category_code IN ('4401') AND e.region_code IN ('84') "
            "AND j.legal_status_code IN ('60')",
        ),
        (
            "liste de 1 000 FINESS - 100 exclus (national)",
            national,
            {"finess": explicit, "exclude_finess": excluded},
            f"SELECT count(*) FROM {table} WHERE status = 'open' AND finess IN "
            f"({in_list(explicit)}) AND finess NOT IN ({in_list(excluded)})",
        ),
        (
            "toute la France hors pharmacies (national)",
            national,
            {
                "regions": sorted(
                    {
                        e
                        for e in Establishment.objects.values_list(
                            "region_code", flat=True
                        ).distinct()
                    }
                ),
                "exclude_categories": ["620"],
            },
            f"SELECT count(*) FROM {table} WHERE status = 'open' AND region_code IS NOT NULL "
            "AND category_code <> '620'",
        ),
    ]
    print(
        f"{'audience':<48} {'effectif':>8} {'count(*) brut':>14} {'audience_count':>15} "
        f"{'+ échantillon':>14}"
    )
    for label, owner, filters, sql in cases:

        def raw(sql: str = sql) -> int:
            with connection.cursor() as cursor:
                cursor.execute(sql)
                return int(cursor.fetchone()[0])

        raw_ms, raw_count = best_ms(raw)
        count_ms, count = best_ms(
            lambda owner=owner, filters=filters: audience_count(
                filters=filters, unit_kind="establishment", owner=owner
            )
        )
        preview_ms, _ = best_ms(
            lambda owner=owner, filters=filters: (
                audience_count(filters=filters, unit_kind="establishment", owner=owner),
                audience_sample(filters=filters, unit_kind="establishment", owner=owner),
            )
        )
        assert count == raw_count, (label, count, raw_count)
        print(
            f"{label:<48} {count:>8} {raw_ms:>11.1f} ms {count_ms:>12.1f} ms {preview_ms:>11.1f} ms"
        )
    Establishment.objects.all().delete()
    LegalEntity.objects.all().delete()


if __name__ == "__main__":
    main()
