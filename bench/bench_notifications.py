"""Opening a campaign for 10,000 establishments with 15,000 contacts: one mail per recipient.

Run from the repository root:

    DJANGO_DEBUG=1 .venv/bin/python bench/bench_notifications.py            # eager, SQLite
    DJANGO_DEBUG=1 REDIS_URL=redis://127.0.0.1:6379/8 \\
        .venv/bin/python bench/bench_notifications.py                        # PostgreSQL + worker

Options: ``--recipients N`` (default 15,000), ``--batch N`` (ids per Celery task, default 100).

Recipients are simulated (no domain app): 10,000 establishments, half of them with two
functional addresses, the others with one, i.e. 15,000 addresses. In one transaction,
``notifications.services.notify`` writes one "digest" row per address; after commit the rows
are delivered to an aiosmtpd sink started here, eagerly in this process without REDIS_URL, or
by ONE real Celery worker (``--pool=solo``) on Redis with PostgreSQL (its own database
``recueil_bench_notifications``, created and dropped here). Measured in the same run:

a. baseline: a bare ``smtplib`` loop sending the same rendered message to each address over one
   connection (the transport's own cost, no database, no rendering);
b. ``notify`` (15,000 outbox rows written) and the time until the sink has received every
   message and every row is marked sent; the sink checks exactly one message per address.
"""

import argparse
import os
import smtplib
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

PARSER = argparse.ArgumentParser()
PARSER.add_argument("--recipients", type=int, default=15_000)
PARSER.add_argument("--batch", type=int, default=100)
ARGS = PARSER.parse_args()

REDIS_URL = os.environ.get("REDIS_URL", "")
SERVER = os.environ.get("BENCH_POSTGRES", "postgres://postgres@127.0.0.1:5432")
DATABASE = "recueil_bench_notifications"
TMP = tempfile.mkdtemp(prefix="bench-notifications-")
if REDIS_URL:
    os.environ["DATABASE_URL"] = f"{SERVER}/{DATABASE}"
else:
    os.environ["DATABASE_URL"] = f"sqlite:///{TMP}/bench.sqlite3"
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("DJANGO_DEBUG", "1")
os.environ["LOG_LEVEL"] = "WARNING"

from aiosmtpd.controller import Controller  # noqa: E402


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


