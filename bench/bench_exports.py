"""Exporting a campaign's values as CSV, against a raw ``COPY (SELECT ...) TO STDOUT``.

Run from the repository root, on PostgreSQL::

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/recueil_bench \\
        DJANGO_DEBUG=1 .venv/bin/python bench/bench_exports.py [ESTABLISHMENTS]

Migrates the database if needed and writes its world once (kept for the next run, found by
its campaign title): ESTABLISHMENTS sites (10,000), a daily campaign of ten definitions over
ten days, its assignments and one value per site, definition and day (1,000,000 values),
inserted with ``INSERT ... SELECT`` from ``generate_series``. Then measures in one run:

a. the long CSV export as a national requester (``collection.exports``: the campaign's
   values through the store's semi-join on assignments, a server-side cursor, every cell
   neutralised, French CSV), consumed as a client would; rows/s;
b. the ceiling: ``COPY (SELECT ...) TO STDOUT (FORMAT csv)`` of the same query (the SQL Django
   sends, joins and ordering included), read through psycopg;
c. the export again under ``tracemalloc``: the peak of Python memory, to show it is bounded
   (it does not grow with the number of rows), and the process's peak RSS.
"""

import datetime as dt
import os
import resource
import sys
import time
import tracemalloc
from itertools import islice
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
from psycopg import ClientCursor  # noqa: E402

from accounts.models import Membership, Organisation, Role, User  # noqa: E402
from collection.exports.access import export_access  # noqa: E402
from collection.exports.rows import LONG_HEADER, campaign_values, codebook, long_table  # noqa: E402
from collection.exports.writers import csv_lines  # noqa: E402
from referentials.models import Definition, Establishment, LegalEntity  # noqa: E402
from surveys.models import Campaign, CampaignPeriod, Question, Section, Survey, SurveyVersion  # noqa: E402
from surveys.periods import period_of  # noqa: E402

COUNT = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000
DEFINITIONS = 10
DAYS = 10
TITLE = f"Banc d'essai des exports ({COUNT} établissements)"
START = dt.date(2026, 1, 5)


def build_world() -> Campaign:
    existing = Campaign.objects.filter(title=TITLE).first()
    if existing is not None:
        return existing
    started = time.perf_counter()
    with transaction.atomic():
        dgos, _ = Organisation.objects.get_or_create(
            kind=Organisation.Kind.NATIONAL, short_name="DGOS", defaults={"name": "DGOS"}
        )
        user, _ = User.objects.get_or_create(email="banc.exports@sante.gouv.fr")
        Membership.objects.get_or_create(user=user, organisation=dgos, role=Role.REQUESTER)
        entity = LegalEntity.objects.create(finess="750999999", name="Banc", territory_code="75")
        regions = [("75", "11"), ("69", "84"), ("13", "93"), ("59", "32"), ("971", "01")]
        Establishment.objects.bulk_create(
            Establishment(
                finess=f"9{i:08d}",
                legal_entity=entity,
                name=f"Établissement {i}",
                category_code="355",
                category_label="Centre Hospitalier (C.H.)",
                finess_department=regions[i % 5][0][:2],
                territory_code=regions[i % 5][0],
                region_code=regions[i % 5][1],
            )
            for i in range(COUNT)
        )
        with connection.cursor() as cursor:
            cursor.execute(
                "INSERT INTO referentials_reportingunit (kind, establishment_id, label, "
                "territory_code, legal_entity_finess, finess, national_id) "
                "SELECT 'establishment', e.id, e.name, e.territory_code, %s, e.finess, '' "
                "FROM referentials_establishment e WHERE e.legal_entity_id = %s",
                [entity.finess, entity.pk],
            )
        survey = Survey.objects.create(owner=dgos)
        version = SurveyVersion.objects.create(
            survey=survey, title=TITLE, purpose="Banc", status=SurveyVersion.Status.FROZEN
        )
        section = Section.objects.create(version=version, title="Capacités", order=0)
        for n in range(DEFINITIONS):
            definition, _ = Definition.objects.get_or_create(
                code=f"banc_export_{n}",
                defaults={"label": f"Indicateur {n}", "value_type": "integer", "unit": "lits"},
            )
            Question.objects.create(
                section=section,
                version=version,
                order=n,
                code=definition.code,
                definition=definition,
            )
        campaign = Campaign.objects.create(
            survey=survey,
            version=version,
            owner=dgos,
            title=TITLE,
            status="open",
            frequency="daily",
            period_kind="day",
            start_date=START,
            due_time=dt.time(14),
        )
        for day in range(DAYS):
            period = period_of("day", START + dt.timedelta(days=day))
            due = timezone.make_aware(dt.datetime.combine(period.end, dt.time(14)))
            CampaignPeriod.objects.create(
                campaign=campaign,
                kind="day",
                key=period.key,
                start=period.start,
                end=period.end,
                due_at=due,
                locks_at=due,
                version=version,
            )
        with connection.cursor() as cursor:
            cursor.execute(
                "INSERT INTO surveys_assignment (campaign_id, period_id, unit_id, version_id, "
                "status, due_at, revision, updated_at, exemption_reason) "
                "SELECT %s, p.id, u.id, %s, 'submitted', p.due_at, 1, now(), '' "
                "FROM surveys_campaignperiod p, referentials_reportingunit u "
                "WHERE p.campaign_id = %s AND u.legal_entity_finess = %s",
                [campaign.pk, version.pk, campaign.pk, entity.finess],
            )
            cursor.execute(
                "INSERT INTO collection_value (unit_id, definition_id, code, period_kind, "
                "period_key, period_start, period_end, data, number, comment, status, "
                "campaign_id, channel, changed_at, revision_count) "
                "SELECT u.id, d.id, d.code, 'day', p.key, p.start, p.end, "
                "to_jsonb(((u.id + d.id) %% 500)::text), (u.id + d.id) %% 500, '', "
                "'submitted', %s, 'form', now(), 1 "
                "FROM referentials_reportingunit u, surveys_campaignperiod p, "
                "referentials_definition d "
                "WHERE u.legal_entity_finess = %s AND p.campaign_id = %s "
                "AND d.code LIKE 'banc_export_%%'",
                [campaign.pk, entity.finess, campaign.pk],
            )
            cursor.execute("ANALYZE")
    print(f"world written in {time.perf_counter() - started:.1f} s")
    return campaign


