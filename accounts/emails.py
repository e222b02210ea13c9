"""E-mails that accounts sends itself (invitations). Password resets use Django's own view."""

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from accounts.models import Invitation


def invitation_send(*, invitation_id: int, token: str) -> None:
    invitation = Invitation.objects.select_related("organisation", "invited_by").get(
        pk=invitation_id
    )
    if invitation.accepted_at is not None:
        return  # a retried task must not mail a link that has been used
    context = {
        "invitation": invitation,
        "link": settings.SITE_URL + reverse("accounts:invitation_accept", args=[token]),
        "expires_at": timezone.localtime(invitation.expires_at),
        "site_name": settings.SITE_NAME,
    }
    message = EmailMultiAlternatives(
        subject=f"[{settings.SITE_NAME}] Invitation à rejoindre {invitation.organisation.name}",
        body=render_to_string("accounts/emails/invitation.txt", context),
        to=[invitation.email],
    )
    message.attach_alternative(
        render_to_string("accounts/emails/invitation.html", context), "text/html"
    )
    message.send()
