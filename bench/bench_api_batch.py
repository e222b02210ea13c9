"""A batch of 1,000 values through the answering API, against the bare engine on the same values.

Run from the repository root: ``DJANGO_DEBUG=1 .venv/bin/python bench/bench_api_batch.py
[assignments] [questions] [runs]`` (default 25 assignments x 40 questions = 1,000 values, 5
runs; PostgreSQL at ``BENCH_DATABASE_URL``, default
``postgres://postgres@127.0.0.1:5432/recueil_bench``; SQLite works too with ``sqlite:///...``).

Migrates the database, then inside one transaction rolled back at the end builds a legal entity
with one site per assignment, a survey of integer definitions (bounds) and cross-definition
rules, an open daily campaign, and an API key of the legal entity; then times (best and median):

a. baseline: ``referentials.validation.validate`` of every assignment's answers (specs built);
b. ``collection.values.submit`` of every assignment in a loop (the service, schema shared);
c. ``POST /api/v1/reponses/`` with the API key: the whole batch in one call, all-or-nothing.

Each run alternates between two sets of answers so that every run really writes every value.
"""

import json
import os
import statistics
import sys
import time
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

sys.dont_write_bytecode = True
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

os.environ["DATABASE_URL"] = os.environ.get(
    "BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/recueil_bench"
)
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("DJANGO_SECRET_KEY", "bench-only-secret-key-not-used-anywhere-else")
os.environ["DJANGO_ALLOWED_HOSTS"] = "testserver,localhost"
os.environ.pop("REDIS_URL", None)

ASSIGNMENTS, QUESTIONS, RUNS = 25, 40, 5


class Rollback(Exception):
    """Raised at the end so that nothing the benchmark built stays in the database."""


def timed(label: str, runs: int, action: Callable[[int], object]) -> tuple[float, float]:
    times = []
    for run in range(runs):
        start = time.perf_counter()
        action(run)
        times.append(time.perf_counter() - start)
    best, median = min(times), statistics.median(times)
    print(f"{label:<60} meilleur {best * 1000:8.1f} ms   médiane {median * 1000:8.1f} ms")
    return best, median


