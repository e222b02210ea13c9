"""The value store, and what answering leaves behind: drafts, uploads, API idempotency.

A value is keyed by (reporting unit, definition, period): two campaigns asking the same
definition of the same establishment for the same period read and write the same row. Every
change appends a ``ValueRevision``; nothing is overwritten without a trace. Writes go through
``collection.values``.
"""

from django.db import models
from django.db.models import Q

from accounts.models import ApiKey, User
from referentials.models import Definition, ReportingUnit
from surveys.models import Assignment, Campaign, Survey
from surveys.periods import PERIOD_KIND_CHOICES


class Channel(models.TextChoices):
    FORM = "form", "formulaire en ligne"
    SPREADSHEET = "spreadsheet", "tableur"
    API = "api", "API"


class Value(models.Model):
    class Status(models.TextChoices):
        SUBMITTED = "submitted", "Déclarée"
        QUERIED = "queried", "Questionnée"
        VALIDATED = "validated", "Validée"

    unit = models.ForeignKey(ReportingUnit, on_delete=models.PROTECT, related_name="values")
    # A definition of the dictionary, or (ad-hoc question) a survey and the question's code.
    definition = models.ForeignKey(
        Definition, on_delete=models.PROTECT, null=True, blank=True, related_name="values"
    )
    survey = models.ForeignKey(
        Survey, on_delete=models.PROTECT, null=True, blank=True, related_name="ad_hoc_values"
    )
    code = models.CharField("code", max_length=64)
    period_kind = models.CharField(max_length=10, choices=PERIOD_KIND_CHOICES)
    period_key = models.CharField("période", max_length=10)
    period_start = models.DateField()
    period_end = models.DateField()
    # The canonical typed value as JSON: numbers as decimal strings ("12", "0.5"), dates as
    # ISO strings, booleans, lists of codes for multiple choices; null for "no value".
    data = models.JSONField("valeur", null=True)
    # The same number as a decimal, for sums and averages in SQL (numeric types only).
    number = models.DecimalField(max_digits=24, decimal_places=6, null=True, blank=True)
    comment = models.TextField("commentaire", blank=True)
    status = models.CharField(
        "statut", max_length=10, choices=Status.choices, default=Status.SUBMITTED
    )
    # Latest provenance.
    campaign = models.ForeignKey(
        Campaign, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    assignment = models.ForeignKey(
        Assignment, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    channel = models.CharField("canal", max_length=12, choices=Channel.choices)
    changed_by = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    api_key = models.ForeignKey(
        ApiKey, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    changed_at = models.DateTimeField("modifiée le")
    revision_count = models.PositiveIntegerField(default=1)

    class Meta:
        verbose_name = "valeur"
        verbose_name_plural = "valeurs"
        constraints = [
            models.UniqueConstraint(
                fields=["unit", "definition", "period_key"],
                condition=Q(definition__isnull=False),
                name="value_unique_per_definition",
            ),
            models.UniqueConstraint(
                fields=["unit", "survey", "code", "period_key"],
                condition=Q(definition__isnull=True),
                name="value_unique_per_ad_hoc_question",
            ),
            models.CheckConstraint(
                condition=Q(definition__isnull=False) | Q(survey__isnull=False),
                name="value_has_a_definition_or_a_survey",
            ),
        ]
        indexes = [
            models.Index(fields=["definition", "period_key"]),
            models.Index(fields=["unit", "period_start"]),
        ]

    def __str__(self) -> str:
        return f"{self.unit} — {self.code} — {self.period_key} = {self.data!r}"


class ValueRevision(models.Model):
    """One change of a value: before, after, who, when, through which channel, and why."""

    value = models.ForeignKey(Value, on_delete=models.CASCADE, related_name="revisions")
    number = models.PositiveIntegerField()
    old_data = models.JSONField(null=True)
    new_data = models.JSONField(null=True)
    old_status = models.CharField(max_length=10, blank=True)
    new_status = models.CharField(max_length=10, blank=True)
    comment = models.TextField(blank=True)
    channel = models.CharField(max_length=12, choices=Channel.choices)
    changed_by = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    api_key = models.ForeignKey(
        ApiKey, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    campaign = models.ForeignKey(
        Campaign, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    assignment = models.ForeignKey(
        Assignment, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    changed_at = models.DateTimeField()

    class Meta:
        verbose_name = "révision d'une valeur"
        verbose_name_plural = "révisions des valeurs"
        ordering = ["value", "number"]
        constraints = [
            models.UniqueConstraint(fields=["value", "number"], name="value_revision_unique")
        ]

    def __str__(self) -> str:
        return f"{self.value_id} #{self.number}"


class Draft(models.Model):
    """Answers saved but not submitted: they stay out of the value store until submission."""

    assignment = models.OneToOneField(Assignment, on_delete=models.CASCADE, related_name="draft")
    answers = models.JSONField(default=dict)  # code -> raw text as typed
    comments = models.JSONField(default=dict)  # code -> justification of a warning
    updated_by = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "brouillon"
        verbose_name_plural = "brouillons"

    def __str__(self) -> str:
        return f"Brouillon de la demande {self.assignment_id}"


def upload_path(instance: "Upload", filename: str) -> str:
    return f"depots/{instance.created_at:%Y/%m}/{instance.sha256[:16]}-{filename}"


class Upload(models.Model):
    """A spreadsheet sent back: kept as received, whatever becomes of it."""

    class Status(models.TextChoices):
        RECEIVED = "received", "Reçu"
        CHECKED = "checked", "Vérifié, en attente de confirmation"
        REJECTED = "rejected", "Refusé"
        APPLIED = "applied", "Appliqué"

    file = models.FileField("fichier d'origine", upload_to=upload_path, max_length=300)
    original_name = models.CharField("nom du fichier", max_length=255)
    size = models.PositiveBigIntegerField("taille (octets)")
    sha256 = models.CharField(max_length=64)
    uploaded_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    campaign = models.ForeignKey(
        Campaign, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    status = models.CharField(
        "statut", max_length=10, choices=Status.choices, default=Status.RECEIVED
    )
    # The preview: counts of rows new / changed / unchanged / in error, and every issue with
    # its sheet, row, column and message.
    report = models.JSONField(default=dict, blank=True)
    annotated = models.FileField(
        "copie annotée", upload_to="depots/annotes/%Y/%m/", max_length=300, blank=True
    )
    created_at = models.DateTimeField()
    applied_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "dépôt de tableur"
        verbose_name_plural = "dépôts de tableurs"
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.original_name


class IdempotencyRecord(models.Model):
    """The answer given to an API call with an ``Idempotency-Key``, replayed on a retry."""

    api_key = models.ForeignKey(ApiKey, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=200)
    request_hash = models.CharField(max_length=64)
    status_code = models.PositiveSmallIntegerField()
    response = models.JSONField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["api_key", "key"], name="idempotency_unique")
        ]

    def __str__(self) -> str:
        return self.key


class ValueQuery(models.Model):
    """A requester's « please confirm or correct » on a value; the thread stays with the value.

    The establishment answers by confirming (with a comment) or by correcting (a new revision
    of the value). Writes go through ``collection.queries``.
    """

    class Status(models.TextChoices):
        OPEN = "open", "En attente de réponse"
        CONFIRMED = "confirmed", "Confirmée"
        CORRECTED = "corrected", "Corrigée"
        CLOSED = "closed", "Close"

    value = models.ForeignKey(Value, on_delete=models.CASCADE, related_name="queries")
    campaign = models.ForeignKey(
        Campaign, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    status = models.CharField("statut", max_length=10, choices=Status.choices, default=Status.OPEN)
    asked_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    asked_at = models.DateTimeField("posée le")
    closed_at = models.DateTimeField("close le", null=True, blank=True)

    class Meta:
        verbose_name = "question sur une valeur"
        verbose_name_plural = "questions sur des valeurs"
        ordering = ["-asked_at"]
        constraints = [
            # One open query per value at a time: a second one adds to the thread instead.
            models.UniqueConstraint(
                fields=["value"], condition=Q(status="open"), name="value_query_one_open"
            )
        ]

    def __str__(self) -> str:
        return f"Question {self.pk} sur la valeur {self.value_id}"


class ValueQueryMessage(models.Model):
    class Kind(models.TextChoices):
        QUESTION = "question", "Question"
        CONFIRMATION = "confirmation", "Confirmation"
        CORRECTION = "correction", "Correction"
        COMMENT = "comment", "Commentaire"
        VALIDATION = "validation", "Validation"

    query = models.ForeignKey(ValueQuery, on_delete=models.CASCADE, related_name="messages")
    kind = models.CharField(max_length=12, choices=Kind.choices)
    text = models.TextField("message", blank=True)
    author = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # The revision a correction made.
    revision = models.ForeignKey(
        ValueRevision, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField()

    class Meta:
        verbose_name = "message sur une valeur"
        verbose_name_plural = "messages sur des valeurs"
        ordering = ["query", "created_at", "pk"]

    def __str__(self) -> str:
        return f"{self.query_id} {self.kind}"


def export_path(instance: "Export", filename: str) -> str:
    return f"exports/{instance.created_at:%Y/%m}/{instance.pk}-{filename}"


class Export(models.Model):
    """A file built for a user (values, late list, open data), kept for a set time.

    Written by ``collection.exports``: small exports stream at once, large ones run as a Celery
    task that fills ``file`` and notifies the user when it is ready.
    """

    class Kind(models.TextChoices):
        VALUES_LONG = "values_long", "Valeurs (une ligne par valeur)"
        VALUES_WIDE = "values_wide", "Valeurs (une ligne par établissement et période)"
        LATE = "late", "Établissements en retard"
        OPEN_DATA = "open_data", "Données ouvertes (agrégats)"

    class Format(models.TextChoices):
        CSV = "csv", "CSV"
        XLSX = "xlsx", "Excel (XLSX)"

    class Status(models.TextChoices):
        QUEUED = "queued", "En attente"
        RUNNING = "running", "En cours"
        READY = "ready", "Prêt"
        FAILED = "failed", "Échec"
        EXPIRED = "expired", "Expiré"

    kind = models.CharField("contenu", max_length=12, choices=Kind.choices)
    format = models.CharField("format", max_length=4, choices=Format.choices)
    campaign = models.ForeignKey(
        Campaign, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # The filters as chosen (periods, territories, definitions), replayed by the task.
    params = models.JSONField(default=dict, blank=True)
    requested_by = models.ForeignKey(User, on_delete=models.CASCADE, related_name="+")
    status = models.CharField("statut", max_length=8, choices=Status.choices, default=Status.QUEUED)
    file = models.FileField("fichier", upload_to=export_path, max_length=300, blank=True)
    row_count = models.PositiveIntegerField("lignes", default=0)
    error = models.TextField("erreur", blank=True)
    created_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField("disponible jusqu'au", null=True, blank=True)

    class Meta:
        verbose_name = "export"
        verbose_name_plural = "exports"
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["requested_by", "created_at"])]

    def __str__(self) -> str:
        return f"Export {self.pk} ({self.kind}, {self.format})"
