"""The real parts: an SMTP sink (aiosmtpd) and, when REDIS_URL is set, a real Celery worker.

On the embedded default, tasks run eagerly in the test process and still deliver their mail
over SMTP to the sink; on ``make test-real`` the same tests go through Redis, a worker process
started here against the test database, and the same sink.
"""

import email
import email.policy
import os
import socket
import subprocess
import sys
import threading
import time
from email.message import EmailMessage
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from django.conf import settings

ROOT = Path(__file__).resolve().parents[2]


class _Collector:
    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self._arrived = threading.Condition()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        # Like a real server refusing an unknown mailbox: any address containing "refuse".
        if "refuse" in address.lower():
            return "550 5.1.1 <" + address + ">: Recipient address rejected: User unknown"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        with self._arrived:
            self.messages.append(message)
            self._arrived.notify_all()
        return "250 Message accepted for delivery"


class SmtpSink:
    def __init__(self) -> None:
        self._collector = _Collector()
        # aiosmtpd connects to its own port to check it is up, so it needs a real one.
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            free_port = probe.getsockname()[1]
        self._controller = Controller(self._collector, hostname="127.0.0.1", port=free_port)

    def start(self) -> None:
        self._controller.start()

    def stop(self) -> None:
        self._controller.stop()

    @property
    def port(self) -> int:
        return self._controller.port

    @property
    def messages(self) -> list[EmailMessage]:
        return list(self._collector.messages)

    def clear(self) -> None:
        self._collector.messages.clear()

    def wait_for(self, count: int = 1, timeout: float = 30.0) -> list[EmailMessage]:
        """Block until ``count`` messages arrived (a worker delivers asynchronously)."""
        deadline = time.monotonic() + timeout
        with self._collector._arrived:
            while len(self._collector.messages) < count:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise AssertionError(
                        f"{len(self._collector.messages)} message(s) reçu(s) par le serveur "
                        f"SMTP de test au lieu de {count} en {timeout} s"
                    )
                self._collector._arrived.wait(remaining)
        return self.messages


@pytest.fixture(scope="session")
def smtp_sink():
    sink = SmtpSink()
    sink.start()
    yield sink
    sink.stop()


def _test_database_url() -> str:
    from django.db import connection

    db = connection.settings_dict
    if db["ENGINE"] != "django.db.backends.postgresql":
        raise RuntimeError(
            "Un worker Celery réel a besoin d'une base partagée : lancez « make test-real » "
            "(DATABASE_URL PostgreSQL et REDIS_URL)."
        )
    host = db.get("HOST") or "127.0.0.1"
    port = db.get("PORT") or 5432
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    return f"postgres://{db['USER']}{password}@{host}:{port}/{db['NAME']}"


@pytest.fixture(scope="session")
def shared_media_root(tmp_path_factory):
    """Uploaded files go here, for the test process and the worker alike."""
    return tmp_path_factory.mktemp("media")


@pytest.fixture(autouse=True)
def _media_root(settings, shared_media_root):
    settings.MEDIA_ROOT = shared_media_root


@pytest.fixture(scope="session")
def celery_worker_process(django_db_setup, django_db_blocker, smtp_sink, shared_media_root):
    """A real ``celery worker`` on the test database, or None on the eager default."""
    if settings.CELERY_TASK_ALWAYS_EAGER:
        yield None
        return
    from config.celery import app

    with django_db_blocker.unblock():
        database_url = _test_database_url()
    app.control.purge()
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "EMAIL_HOST": "127.0.0.1",
        "EMAIL_PORT": str(smtp_sink.port),
        "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "MEDIA_ROOT": str(shared_media_root),
    }
    log = open(ROOT / "celery-test-worker.log", "w")  # noqa: SIM115 - closed at teardown
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
            "--loglevel=INFO",
            "-n",
            "tests@%h",
        ],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 60
    while not app.control.ping(timeout=1.0):
        if worker.poll() is not None or time.monotonic() > deadline:
            worker.kill()
            log.close()
            raise RuntimeError(
                "Le worker Celery de test n'a pas démarré : voir celery-test-worker.log"
            )
    yield worker
    worker.terminate()
    try:
        worker.wait(timeout=20)
    except subprocess.TimeoutExpired:
        worker.kill()
    log.close()


@pytest.fixture
def mailbox(settings, smtp_sink, celery_worker_process):
    """Mail goes over SMTP to the sink, from this process (eager) or from the worker."""
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = smtp_sink.port
    settings.EMAIL_USE_TLS = False
    smtp_sink.clear()
    yield smtp_sink
    smtp_sink.clear()
