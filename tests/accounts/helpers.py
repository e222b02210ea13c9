"""Small helpers shared by the accounts behaviour tests."""

import html
import re
import time
from email.message import EmailMessage

from django.conf import settings
from django.test import Client
from django.urls import reverse


def page_text(response) -> str:
    """The page as a reader sees it: HTML entities (``&#x27;``...) turned back into text."""
    return html.unescape(response.content.decode())


def log_in(client: Client, email: str, password: str, **extra):
    """Log in through the real login form, as a person does (django-axes watches this path)."""
    return client.post(
        reverse("accounts:login"), {"username": email, "password": password}, **extra
    )


def parts(message: EmailMessage) -> tuple[str, str]:
    """The text and the HTML body of a mail; fails if either is missing."""
    text = message.get_body(preferencelist=("plain",))
    rich = message.get_body(preferencelist=("html",))
    assert text is not None, "le message n'a pas de partie texte"
    assert rich is not None, "le message n'a pas de partie HTML"
    return text.get_content(), rich.get_content()


def links(body: str, pattern: str) -> list[str]:
    """Every URL path in ``body`` whose path matches ``pattern`` (a regex over the path)."""
    found = re.findall(r"https?://[^/\s\"'<>]+(/[^\s\"'<>]*)", html.unescape(body))
    return [path for path in found if re.fullmatch(pattern, path)]


def settle(mailbox) -> None:
    """With a real Celery worker, give a stray second mail the time to show up."""
    if not settings.CELERY_TASK_ALWAYS_EAGER:
        time.sleep(1.0)
