"""Campaign follow-up and aggregated results over 10,000 establishments and 1 million values.

Run from the repository root, on PostgreSQL::

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/recueil_bench \\
        DJANGO_DEBUG=1 .venv/bin/python bench/bench_followup_results.py [ESTABLISHMENTS] [PERIODS]

Migrates the database if needed, writes its own rows with set-based SQL (ESTABLISHMENTS sites
spread over every department and five categories, one national daily campaign of PERIODS
periods asking four definitions: ESTABLISHMENTS x PERIODS assignments with mixed statuses and
ESTABLISHMENTS x PERIODS x 4 values; 10,000 x 25 x 4 = 1,000,000), then measures, best of
five runs each:

a. the dashboard (``collection.followup.dashboard``: every period, by region, department and
   category, the late count and the first 100 late with their contacts), all periods and one
   period, and the whole page through the test client (template and charts included);
b. its baseline: the raw SQL ``count(*) ... group by period, status`` over the same rows;
c. the results table (``collection.results.results_table``: 3 sums/means, an occupancy
   indicator as ratio of sums) by region and by department, and the page;
d. its baseline: the raw SQL ``sum(number), count(*) ... group by territory, definition``
   over the same values.

Every row it wrote is deleted at the end, unless ``BENCH_KEEP=1`` (the next run then measures
the kept rows again instead of writing them).
"""

import datetime as dt
import os
import statistics
import sys
import time
from collections.abc import Callable
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
from django.test import Client  # noqa: E402
from django.test.utils import override_settings  # noqa: E402
from django.urls import reverse  # noqa: E402
from django.utils import timezone  # noqa: E402

from accounts.models import Membership, Organisation, Role, User  # noqa: E402
from collection import followup, results  # noqa: E402
from referentials.models import (  # noqa: E402
    Definition,
    Establishment,
    Indicator,
    LegalEntity,
    ReportingUnit,
)
from referentials.territories import departments  # noqa: E402
from surveys.models import (  # noqa: E402
    Campaign,
    CampaignPeriod,
    Question,
    Section,
    Survey,
    SurveyVersion,
)
from surveys.periods import period_of  # noqa: E402

COUNT = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000
PERIODS = int(sys.argv[2]) if len(sys.argv) > 2 else 25
CATEGORIES = [
    ("355", "Centre Hospitalier (C.H.)"),
    ("500", "EHPAD"),
    ("365", "Centre de Lutte Contre Cancer"),
    ("128", "Clinique (M.C.O.)"),
    ("697", "Centre de santé"),
]
DEFINITIONS = [
    ("bench_lits_ouverts", "Lits ouverts", "sum"),
    ("bench_lits_occupes", "Lits occupés", "sum"),
    ("bench_delai_admission", "Délai d'admission (heures)", "mean"),
    ("bench_personnel", "Personnels présents", "sum"),
]
RUNS = 5


def best(fn: Callable[[], object]) -> tuple[float, float]:
    """(best, median) wall time in ms over RUNS calls."""
    times = []
    for _ in range(RUNS):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    return min(times), statistics.median(times)


