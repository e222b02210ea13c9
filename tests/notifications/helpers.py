"""Small helpers shared by the notification tests."""

import time

from notifications.models import Notification
from notifications.services import Recipient, notify


def notify_request(recipients, *, dedup="campagne-12-ouverture", kind="digest", **extra):
    """A typical domain call: a new request, about campaign 12."""
    return notify(
        kind=kind,
        recipients=[
            r if isinstance(r, Recipient) else Recipient(email=r, name="Cellule de crise")
            for r in recipients
        ],
        subject=extra.pop("subject", "Nouvelle demande : lits de réanimation"),
        template="notifications/emails/message",
        context=extra.pop(
            "context",
            {
                "intro": "La DGOS vous adresse une nouvelle demande.",
                "lines": ["Lits de réanimation — période 2026-W49 — échéance le 04/12/2026"],
                "action_label": "Ouvrir la boîte de réception",
            },
        ),
        link=extra.pop("link", "/collecte/"),
        about=extra.pop("about", {"campaign": 12}),
        dedup_subject=dedup,
        **extra,
    )


def wait_until(predicate, timeout=30.0, message="condition"):
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"délai dépassé : {message}")
        time.sleep(0.1)


def statuses():
    return dict(Notification.objects.values_list("email", "status"))