def build(assignments: int, questions: int) -> tuple[list, str, list[str]]:
    import datetime as dt

    from django.utils import timezone

    from accounts.api_keys import api_key_create
    from accounts.models import Membership, Organisation, Role, User
    from referentials.models import Definition, Establishment, LegalEntity, Rule
    from referentials.units import units_for_establishments
    from surveys.models import (
        Assignment,
        Campaign,
        CampaignPeriod,
        LegalBasis,
        Question,
        Section,
        Survey,
        SurveyVersion,
    )
    from surveys.periods import period_of

    dgos = Organisation.objects.create(kind="national", name="DGOS (banc)", short_name="DGOS")
    legal_entity = LegalEntity.objects.create(
        finess="970302022", name="CH de Cayenne (banc)", territory_code="973"
    )
    sites = [
        Establishment.objects.create(
            finess=f"9703{i:05d}",
            legal_entity=legal_entity,
            name=f"Site {i} (banc)",
            territory_code="973",
            region_code="03",
            category_code="355",
        )
        for i in range(assignments)
    ]
    organisation = Organisation.objects.create(
        kind="legal_entity",
        name=legal_entity.name,
        finess=legal_entity.finess,
        territory_code="973",
    )
    user = User.objects.create(email="banc.api@ch-cayenne.fr", first_name="Banc")
    Membership.objects.create(user=user, organisation=organisation, role=Role.RESPONDENT)
    _key, raw = api_key_create(organisation=organisation, name="Banc", user=user)

    codes = [f"banc_api_{i:02d}" for i in range(questions)]
    definitions = [
        Definition.objects.create(
            code=code,
            label=f"Mesure {i}",
            value_type="integer",
            unit="lits",
            minimum=Decimal(0),
            maximum=Decimal(100_000),
            status="published",
        )
        for i, code in enumerate(codes)
    ]
    for i in range(questions // 4):
        Rule.objects.create(
            code=f"banc_api_regle_{i}",
            expression=f"{codes[2 * i]} <= {codes[2 * i + 1]} * 10",
            message=f"Règle {i} non respectée.",
            severity="error",
            status="published",
        )
    survey = Survey.objects.create(owner=dgos)
    version = SurveyVersion.objects.create(
        survey=survey,
        title="Capacités (banc API)",
        purpose="Banc d'essai.",
        legal_basis=LegalBasis.PUBLIC_INTEREST,
        status="frozen",
    )
    section = Section.objects.create(version=version, title="Capacités", order=0)
    Question.objects.bulk_create(
        Question(
            version=version,
            section=section,
            order=i,
            code=definition.code,
            definition=definition,
            required=True,
        )
        for i, definition in enumerate(definitions)
    )
    today = timezone.localdate()
    campaign = Campaign.objects.create(
        survey=survey,
        version=version,
        owner=dgos,
        title="Capacités (banc API)",
        status="open",
        frequency="daily",
        period_kind="day",
        start_date=today,
        due_time=dt.time(14),
        opened_at=timezone.now(),
    )
    period = period_of("day", today)
    due = timezone.make_aware(dt.datetime.combine(period.end, dt.time(14)))
    row = CampaignPeriod.objects.create(
        campaign=campaign,
        kind="day",
        key=period.key,
        start=period.start,
        end=period.end,
        due_at=due,
        locks_at=due + dt.timedelta(days=30),
        version=version,
    )
    units = units_for_establishments([site.pk for site in sites])
    owed = [
        Assignment.objects.create(
            campaign=campaign, period=row, unit_id=unit, version=version, due_at=due
        )
        for unit in units
    ]
    return owed, raw, codes


def main() -> None:
    assignments = int(sys.argv[1]) if len(sys.argv) > 1 else ASSIGNMENTS
    questions = int(sys.argv[2]) if len(sys.argv) > 2 else QUESTIONS
    runs = int(sys.argv[3]) if len(sys.argv) > 3 else RUNS
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection, transaction
    from django.test.utils import CaptureQueriesContext
    from django.urls import reverse
    from rest_framework.test import APIClient

    from collection import values
    from collection.models import Channel
    from referentials.validation import validate

    call_command("migrate", verbosity=0)
    total = assignments * questions
    print(
        f"{connection.vendor} : {assignments} demandes x {questions} questions = {total} valeurs, "
        f"{runs} passages par mesure"
    )
    try:
        with transaction.atomic():
            owed, raw, codes = build(assignments, questions)
            schema = values.version_schema(owed[0].version)
            specs = [q.spec for q in schema.questions]

            def answers(run: int, index: int) -> dict[str, int]:
                # Two alternating sets, so that every run changes every value.
                return {code: 100 + i + index + (run % 2) for i, code in enumerate(codes)}

            client = APIClient()
            client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
            url = reverse("api:batch_answer")

            def engine(run: int) -> None:
                for index in range(len(owed)):
                    verdict = validate(
                        answers=answers(run, index), definitions=specs, rules=schema.rules
                    )
                    assert verdict.is_valid

            def service(run: int) -> None:
                for index, assignment in enumerate(owed):
                    outcome = values.submit(
                        assignment, answers(run, index), channel=Channel.API, schema=schema
                    )
                    assert outcome.applied and len(outcome.changed + outcome.created) == questions

            def api(run: int) -> None:
                body = {
                    "demandes": [
                        {"demande": a.pk, "valeurs": answers(run, index)}
                        for index, a in enumerate(owed)
                    ]
                }
                response = client.post(url, json.dumps(body), content_type="application/json")
                assert response.status_code == 200, response.content[:2000]

            base, _ = timed(f"a. validate() seul, {total} valeurs (référence)", runs, engine)
            timed(f"b. values.submit en boucle, {total} valeurs écrites", runs, service)
            best, median = timed(f"c. POST /api/v1/reponses/, {total} valeurs écrites", runs, api)
            with CaptureQueriesContext(connection) as queries:
                api(runs + 1)
            print(f"requêtes SQL d'un lot par l'API : {len(queries)}")
            print(
                f"lot par l'API : {best / base:.0f} fois validate() seul "
                f"(meilleur {best * 1000:.0f} ms, médiane {median * 1000:.0f} ms ; but < 1 s)"
            )
            raise Rollback
    except Rollback:
        pass


if __name__ == "__main__":
    main()