def setup() -> tuple[User, Organisation, Campaign, LegalEntity]:
    owner = Organisation.objects.create(kind="national", name="Bench DGOS", short_name="BENCH6")
    user = User.objects.create_user(email="bench.followup@sante.gouv.fr", password=None)
    Membership.objects.create(user=user, organisation=owner, role=Role.REQUESTER)
    legal_entity = LegalEntity.objects.create(
        finess="999600000", name="Bench EJ suivi", territory_code="75"
    )
    territories = [d for d in departments().values() if len(d.code) <= 3]
    Establishment.objects.bulk_create(
        (
            Establishment(
                finess=f"96{n:07d}",
                legal_entity=legal_entity,
                name=f"Établissement suivi {n}",
                category_code=CATEGORIES[n % len(CATEGORIES)][0],
                category_label=CATEGORIES[n % len(CATEGORIES)][1],
                finess_department=territories[n % len(territories)].code[:2],
                territory_code=territories[n % len(territories)].code,
                region_code=territories[n % len(territories)].region_code,
                phone=f"01{n:08d}",
            )
            for n in range(COUNT)
        ),
        batch_size=2000,
    )
    ReportingUnit.objects.bulk_create(
        (
            ReportingUnit(
                kind="establishment",
                establishment=e,
                label=e.name,
                territory_code=e.territory_code,
                legal_entity_finess=legal_entity.finess,
                finess=e.finess,
            )
            for e in Establishment.objects.filter(legal_entity=legal_entity)
        ),
        batch_size=2000,
    )
    definitions = [
        Definition.objects.create(
            code=code,
            label=label,
            value_type="integer",
            unit="",
            establishment_aggregation=aggregation,
            status="published",
        )
        for code, label, aggregation in DEFINITIONS
    ]
    Indicator.objects.create(
        code="bench_taux_occupation",
        label="Taux d'occupation",
        expression="bench_lits_occupes / bench_lits_ouverts * 100",
        unit="%",
        status="published",
    )
    survey = Survey.objects.create(owner=owner, created_by=user)
    version = SurveyVersion.objects.create(
        survey=survey,
        title="Bench suivi",
        purpose="Mesure",
        legal_basis="public_interest",
        status="frozen",
    )
    section = Section.objects.create(version=version, title="Capacités")
    for order, definition in enumerate(definitions):
        Question.objects.create(
            version=version,
            section=section,
            definition=definition,
            code=definition.code,
            order=order,
        )
    today = timezone.localdate()
    first = today - dt.timedelta(days=PERIODS - 1)
    campaign = Campaign.objects.create(
        survey=survey,
        version=version,
        owner=owner,
        title="Bench suivi quotidien",
        status="open",
        frequency="daily",
        period_kind="day",
        start_date=first,
        due_time=dt.time(14, 0),
        opened_at=timezone.now(),
    )
    CampaignPeriod.objects.bulk_create(
        CampaignPeriod(
            campaign=campaign,
            kind="day",
            key=(p := period_of("day", first + dt.timedelta(days=i))).key,
            start=p.start,
            end=p.end,
            due_at=timezone.make_aware(dt.datetime.combine(p.end, dt.time(14, 0))),
            locks_at=timezone.make_aware(dt.datetime.combine(p.end, dt.time(14, 0)))
            + dt.timedelta(days=30),
            version=version,
        )
        for i in range(PERIODS)
    )
    with connection.cursor() as cursor:
        # Assignments: 80 % submitted, 5 % exempted, the rest open (late once past due).
        cursor.execute(
            """
            insert into surveys_assignment
              (campaign_id, period_id, unit_id, version_id, status, due_at, submitted_at,
               exemption_reason, revision, updated_at)
            select p.campaign_id, p.id, u.id, p.version_id,
                   case when (u.id + p.id) %% 20 = 0 then 'exempted'
                        when (u.id * 7 + p.id) %% 5 = 0 then
                             case when p.due_at < now() then 'late' else 'todo' end
                        else 'submitted' end,
                   p.due_at,
                   case when (u.id + p.id) %% 20 <> 0 and (u.id * 7 + p.id) %% 5 <> 0
                        then p.due_at - interval '2 hours' end,
                   '', 0, now()
            from surveys_campaignperiod p, referentials_reportingunit u
            where p.campaign_id = %s and u.legal_entity_finess = %s
            """,
            [campaign.pk, legal_entity.finess],
        )
        # One value per unit, definition and period: beds open 20..219, occupied <= open.
        # (Every literal % is doubled: the query has parameters.)
        cursor.execute(
            """
            insert into collection_value
              (unit_id, definition_id, code, period_kind, period_key, period_start, period_end,
               data, number, comment, status, campaign_id, channel, changed_at, revision_count)
            select a.unit_id, d.id, d.code, 'day', p.key, p.start, p."end",
                   to_jsonb(v.n::text), v.n, '', 'submitted', a.campaign_id, 'form', now(), 1
            from surveys_assignment a
            join surveys_campaignperiod p on p.id = a.period_id
            join referentials_definition d on d.code = any(%s)
            cross join lateral (select case d.code
                when 'bench_lits_ouverts' then 20 + a.unit_id %% 200
                when 'bench_lits_occupes' then (20 + a.unit_id %% 200) * (50 + p.id %% 40) / 100
                when 'bench_delai_admission' then 1 + (a.unit_id + p.id) %% 48
                else 10 + a.unit_id %% 90 end as n) v
            where a.campaign_id = %s
            """,
            [[code for code, _, _ in DEFINITIONS], campaign.pk],
        )
        cursor.execute("analyze collection_value")
        cursor.execute("analyze surveys_assignment")
    return user, owner, campaign, legal_entity


