"""Server time of the respondent's web form on a 40-question survey, against the bare engine.

Run from the repository root: ``DJANGO_DEBUG=1 .venv/bin/python bench/bench_form_submit.py
[runs]`` (PostgreSQL at ``BENCH_DATABASE_URL``, default
``postgres://postgres@127.0.0.1:5432/recueil_bench``; SQLite works too with ``sqlite:///...``).

Migrates the database, then inside one transaction rolled back at the end builds a national
survey of 40 integer definitions (bounds, a jump check against the previous period) and 10
cross-definition rules, a daily campaign, yesterday's answers of an Ehpad and today's
assignment, and times (best and median of ``runs``, 15 by default):

a. baseline: ``referentials.validation.validate`` of the 40 answers (specs already built);
b. ``collection.values.check``: the live check's service (schema, store, previous period);
c. the live check through the Django test client (``POST …/verifier/``, 40 fields re-drawn);
d. ``collection.values.submit``: every answer changed, 40 values and 40 revisions written;
e. « Transmettre » through the Django test client (``POST /collecte/demandes/<pk>/``, the
   same 40 changes, redirect);
f. the form page itself (``GET``, 40 fields prefilled with provenance and previous value).

Each submission alternates between two sets of answers so that every run really writes.
"""

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

RUNS = 15
QUESTIONS = 40


class Rollback(Exception):
    """Raised at the end so that nothing the benchmark built stays in the database."""


def timed(label: str, runs: int, action: Callable[[int], object]) -> tuple[float, float]:
    """Wall-clock best and median; the process's CPU time too (less sensitive to a busy
    machine, but blind to the time spent in the database server)."""
    times, cpu = [], []
    for run in range(runs):
        start, start_cpu = time.perf_counter(), time.process_time()
        action(run)
        times.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
    best, median = min(times), statistics.median(times)
    print(
        f"{label:<52} meilleur {best * 1000:6.1f} ms  médiane {median * 1000:6.1f} ms  "
        f"CPU Python {min(cpu) * 1000:6.1f} ms"
    )
    return best, median


