"""The outbox and what surrounds it: preferences, the delivery log, addresses that bounce.

This app is infrastructure: it knows users (accounts) and nothing of the domain. What a
notification is *about* (a campaign, assignments) is kept as opaque ids in ``about``, for the
domain's own delivery-log page.
"""

from django.conf import settings
from django.db import models


class Notification(models.Model):
    """One message to one recipient: a row of the outbox, written in the caller's transaction."""

    class Channel(models.TextChoices):
        EMAIL = "email", "Courriel"
        IN_APP = "in_app", "Dans le service"

    class Status(models.TextChoices):
        QUEUED = "queued", "En attente"
        SENDING = "sending", "En cours d'envoi"
        SENT = "sent", "Envoyée"
        FAILED = "failed", "Échec"

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="notifications",
        verbose_name="destinataire",
    )
    # Kept as typed by the domain (a functional address need not be a user, and a malformed
    # one must be recorded, so this is not an EmailField).
    email = models.CharField("adresse électronique", max_length=254, blank=True)
    name = models.CharField("nom", max_length=200, blank=True)
    kind = models.CharField("type", max_length=40)
    subject = models.CharField("objet", max_length=255)
    template = models.CharField("gabarit", max_length=200)
    context = models.JSONField("données du gabarit", default=dict, blank=True)
    link = models.CharField("lien", max_length=500, blank=True)
    about = models.JSONField("objet métier", default=dict, blank=True)
    channel = models.CharField(
        "canal", max_length=10, choices=Channel.choices, default=Channel.EMAIL
    )
    status = models.CharField("état", max_length=10, choices=Status.choices, default=Status.QUEUED)
    # Daily digest mode: held rows are sent merged by the digest task, never one by one.
    held_for_digest = models.BooleanField("réservée au récapitulatif", default=False)
    attempts = models.PositiveSmallIntegerField("tentatives", default=0)
    last_error = models.TextField("dernière erreur", blank=True)
    next_attempt_at = models.DateTimeField("prochaine tentative")
    # Who claimed the row for sending, and when (a stale claim is taken over by the sweep).
    claim = models.UUIDField(null=True, blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    # The notify() call that wrote the row: finds the rows it inserted in one query.
    batch = models.UUIDField(db_index=True)
    sent_at = models.DateTimeField("envoyée le", null=True, blank=True)
    read_at = models.DateTimeField("lue le", null=True, blank=True)
    created_at = models.DateTimeField("créée le", auto_now_add=True)
    # sha256 of (address or user, kind, subject key, day): a second notify() of the same thing
    # on the same day (beat firing twice, a retried task) inserts nothing.
    dedup_key = models.CharField(max_length=64, unique=True)

    class Meta:
        verbose_name = "notification"
        verbose_name_plural = "notifications"
        ordering = ["-created_at", "-pk"]
        indexes = [
            models.Index(fields=["status", "next_attempt_at"], name="notification_due"),
            models.Index(fields=["recipient", "read_at"], name="notification_unread"),
            models.Index(fields=["email"], name="notification_email"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} → {self.email or self.recipient_id} : {self.subject}"

    @property
    def address(self) -> str:
        return self.email or (self.recipient.email if self.recipient else "")


class Preference(models.Model):
    class DigestMode(models.TextChoices):
        IMMEDIATE = "immediate", "Dès qu'une demande arrive"
        DAILY = "daily", "Une fois par jour, à 7 h"

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notification_preference"
    )
    digest_mode = models.CharField(
        "récapitulatif des demandes",
        max_length=10,
        choices=DigestMode.choices,
        default=DigestMode.IMMEDIATE,
    )
    # Kinds for which the user asked for no e-mail: they still appear in the in-app centre.
    muted_kinds = models.JSONField("types sans courriel", default=list, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "préférence de notification"
        verbose_name_plural = "préférences de notification"

    def __str__(self) -> str:
        return f"{self.user} : {self.get_digest_mode_display()}"


class DeliveryAttempt(models.Model):
    class Outcome(models.TextChoices):
        SENT = "sent", "Envoyée"
        RETRY = "retry", "Échec temporaire, nouvel essai prévu"
        FAILED = "failed", "Échec définitif"

    notification = models.ForeignKey(
        Notification, on_delete=models.CASCADE, related_name="delivery_attempts"
    )
    at = models.DateTimeField(auto_now_add=True)
    outcome = models.CharField(max_length=10, choices=Outcome.choices)
    smtp_code = models.PositiveSmallIntegerField(null=True, blank=True)
    smtp_message = models.TextField(blank=True)

    class Meta:
        verbose_name = "tentative d'envoi"
        verbose_name_plural = "tentatives d'envoi"
        ordering = ["at", "pk"]

    def __str__(self) -> str:
        return f"{self.notification_id} {self.outcome} {self.smtp_code or ''}"


class AddressProblem(models.Model):
    """An address that is malformed or that the SMTP server refused, with its answer."""

    class Reason(models.TextChoices):
        MALFORMED = "malformed", "Adresse mal formée"
        REFUSED = "refused", "Refusée par le serveur de messagerie"

    email = models.CharField("adresse électronique", max_length=254, unique=True)
    reason = models.CharField("motif", max_length=10, choices=Reason.choices)
    smtp_code = models.PositiveSmallIntegerField("code SMTP", null=True, blank=True)
    smtp_message = models.TextField("réponse du serveur", blank=True)
    first_seen_at = models.DateTimeField("constaté le", auto_now_add=True)
    last_seen_at = models.DateTimeField("dernière fois le", auto_now=True)
    occurrences = models.PositiveIntegerField("nombre de refus", default=1)

    class Meta:
        verbose_name = "adresse en erreur"
        verbose_name_plural = "adresses en erreur"
        ordering = ["email"]

    def __str__(self) -> str:
        return f"{self.email} : {self.get_reason_display()}"

    @property
    def description(self) -> str:
        """The French sentence a curator reads next to the contact."""
        if self.reason == self.Reason.MALFORMED:
            return "Adresse mal formée : aucun message ne peut lui être envoyé."
        answer = f" ({self.smtp_code} {self.smtp_message})" if self.smtp_code else ""
        return f"Le serveur de messagerie a refusé cette adresse{answer}."
