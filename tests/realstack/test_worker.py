"""Side effects leave the web process after commit, through the queue, and arrive by SMTP."""

import time
from pathlib import Path

from django.conf import settings

from accounts.models import Organisation, Role
from accounts.services import invitation_create

WORKER_LOG = Path(__file__).resolve().parents[2] / "celery-test-worker.log"


def test_an_invitation_mail_is_sent_after_commit_and_reaches_the_smtp_server(
    transactional_db, cast, mailbox, celery_worker_process
):
    ars_idf = Organisation.objects.get(kind="ars", region_code="11")
    _invitation, token = invitation_create(
        email="nouvelle.agente@ars.sante.fr",
        organisation=ars_idf,
        role=Role.REQUESTER,
        invited_by=cast.curator,
    )
    [message] = mailbox.wait_for(1)
    assert message["To"] == "nouvelle.agente@ars.sante.fr"
    assert f"/comptes/invitation/{token}/" in message.get_body(("plain",)).get_content()

    if celery_worker_process is None:
        assert settings.CELERY_TASK_ALWAYS_EAGER  # the embedded default: run in this process
        return
    # On the real stack the worker process did it: its log says so.
    deadline = time.monotonic() + 10
    while "send_invitation_email" not in WORKER_LOG.read_text() or (
        "succeeded" not in WORKER_LOG.read_text()
    ):
        assert time.monotonic() < deadline, WORKER_LOG.read_text()[-2000:]
        time.sleep(0.2)


def test_nothing_is_sent_when_the_transaction_rolls_back(transactional_db, cast, mailbox):
    from django.db import transaction

    ars_idf = Organisation.objects.get(kind="ars", region_code="11")
    try:
        with transaction.atomic():
            invitation_create(
                email="annulee@ars.sante.fr",
                organisation=ars_idf,
                role=Role.REQUESTER,
                invited_by=cast.curator,
            )
            raise RuntimeError("échec après la création")
    except RuntimeError:
        pass
    time.sleep(1 if settings.CELERY_TASK_ALWAYS_EAGER else 3)
    assert mailbox.messages == []
    assert not ars_idf.invitations.exists()