def build() -> tuple[object, object, dict[str, str], dict[str, str]]:
    import datetime as dt

    from django.utils import timezone

    from accounts.models import Membership, Organisation, Role, User
    from collection import values
    from collection.models import Channel
    from referentials.models import Definition, Establishment, LegalEntity, Rule
    from referentials.units import unit_for_establishment
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
    ehpad = Establishment.objects.create(
        finess="970302287",
        legal_entity=legal_entity,
        name="Ehpad Edmar Lama (banc)",
        territory_code="973",
        region_code="03",
        category_code="500",
    )
    ehpad_org = Organisation.objects.create(
        kind="establishment",
        name=ehpad.name,
        finess=ehpad.finess,
        territory_code="973",
        legal_entity_finess=legal_entity.finess,
    )
    user = User.objects.create(email="banc.formulaire@ehpad.fr", first_name="Banc")
    Membership.objects.create(user=user, organisation=ehpad_org, role=Role.RESPONDENT)
    codes = [f"banc_mesure_{i:02d}" for i in range(QUESTIONS)]
    for i, code in enumerate(codes):
        Definition.objects.create(
            code=code,
            label=f"Mesure {i}",
            value_type="integer",
            unit="lits",
            minimum=Decimal(0),
            maximum=Decimal(100_000),
            max_jump_ratio=Decimal(100),
            status="published",
        )
    for i in range(10):
        Rule.objects.create(
            code=f"banc_regle_{i}",
            expression=f"{codes[2 * i]} <= {codes[2 * i + 1]} * 10",
            message=f"Règle {i} non respectée.",
            severity="error",
            status="published",
        )
    survey = Survey.objects.create(owner=dgos)
    version = SurveyVersion.objects.create(
        survey=survey,
        title="Capacités (banc)",
        purpose="Banc d'essai.",
        legal_basis=LegalBasis.PUBLIC_INTEREST,
        status="frozen",
    )
    sections = [
        Section.objects.create(version=version, title=f"Partie {s + 1}", order=s) for s in range(4)
    ]
    for i, code in enumerate(codes):
        Question.objects.create(
            version=version,
            section=sections[i // 10],
            order=i,
            code=code,
            definition=Definition.objects.get(code=code),
            required=True,
        )
    today = timezone.localdate()
    campaign = Campaign.objects.create(
        survey=survey,
        version=version,
        owner=dgos,
        title="Capacités (banc)",
        status="open",
        frequency="daily",
        period_kind="day",
        start_date=today - dt.timedelta(days=1),
        due_time=dt.time(14),
        opened_at=timezone.now(),
    )
    unit = unit_for_establishment(ehpad)

    def assignment_for(day: dt.date) -> Assignment:
        period = period_of("day", day)
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
        return Assignment.objects.create(
            campaign=campaign, period=row, unit=unit, version=version, due_at=due
        )

    first = {code: str(100 + i) for i, code in enumerate(codes)}
    second = {code: str(110 + i) for i, code in enumerate(codes)}
    values.submit(assignment_for(today - dt.timedelta(days=1)), first, channel=Channel.API)
    return assignment_for(today), user, first, second


def main() -> None:
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else RUNS
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection, transaction
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django.urls import reverse

    from collection import values
    from collection.models import Channel
    from referentials.validation import validate

    call_command("migrate", verbosity=0)
    print(f"{connection.vendor} : {QUESTIONS} questions, {runs} passages par mesure")
    try:
        with transaction.atomic():
            assignment, user, first, second = build()
            client = Client()
            client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
            form_url = reverse("collection:assignment_form", kwargs={"pk": assignment.pk})
            check_url = reverse("collection:assignment_check", kwargs={"pk": assignment.pk})
            schema = values.version_schema(assignment.version)
            context = values.engine_context(
                unit_id=assignment.unit_id,
                schema=schema,
                period=values.period_of_assignment(assignment),
            )
            specs = [q.spec for q in schema.questions]

            def answers(run: int) -> dict[str, str]:
                return second if run % 2 == 0 else first

            def post(run: int) -> None:
                assignment.refresh_from_db(fields=["revision"])
                data = {**answers(run), "_revision": assignment.revision, "_action": "submit"}
                response = client.post(form_url, data)
                assert response.status_code == 302, response.content[:2000]

            def submit(run: int) -> None:
                outcome = values.submit(assignment, answers(run), channel=Channel.FORM, user=user)
                assert outcome.applied, outcome.blocking
                assert len(outcome.created + outcome.changed) == QUESTIONS

            def check_view(run: int) -> None:
                response = client.post(check_url, answers(run), HTTP_HX_REQUEST="true")
                assert response.status_code == 200

            def page(run: int) -> None:
                assert client.get(form_url).status_code == 200

            base, _ = timed(
                "a. validate() seul (référence)",
                runs,
                lambda run: validate(
                    answers=answers(run), definitions=specs, rules=schema.rules, context=context
                ),
            )
            timed(
                "b. values.check (service)",
                runs,
                lambda run: values.check(assignment, answers(run)),
            )
            timed("c. POST vérification htmx (vue, 40 champs)", runs, check_view)
            timed("d. values.submit (service, 40 valeurs écrites)", runs, submit)
            best, median = timed("e. POST « Transmettre » (vue, 40 valeurs écrites)", runs, post)
            timed("f. GET du formulaire (40 champs préremplis)", runs, page)
            with CaptureQueriesContext(connection) as queries:
                post(runs)
            print(f"requêtes SQL d'une transmission par la vue : {len(queries)}")
            with CaptureQueriesContext(connection) as queries:
                page(0)
            print(f"requêtes SQL de l'affichage du formulaire : {len(queries)}")
            print(
                f"transmission par la vue : {best / base:.0f} fois validate() seul "
                f"(meilleur {best * 1000:.1f} ms, médiane {median * 1000:.1f} ms ; but < 150 ms)"
            )
            raise Rollback
    except Rollback:
        pass


if __name__ == "__main__":
    main()
