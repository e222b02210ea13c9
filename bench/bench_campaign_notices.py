"""Opening a campaign for 10,000 establishments with 15,000 functional contacts: one digest per
recipient, and how long until every one is delivered.

Run from the repository root, on the real stack (PostgreSQL, Redis, ONE Celery worker)::

    BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/recueil_bench \\
    REDIS_URL=redis://127.0.0.1:6379/0 \\
        DJANGO_DEBUG=1 .venv/bin/python bench/bench_campaign_notices.py [ESTABLISHMENTS]

or, without ``BENCH_DATABASE_URL``, eagerly on a scratch SQLite file (the Celery tasks run in
this process after commit, as on the embedded default). ``BENCH_DATABASE_URL`` without
``REDIS_URL`` runs eagerly on PostgreSQL.

The mail goes over SMTP to an aiosmtpd sink started here that counts the messages per address;
with ``REDIS_URL`` the bench starts one ``celery worker --pool=solo`` on that broker and that
database (the worker sends, this process only opens the campaign), as ``tests/realstack`` does.
The directory: ESTABLISHMENTS sites of one legal entity, the first half with two verified
functional contacts (direction, crisis cell), the others with one, i.e. 15,000 addresses for
10,000 sites. Measured in the same run, on two campaigns of the same audience (the reporting
units are created beforehand, untimed):

a. baseline: ``surveys.campaigns.campaign_open`` with the digest turned off (the opening
   alone: audience, period, assignments);
b. the same with the digest (``surveys.notices``): recipients resolved and one digest row per
   address written in the transaction; the return of ``campaign_open`` (commit, and the
   delivery tasks queued — or, eagerly, run); then the time until the sink has received every
   message and every outbox row is ``sent``. The sink must have received exactly one message
   per address, and nothing more in the seconds after.

Every row it wrote is deleted at the end (and any left by an interrupted run, at the start).
"""

import datetime as dt
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

sys.dont_write_bytecode = True
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
TMP = tempfile.mkdtemp(prefix="bench-campaign-notices-")
DATABASE_URL = os.environ.get("BENCH_DATABASE_URL", "")
REDIS_URL = os.environ.get("REDIS_URL", "") if DATABASE_URL else ""
os.environ["DATABASE_URL"] = DATABASE_URL or f"sqlite:///{TMP}/bench.sqlite3"
if not REDIS_URL:
    os.environ.pop("REDIS_URL", None)
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("DJANGO_SECRET_KEY", "bench-only-secret-key-not-used-anywhere-else")
os.environ["LOG_LEVEL"] = "WARNING"

from aiosmtpd.controller import Controller  # noqa: E402

COUNT = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000
OWNER_NAME = "Bench notices DGOS"
USER_EMAIL = "bench.notices@sante.gouv.fr"
WAIT_LIMIT = 3600  # seconds: a run that delivers nothing stops with the count it reached


class CountingSink:
    """Counts messages per recipient; does not parse them (the sink must not be the limit)."""

    def __init__(self) -> None:
        self.per_address: Counter[str] = Counter()
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):
        with self.lock:
            self.per_address.update(address.lower() for address in envelope.rcpt_tos)
        return "250 OK"

    def total(self) -> int:
        with self.lock:
            return sum(self.per_address.values())


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_worker() -> subprocess.Popen:
    """One real worker (``--pool=solo``: one message at a time) on REDIS_URL and the database."""
    from config.celery import app

    app.control.purge()
    log = open(Path(TMP) / "worker.log", "w")  # noqa: SIM115 - the worker's whole life
    worker = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "config",
            "worker",
            "--pool=solo",
            "--without-gossip",
            "--without-mingle",
            "--loglevel=WARNING",
            "-n",
            "bench-notices@%h",
        ],
        cwd=ROOT,
        env=os.environ.copy(),
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 60
    while not app.control.ping(timeout=1.0):
        if worker.poll() is not None or time.monotonic() > deadline:
            worker.kill()
            raise SystemExit(f"le worker Celery n'a pas démarré : voir {TMP}/worker.log")
    return worker