def addresses(count: int) -> list[tuple[int, str]]:
    """(establishment, address): 10,000 establishments, the first ones with two addresses."""
    establishments = max(count * 2 // 3, 1)
    result = [(i, f"direction@etab-{i:05d}.sante.fr") for i in range(establishments)]
    result += [(i, f"crise@etab-{i:05d}.sante.fr") for i in range(count - establishments)]
    return result


def server_execute(sql: str) -> None:
    import psycopg

    with psycopg.connect(f"{SERVER}/postgres", autocommit=True) as connection:
        connection.execute(sql)


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
    if REDIS_URL:
        server_execute(f"DROP DATABASE IF EXISTS {DATABASE}")
        server_execute(f"CREATE DATABASE {DATABASE}")
    worker = None
    try:
        import django

        django.setup()
        from django.conf import settings
        from django.core.management import call_command
        from django.db import transaction

        from notifications.delivery import build_message
        from notifications.models import Notification
        from notifications.services import Recipient, notify

        settings.NOTIFICATIONS_TASK_BATCH_SIZE = ARGS.batch
        call_command("migrate", verbosity=0)
        recipients = addresses(ARGS.recipients)
        mode = "un worker Celery (Redis, PostgreSQL)" if REDIS_URL else "eager (SQLite)"
        print(f"{len(recipients):,} adresses, {len({e for e, _ in recipients}):,} établissements")
        print(f"mode : {mode}, {ARGS.batch} notification(s) par tâche")

        if REDIS_URL:
            from config.celery import app

            app.control.purge()
            log = open(Path(TMP) / "worker.log", "w")  # noqa: SIM115
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
                    "bench@%h",
                ],
                cwd=ROOT,
                env=os.environ.copy(),
                stdout=log,
                stderr=subprocess.STDOUT,
            )
            while not app.control.ping(timeout=1.0):
                if worker.poll() is not None:
                    raise SystemExit(f"le worker n'a pas démarré : {TMP}/worker.log")

        context = {
            "intro": "La DGOS vous adresse 3 nouvelles demandes.",
            "lines": [
                "Lits de réanimation — semaine 2026-W49 — échéance le 04/12/2026 à 12:00",
                "Stocks de masques — mois 2026-11 — échéance le 05/12/2026 à 18:00",
                "Personnels absents — jour 2026-11-30 — échéance le 30/11/2026 à 16:00",
            ],
            "action_label": "Ouvrir la boîte de réception",
        }

        # a. baseline: the same rendered bytes, a bare smtplib loop on one connection.
        sample = Notification(
            pk=1,
            email="x@exemple.fr",
            name="",
            subject="Nouvelles demandes",
            template="notifications/emails/message",
            context=context,
            link="/collecte/",
        )
        payload = build_message(sample).message().as_bytes(linesep="\r\n")
        started = time.perf_counter()
        with smtplib.SMTP("127.0.0.1", port) as client:
            for _, address in recipients:
                client.sendmail("ne-pas-repondre@recueil.sante.gouv.fr", [address], payload)
        baseline = time.perf_counter() - started
        while sink.total() < len(recipients):
            time.sleep(0.01)
        sink.per_address.clear()

        # b. the outbox: rows written in one transaction, delivered after commit.
        started = time.perf_counter()
        with transaction.atomic():
            created = notify(
                kind="digest",
                recipients=[Recipient(email=a, name="Direction") for _, a in recipients],
                subject="Nouvelles demandes",
                template="notifications/emails/message",
                context=context,
                link="/collecte/",
                about={"campaign": 1},
                dedup_subject="campagne-1-ouverture",
            )
            written = time.perf_counter() - started
        committed = time.perf_counter() - started
        deadline = time.monotonic() + 3600
        while (
            sink.total() < len(recipients) or Notification.objects.exclude(status="sent").exists()
        ):
            if time.monotonic() > deadline:
                raise SystemExit(f"{sink.total()} messages reçus au bout d'une heure")
            time.sleep(0.05)
        delivered = time.perf_counter() - started
        time.sleep(2)  # anything late would be a duplicate

        per_address = sink.per_address
        expected = {address for _, address in recipients}
        exact = set(per_address) == expected and set(per_address.values()) == {1}
        print(f"lignes écrites par notify : {len(created):,}")
        print(
            f"messages reçus par le serveur SMTP : {sink.total():,} "
            f"({'exactement un par destinataire' if exact else 'ÉCART'})"
        )
        print()
        print(f"{'étape':<52}{'temps':>10}{'messages/s':>14}")
        print(
            f"{'a. smtplib seul (même message, une connexion)':<52}{baseline:>9.2f}s"
            f"{len(recipients) / baseline:>14,.0f}"
        )
        print(f"{'b. notify : lignes écrites (transaction)':<52}{written:>9.2f}s")
        if REDIS_URL:
            print(f"{'   … et validées (commit + tâches en file)':<52}{committed:>9.2f}s")
        print(
            f"{'b. notify -> tout reçu et marqué envoyé':<52}{delivered:>9.2f}s"
            f"{len(recipients) / delivered:>14,.0f}"
        )
        print(f"rapport b / a : {delivered / baseline:.1f}x")
        if not exact:
            raise SystemExit(1)
    finally:
        if worker is not None:
            worker.terminate()
            worker.wait(timeout=30)
        controller.stop()
        if REDIS_URL:
            from django.db import connections

            connections.close_all()
            server_execute(f"DROP DATABASE IF EXISTS {DATABASE}")


if __name__ == "__main__":
    main()