def cleanup(owner: Organisation, user: User, legal_entity: LegalEntity) -> None:
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "delete from collection_value where unit_id in (select id from "
            "referentials_reportingunit where legal_entity_finess = %s)",
            [legal_entity.finess],
        )
        campaigns = list(Campaign.objects.filter(owner=owner).values_list("pk", flat=True))
        cursor.execute("delete from surveys_assignment where campaign_id = any(%s)", [campaigns])
        CampaignPeriod.objects.filter(campaign_id__in=campaigns).delete()
        Campaign.objects.filter(pk__in=campaigns).delete()
        Question.objects.filter(version__survey__owner=owner).delete()
        Section.objects.filter(version__survey__owner=owner).delete()
        SurveyVersion.objects.filter(survey__owner=owner).delete()
        Survey.objects.filter(owner=owner).delete()
        Indicator.objects.filter(code__startswith="bench_").delete()
        Definition.objects.filter(code__startswith="bench_").delete()
        ReportingUnit.objects.filter(legal_entity_finess=legal_entity.finess).delete()
        Establishment.objects.filter(legal_entity=legal_entity).delete()
        legal_entity.delete()
        user.delete()
        owner.delete()


def raw(sql: str, params: list[object]) -> Callable[[], object]:
    def run() -> object:
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.fetchall()

    return run


def main() -> None:
    call_command("migrate", verbosity=0)
    print(f"Base : {connection.vendor} {connection.settings_dict['NAME']}")
    start = time.perf_counter()
    kept = Campaign.objects.filter(owner__short_name="BENCH6").first()
    if kept is not None:  # BENCH_KEEP=1 left the rows of a previous run: measure them again
        owner, campaign = kept.owner, kept
        user = User.objects.get(email="bench.followup@sante.gouv.fr")
        legal_entity = LegalEntity.objects.get(finess="999600000")
    else:
        user, owner, campaign, legal_entity = setup()
    try:
        from collection.models import Value
        from surveys.models import Assignment

        values = Value.objects.filter(campaign=campaign).count()
        assignments = Assignment.objects.filter(campaign=campaign).count()
        print(
            f"Jeu : {COUNT} établissements, {PERIODS} périodes, {assignments} demandes, "
            f"{values} valeurs ("
            + ("repris d'un passage précédent" if kept else "écrit")
            + f" en {time.perf_counter() - start:.0f} s)"
        )
        access = followup.access_for(campaign=campaign, user=user)
        assert access is not None
        last = CampaignPeriod.objects.filter(campaign=campaign).order_by("-start")[1].key
        client = Client()
        client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
        follow_url = reverse("collection:campaign_followup", kwargs={"pk": campaign.pk})
        results_url = reverse("collection:campaign_results", kwargs={"pk": campaign.pk})

        def page(url: str, **params: str) -> Callable[[], object]:
            def run() -> object:
                response = client.get(url, params)
                assert response.status_code == 200, response.status_code
                return response

            return run

        with override_settings(ALLOWED_HOSTS=["testserver"]):
            board = followup.dashboard(access=access)
            table = results.results_table(access=access, period_key=last)
            total = table.total.cells
            print(
                f"   contrôle : {board.overall.total} demandes, {board.late_count} en retard ; "
                f"{last} : lits ouverts {total[0].text} sur {total[0].establishments} étab., "
                f"taux d'occupation {total[-1].text} %"
            )
            figures = {
                "a. tableau de bord, toutes périodes": best(
                    lambda: followup.dashboard(access=access)
                ),
                "a. tableau de bord, une période": best(
                    lambda: followup.dashboard(access=access, period_key=last)
                ),
                "a. page de suivi (une période)": best(page(follow_url, periode=last)),
                "b. SQL brut count(*) group by période, statut": best(
                    raw(
                        "select period_id, status, count(*) from surveys_assignment "
                        "where campaign_id = %s group by period_id, status",
                        [campaign.pk],
                    )
                ),
                "c. résultats par région": best(
                    lambda: results.results_table(access=access, period_key=last)
                ),
                "c. résultats par département": best(
                    lambda: results.results_table(
                        access=access, period_key=last, dimension="departement"
                    )
                ),
                "c. page des résultats (région)": best(page(results_url, periode=last)),
                "d. SQL brut sum, count group by territoire, définition": best(
                    raw(
                        "select u.territory_code, v.definition_id, sum(v.number), count(*) "
                        "from collection_value v "
                        "join referentials_reportingunit u on u.id = v.unit_id "
                        "where v.period_key = %s and v.unit_id in (select unit_id from "
                        "surveys_assignment a join surveys_campaignperiod p on p.id = a.period_id"
                        " where a.campaign_id = %s and p.key = %s) "
                        "group by u.territory_code, v.definition_id",
                        [last, campaign.pk, last],
                    )
                ),
            }
        for label, (fastest, median) in figures.items():
            print(f"{label:<58} {fastest:8.1f} ms (médiane {median:8.1f} ms)")
    finally:
        if not os.environ.get("BENCH_KEEP"):
            cleanup(owner, user, legal_entity)


if __name__ == "__main__":
    main()