def cleanup() -> None:
    """Delete what this bench wrote (also what an interrupted run left)."""
    from django.db import transaction

    from accounts.models import Organisation, User
    from notifications.models import Notification
    from referentials.models import Establishment, LegalEntity, ReportingUnit
    from surveys.models import Assignment, AudienceMember, Campaign, Survey, SurveyVersion

    with transaction.atomic():
        for owner in Organisation.objects.filter(name=OWNER_NAME):
            ids = list(Campaign.objects.filter(owner=owner).values_list("pk", flat=True))
            Notification.objects.filter(about__campaign__in=ids).delete()
            Assignment.objects.filter(campaign_id__in=ids).delete()
            AudienceMember.objects.filter(campaign_id__in=ids).delete()
            Campaign.objects.filter(pk__in=ids).delete()
            SurveyVersion.objects.filter(survey__owner=owner).delete()
            Survey.objects.filter(owner=owner).delete()
            owner.delete()
        for legal_entity in LegalEntity.objects.filter(name="Bench notices EJ"):
            sites = Establishment.objects.filter(legal_entity=legal_entity)
            ReportingUnit.objects.filter(establishment__in=sites).delete()
            sites.delete()
            legal_entity.delete()
        User.objects.filter(email=USER_EMAIL).delete()


def main() -> None:
    sink = CountingSink()
    port = free_port()
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    os.environ.update(
        EMAIL_HOST="127.0.0.1",
        EMAIL_PORT=str(port),
        EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend",
    )
    worker = None
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.utils import timezone

    call_command("migrate", verbosity=0)
    cleanup()
    try:
        from accounts.models import Membership, Organisation, Role, User
        from notifications.models import Notification
        from referentials.identifiers import finess_is_valid
        from referentials.models import Establishment, FunctionalContact, LegalEntity
        from referentials.units import units_for_establishments
        from surveys import campaigns, notices
        from surveys.models import Question, Section, Survey, SurveyVersion

        def valid_finess(stem: str) -> str:
            for key in "0123456789":
                if finess_is_valid(stem + key):
                    return stem + key
            raise AssertionError(stem)

        owner = Organisation.objects.create(kind="national", name=OWNER_NAME, short_name="DGOS")
        user = User.objects.create_user(email=USER_EMAIL, password=None)
        Membership.objects.create(user=user, organisation=owner, role=Role.REQUESTER)
        legal_entity = LegalEntity.objects.create(
            finess=valid_finess("99980000"), name="Bench notices EJ", territory_code="75"
        )
        Establishment.objects.bulk_create(
            (
                Establishment(
                    finess=valid_finess(f"98{n:06d}"),
                    legal_entity=legal_entity,
                    name=f"Établissement bench {n}",
                    category_code="355",
                    category_label="Centre Hospitalier (C.H.)",
                    finess_department="75",
                    territory_code="75",
                    region_code="11",
                    postcode="75013",
                    city="PARIS",
                )
                for n in range(COUNT)
            ),
            batch_size=2000,
        )
        ids = list(
            Establishment.objects.filter(legal_entity=legal_entity)
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        today = timezone.localdate()
        contacts = [
            FunctionalContact(
                establishment_id=pk,
                role="direction",
                email=f"direction@etab-{n}.fr",
                verified_on=today,
            )
            for n, pk in enumerate(ids)
        ] + [
            FunctionalContact(
                establishment_id=pk,
                role="crisis",
                email=f"crise@etab-{n}.fr",
                verified_on=today,
            )
            for n, pk in enumerate(ids[: COUNT // 2])
        ]
        FunctionalContact.objects.bulk_create(contacts, batch_size=2000)
        units_for_establishments(ids)
        survey = Survey.objects.create(owner=owner, created_by=user)
        version = SurveyVersion.objects.create(
            survey=survey, title="Bench", purpose="Mesure", legal_basis="public_interest"
        )
        section = Section.objects.create(version=version, title="Capacités")
        Question.objects.create(
            version=version, section=section, code="lits", label="Lits", value_type="integer"
        )

        def draft(title: str):
            campaign = campaigns.campaign_create(
                survey=survey,
                owner=owner,
                title=title,
                unit_kind="establishment",
                frequency="daily",
                period_kind="day",
                start_date=today,
                end_date=today + dt.timedelta(days=30),
                due_offset_days=0,
                due_time=dt.time(23, 59),
                user=user,
            )
            campaign.audience_filters = {"legal_entities": [legal_entity.finess]}
            campaign.save(update_fields=["audience_filters"])
            return campaign

        database = f"{connection.vendor} {connection.settings_dict['NAME']}"
        if REDIS_URL:
            mode = f"{database}, Redis, UN worker Celery (--pool=solo) qui envoie"
            worker = start_worker()
        else:
            mode = f"{database}, eager (envoi dans ce processus après le commit)"
        print(f"{COUNT:,} établissements, {len(contacts):,} contacts fonctionnels vérifiés")
        print(f"mode : {mode} ; SMTP vers un serveur aiosmtpd local")

        # a. baseline: the opening without the digest.
        real_digest = notices.digest_for_opened_periods
        notices.digest_for_opened_periods = lambda **kwargs: 0  # type: ignore[assignment]
        started = time.perf_counter()
        campaigns.campaign_open(campaign=draft("Sans notification"), user=user)
        baseline = time.perf_counter() - started
        assert not Notification.objects.filter(kind="digest").exists()

        # b. with the digest: rows in the transaction, delivered after commit.
        campaign = draft("Avec notification")
        written_at: list[float] = []

        def timed_digest(**kwargs):
            written = real_digest(**kwargs)
            written_at.append(time.perf_counter())
            return written

        notices.digest_for_opened_periods = timed_digest  # type: ignore[assignment]
        started = time.perf_counter()
        campaigns.campaign_open(campaign=campaign, user=user)
        returned = time.perf_counter() - started
        outbox = Notification.objects.filter(kind="digest", about__campaign=campaign.pk)
        deadline = time.monotonic() + WAIT_LIMIT
        while sink.total() < len(contacts) or outbox.exclude(status="sent").exists():
            if time.monotonic() > deadline:
                raise SystemExit(f"{sink.total():,} messages reçus au bout de {WAIT_LIMIT} s")
            time.sleep(0.05)
        delivered = time.perf_counter() - started
        time.sleep(3)  # anything late would be a duplicate

        rows = outbox.count()
        sent = outbox.filter(status="sent").count()
        expected = {c.email for c in contacts}
        per_address = sink.per_address
        exact = set(per_address) == expected and set(per_address.values()) == {1}
        print(f"lignes de sortie écrites : {rows:,} (envoyées : {sent:,})")
        print(
            f"messages reçus par le serveur SMTP : {sink.total():,} "
            f"({'exactement un par destinataire' if exact else 'ÉCART'})"
        )
        print()
        print(f"{'étape':<60}{'temps':>10}")
        print(f"{'a. ouverture seule (récapitulatif débranché)':<60}{baseline:>9.2f}s")
        digest = written_at[0] - started if written_at else float("nan")
        print(f"{'b. ouverture + destinataires + lignes écrites':<60}{digest:>9.2f}s")
        queued = "commit + tâches en file" if REDIS_URL else "commit + envoi eager"
        print(f"{f'b. … retour de campaign_open ({queued})':<60}{returned:>9.2f}s")
        print(
            f"{'b. … tout reçu par le serveur SMTP et marqué envoyé':<60}{delivered:>9.2f}s"
            f"  ({len(contacts) / delivered:,.0f} messages/s)"
        )
        print(f"surcoût du récapitulatif dans la transaction : {digest - baseline:.2f}s")
        if not exact:
            raise SystemExit(1)
    finally:
        if worker is not None:
            worker.terminate()
            worker.wait(timeout=30)
        controller.stop()
        cleanup()


if __name__ == "__main__":
    main()