class Sink:
    def __init__(self) -> None:
        self.bytes = 0

    def write(self, data: bytes | memoryview) -> None:
        self.bytes += len(data)


def export_once(
    campaign: Campaign, user: User, limit: int | None = None
) -> tuple[int, int, float, float]:
    """Rows, bytes, wall seconds and this process's CPU seconds (the machine may be shared)."""
    access = export_access(user=user, campaign=campaign)
    assert access is not None
    table = long_table(access)
    rows = 0
    sink = Sink()
    started, cpu = time.perf_counter(), time.process_time()
    for chunk in csv_lines(table.header, islice(table.rows(), limit)):
        sink.write(chunk)
        rows += chunk.count(b"\r\n")
    elapsed = time.perf_counter() - started
    return rows - 1, sink.bytes, elapsed, time.process_time() - cpu


def copy_once(campaign: Campaign, user: User) -> tuple[int, int, float]:
    """The same rows, the same query (Django's SQL), through COPY: what the database gives."""
    access = export_access(user=user, campaign=campaign)
    assert access is not None
    entries = codebook(campaign)
    queryset = (
        campaign_values(access, entries=entries)
        .order_by("unit_id", "period_start", "code")
        .values_list(
            "unit__finess",
            "unit__national_id",
            "unit__label",
            "unit__territory_code",
            "unit__establishment__region_code",
            "unit__establishment__category_code",
            "unit__establishment__category_label",
            "definition_id",
            "code",
            "period_key",
            "data",
            "number",
            "status",
            "campaign__title",
            "channel",
            "changed_at",
        )
    )
    sql, params = queryset.query.sql_with_params()
    connection.ensure_connection()
    raw = connection.connection
    with ClientCursor(raw) as client:
        literal = client.mogrify(sql, params)
    sink = Sink()
    started = time.perf_counter()
    with raw.cursor() as cursor:
        with cursor.copy(f"COPY ({literal}) TO STDOUT (FORMAT csv, DELIMITER ';')") as copy:
            for data in copy:
                sink.write(data)
        rows = cursor.rowcount
    elapsed = time.perf_counter() - started
    return rows, sink.bytes, elapsed


def main() -> None:
    if connection.vendor != "postgresql":
        sys.exit("Ce banc d'essai demande PostgreSQL (DATABASE_URL).")
    call_command("migrate", verbosity=0)
    campaign = build_world()
    user = User.objects.get(email="banc.exports@sante.gouv.fr")
    values = campaign_values(
        export_access(user=user, campaign=campaign),
        entries=codebook(campaign),  # type: ignore[arg-type]
    ).count()
    print(
        f"{COUNT} establishments, {values} values owed by the campaign, {len(LONG_HEADER)} columns"
    )

    print(f"load average before: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    rows, size, elapsed, cpu = export_once(campaign, user)
    print(
        f"a. CSV export (collection.exports): {rows} rows, {size / 1e6:.0f} MB in {elapsed:.1f} s"
        f" = {rows / elapsed:,.0f} rows/s; {cpu:.1f} s of this process's CPU"
        f" = {rows / cpu:,.0f} rows per CPU second"
    )
    copy_rows, copy_size, copy_elapsed = copy_once(campaign, user)
    print(
        f"b. COPY (SELECT ...) TO STDOUT: {copy_rows} rows, {copy_size / 1e6:.0f} MB in "
        f"{copy_elapsed:.1f} s = {copy_rows / copy_elapsed:,.0f} rows/s "
        f"(export at {100 * copy_elapsed / elapsed:.0f} % of the ceiling)"
    )

    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"   process peak RSS after a. and b.: {rss:.0f} MB")
    # Python's own allocations, for a part and for four times as much: the same peak means
    # memory does not grow with the number of rows.
    for limit in (50_000, 200_000):
        tracemalloc.start()
        rows, _size, _traced, _cpu = export_once(campaign, user, limit)
        _current, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        print(f"c. tracemalloc over the first {rows} rows: Python peak {peak / 1e6:.1f} MB")
    print(f"load average after: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
