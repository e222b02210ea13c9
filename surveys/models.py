"""Surveys, their versions and questions; campaigns that send a version to an audience for
periods; and the assignments that say who owes what answer, for which period, by when.

A survey's versions are frozen once sent: editing a sent survey makes a new version, and every
period and assignment records the version it asks. Writes go through the services
(``surveys.builder``, ``surveys.campaigns``), which check and record who did what.
"""

from django.db import models
from django.db.models import Q

from accounts.models import Organisation, User
from referentials.models import Definition, ReportingUnit
from referentials.validation import ValueType
from surveys.periods import PERIOD_KIND_CHOICES

VALUE_TYPE_CHOICES = [(t.value, t.value) for t in ValueType]


class Survey(models.Model):
    """A survey's lasting identity; its content lives in its versions."""

    owner = models.ForeignKey(
        Organisation,
        on_delete=models.PROTECT,
        related_name="surveys",
        verbose_name="organisation propriétaire",
    )
    created_by = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "enquête"
        verbose_name_plural = "enquêtes"
        ordering = ["-created_at"]

    def __str__(self) -> str:
        latest = self.versions.order_by("-number").first()
        return latest.title if latest else f"Enquête {self.pk}"


class LegalBasis(models.TextChoices):
    """Lawfulness of processing (GDPR article 6), as a data protection officer asks for it."""

    LEGAL_OBLIGATION = "legal_obligation", "Obligation légale (art. 6-1-c RGPD)"
    PUBLIC_INTEREST = "public_interest", "Mission d'intérêt public (art. 6-1-e RGPD)"
    VITAL_INTEREST = "vital_interest", "Sauvegarde des intérêts vitaux (art. 6-1-d RGPD)"
    CONSENT = "consent", "Consentement (art. 6-1-a RGPD)"


class SurveyVersion(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", "Brouillon"
        FROZEN = "frozen", "Figée (envoyée)"

    survey = models.ForeignKey(Survey, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField("version", default=1)
    title = models.CharField("titre", max_length=200)
    purpose = models.TextField("finalité")
    legal_basis = models.CharField("base légale", max_length=20, choices=LegalBasis.choices)
    legal_reference = models.CharField(
        "texte de référence",
        max_length=300,
        blank=True,
        help_text="Par exemple « CSP, art. L. 1435-6 ».",
    )
    status = models.CharField("statut", max_length=10, choices=Status.choices, default=Status.DRAFT)
    created_by = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    frozen_at = models.DateTimeField("figée le", null=True, blank=True)
    frozen_by = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = "version d'enquête"
        verbose_name_plural = "versions d'enquête"
        ordering = ["survey", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["survey", "number"], name="survey_version_unique"),
            # At most one draft per survey: the one being edited.
            models.UniqueConstraint(
                fields=["survey"], condition=Q(status="draft"), name="survey_one_draft"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.title} (v{self.number})"

    @property
    def is_frozen(self) -> bool:
        return self.status == self.Status.FROZEN


class Section(models.Model):
    version = models.ForeignKey(SurveyVersion, on_delete=models.CASCADE, related_name="sections")
    title = models.CharField("titre", max_length=200)
    description = models.TextField("présentation", blank=True)
    order = models.PositiveIntegerField("ordre", default=0)

    class Meta:
        verbose_name = "section"
        verbose_name_plural = "sections"
        ordering = ["version", "order", "pk"]

    def __str__(self) -> str:
        return self.title


class Question(models.Model):
    """A question bound to a dictionary definition, or ad hoc with its own label and type.

    ``code`` is the definition's code when bound; it is what conditions, rules, spreadsheet
    columns and API payloads name. For an ad-hoc question the type, bounds and choices are its
    own; for a bound one they are the definition's and these fields stay empty.
    """

    version = models.ForeignKey(SurveyVersion, on_delete=models.CASCADE, related_name="questions")
    section = models.ForeignKey(Section, on_delete=models.CASCADE, related_name="questions")
    order = models.PositiveIntegerField("ordre", default=0)
    code = models.CharField("code", max_length=64)
    definition = models.ForeignKey(
        Definition,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="questions",
        verbose_name="définition",
    )
    label = models.CharField("libellé", max_length=300, blank=True)
    value_type = models.CharField(
        "type de valeur", max_length=20, choices=VALUE_TYPE_CHOICES, blank=True
    )
    # Ad-hoc choices: [{"code": "oui", "label": "Oui"}, ...]
    choices = models.JSONField("choix", default=list, blank=True)
    unit = models.CharField("unité", max_length=40, blank=True)
    minimum = models.DecimalField("minimum", max_digits=20, decimal_places=4, null=True, blank=True)
    maximum = models.DecimalField("maximum", max_digits=20, decimal_places=4, null=True, blank=True)
    decimals = models.PositiveSmallIntegerField("décimales", null=True, blank=True)
    required = models.BooleanField("obligatoire", default=False)
    # Empty: the definition's doctrine is shown.
    help_text = models.TextField("aide", blank=True)
    # An expression of referentials.expressions; the question is shown when it is true.
    condition = models.TextField("condition d'affichage", blank=True)

    class Meta:
        verbose_name = "question"
        verbose_name_plural = "questions"
        ordering = ["version", "section__order", "order", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["version", "code"], name="question_code_unique"),
        ]

    def __str__(self) -> str:
        return self.label or self.code

    @property
    def is_ad_hoc(self) -> bool:
        return self.definition_id is None


class Frequency(models.TextChoices):
    ONCE = "once", "Une seule période"
    DAILY = "daily", "Chaque jour"
    WEEKLY = "weekly", "Chaque semaine"
    MONTHLY = "monthly", "Chaque mois"
    QUARTERLY = "quarterly", "Chaque trimestre"
    YEARLY = "yearly", "Chaque année"


class OverlapChoice(models.TextChoices):
    NONE = "none", "Aucun chevauchement"
    REUSE = "reuse", "Réutiliser les valeurs déjà demandées"
    COORDINATE = "coordinate", "Demander à l'autre campagne d'ajouter les questions"
    SEND_ANYWAY = "send_anyway", "Envoyer malgré tout (justifié)"


class Campaign(models.Model):
    """A survey sent to an audience, for one period or for recurring periods."""

    class Status(models.TextChoices):
        DRAFT = "draft", "Brouillon"
        SCHEDULED = "scheduled", "Programmée"
        OPEN = "open", "Ouverte"
        CLOSED = "closed", "Clôturée"

    survey = models.ForeignKey(Survey, on_delete=models.PROTECT, related_name="campaigns")
    # The version sent to the periods that open from now on.
    version = models.ForeignKey(
        SurveyVersion, on_delete=models.PROTECT, related_name="campaigns", verbose_name="version"
    )
    owner = models.ForeignKey(
        Organisation,
        on_delete=models.PROTECT,
        related_name="campaigns",
        verbose_name="organisation demandeuse",
    )
    title = models.CharField("titre", max_length=200)
    status = models.CharField("statut", max_length=10, choices=Status.choices, default=Status.DRAFT)
    unit_kind = models.CharField(
        "destinataires",
        max_length=15,
        choices=ReportingUnit.Kind.choices,
        default=ReportingUnit.Kind.ESTABLISHMENT,
    )
    # The audience as chosen (filters, FINESS list, exclusions): see surveys.audience.
    audience_filters = models.JSONField("critères de l'audience", default=dict, blank=True)
    audience_size = models.PositiveIntegerField("taille de l'audience", default=0)
    # One period (frequency "once", period_kind gives its kind) or recurring periods.
    frequency = models.CharField(
        "fréquence", max_length=10, choices=Frequency.choices, default=Frequency.ONCE
    )
    period_kind = models.CharField(
        "type de période", max_length=10, choices=PERIOD_KIND_CHOICES, default="day"
    )
    start_date = models.DateField("début (première période)")
    end_date = models.DateField("fin (dernière période)", null=True, blank=True)
    # Due: the period's last day + due_offset_days, at due_time (negative: before its end).
    due_offset_days = models.IntegerField("délai après la fin de la période (jours)", default=0)
    due_time = models.TimeField("heure limite")
    # Corrections are accepted until the due time + this many days; then the period locks.
    correction_days = models.PositiveIntegerField(
        "jours de correction après l'échéance", default=30
    )
    # The crisis switch: a nominal campaign (monthly) moves to its crisis frequency (daily).
    crisis_frequency = models.CharField(
        "fréquence en crise", max_length=10, choices=Frequency.choices, blank=True
    )
    in_crisis = models.BooleanField("en mode crise", default=False)
    scheduled_for = models.DateTimeField("ouverture programmée le", null=True, blank=True)
    # Reminder policy (collection.notices.send_reminders); 0 switches a reminder off.
    remind_days_before = models.PositiveSmallIntegerField(
        "relance avant l'échéance (jours)", default=2
    )
    remind_on_due_day = models.BooleanField("relance le matin de l'échéance", default=True)
    remind_days_after = models.PositiveSmallIntegerField(
        "relance après l'échéance (jours)", default=1
    )
    escalate_after_days = models.PositiveSmallIntegerField(
        "signalement du retard (jours)", default=3
    )
    created_by = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    opened_at = models.DateTimeField("ouverte le", null=True, blank=True)
    closed_at = models.DateTimeField("clôturée le", null=True, blank=True)
    # What the requester chose after the overlap analysis (collection.overlaps), before sending.
    overlap_choice = models.CharField(
        "suite donnée aux chevauchements",
        max_length=12,
        choices=OverlapChoice.choices,
        blank=True,
    )
    overlap_justification = models.TextField("justification de l'envoi malgré tout", blank=True)
    overlap_analysed_at = models.DateTimeField("chevauchements analysés le", null=True, blank=True)
    overlap_decided_by = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # The analysis as it stood when the choice was made: counts and the overlapping campaigns
    # (see collection.overlaps.Analysis.as_summary); the register shows it.
    overlap_summary = models.JSONField("résumé des chevauchements", default=dict, blank=True)

    class Meta:
        verbose_name = "campagne"
        verbose_name_plural = "campagnes"
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["status", "owner"])]

    def __str__(self) -> str:
        return self.title

    @property
    def current_frequency(self) -> str:
        return self.crisis_frequency if self.in_crisis and self.crisis_frequency else self.frequency


class CampaignEvent(models.Model):
    """Append-only history of a campaign: every status change, crisis switch, exemption."""

    class Kind(models.TextChoices):
        STATUS = "status", "Changement de statut"
        CRISIS = "crisis", "Bascule crise"
        EDIT = "edit", "Modification"
        EXEMPTION = "exemption", "Dispense"
        PERIOD = "period", "Ouverture d'une période"

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    from_status = models.CharField(max_length=10, blank=True)
    to_status = models.CharField(max_length=10, blank=True)
    actor = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    comment = models.TextField(blank=True)
    details = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "événement de campagne"
        verbose_name_plural = "historique des campagnes"
        ordering = ["campaign", "created_at", "pk"]

    def __str__(self) -> str:
        return f"{self.campaign_id} {self.kind} {self.to_status}"


class AudienceMember(models.Model):
    """The audience resolved to a fixed list when the campaign is sent."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="members")
    unit = models.ForeignKey(ReportingUnit, on_delete=models.PROTECT, related_name="+")

    class Meta:
        verbose_name = "destinataire"
        verbose_name_plural = "destinataires"
        constraints = [
            models.UniqueConstraint(fields=["campaign", "unit"], name="audience_member_unique")
        ]

    def __str__(self) -> str:
        return f"{self.campaign_id} → {self.unit_id}"


class CampaignPeriod(models.Model):
    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="periods")
    kind = models.CharField(max_length=10, choices=PERIOD_KIND_CHOICES)
    key = models.CharField("période", max_length=10)
    start = models.DateField("début")
    end = models.DateField("fin")
    due_at = models.DateTimeField("échéance")
    locks_at = models.DateTimeField("verrouillée le")
    # The survey version this period asks (a new version applies to the periods opened after).
    version = models.ForeignKey(SurveyVersion, on_delete=models.PROTECT, related_name="+")
    opened_at = models.DateTimeField("ouverte le", auto_now_add=True)

    class Meta:
        verbose_name = "période de campagne"
        verbose_name_plural = "périodes de campagne"
        ordering = ["campaign", "start"]
        constraints = [
            models.UniqueConstraint(fields=["campaign", "key"], name="campaign_period_unique")
        ]

    def __str__(self) -> str:
        return self.key


class Assignment(models.Model):
    """What one reporting unit owes one campaign for one period."""

    class Status(models.TextChoices):
        TODO = "todo", "À faire"
        IN_PROGRESS = "in_progress", "En cours"
        SUBMITTED = "submitted", "Transmise"
        LATE = "late", "En retard"
        EXEMPTED = "exempted", "Dispensée"

    OPEN_STATUSES = (Status.TODO, Status.IN_PROGRESS, Status.LATE)

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="assignments")
    period = models.ForeignKey(CampaignPeriod, on_delete=models.CASCADE, related_name="assignments")
    unit = models.ForeignKey(ReportingUnit, on_delete=models.PROTECT, related_name="assignments")
    version = models.ForeignKey(SurveyVersion, on_delete=models.PROTECT, related_name="+")
    status = models.CharField("statut", max_length=12, choices=Status.choices, default=Status.TODO)
    due_at = models.DateTimeField("échéance")
    submitted_at = models.DateTimeField("transmise le", null=True, blank=True)
    submitted_by = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    exemption_reason = models.TextField("motif de dispense", blank=True)
    exemption_requested_at = models.DateTimeField("dispense demandée le", null=True, blank=True)
    exemption_requested_by = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    exempted_at = models.DateTimeField("dispensée le", null=True, blank=True)
    exempted_by = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # Bumped by every save of answers: the second of two concurrent saves is told.
    revision = models.PositiveIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "demande"
        verbose_name_plural = "demandes"
        ordering = ["due_at", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["campaign", "period", "unit"], name="assignment_unique")
        ]
        indexes = [models.Index(fields=["unit", "status", "due_at"])]

    def __str__(self) -> str:
        return f"{self.campaign} — {self.unit} — {self.period.key}"


class CampaignReuse(models.Model):
    """A definition a campaign does not ask: its cells are served from the value store.

    ``source`` is the campaign whose answers serve it (the daily campaign serving a weekly
    one); without a source, values already in the store serve it. Written when the requester
    chooses reuse (collection.overlaps), read by collection.reuse.
    """

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="reuses")
    definition = models.ForeignKey(Definition, on_delete=models.PROTECT, related_name="+")
    source = models.ForeignKey(
        Campaign, on_delete=models.PROTECT, null=True, blank=True, related_name="served_to"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "réutilisation"
        verbose_name_plural = "réutilisations"
        constraints = [
            models.UniqueConstraint(
                fields=["campaign", "definition", "source"], name="campaign_reuse_unique"
            ),
            models.UniqueConstraint(
                fields=["campaign", "definition"],
                condition=Q(source__isnull=True),
                name="campaign_reuse_store_unique",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.campaign_id} réutilise {self.definition_id} de {self.source_id}"


class CoordinationRequest(models.Model):
    """A requester asks another campaign's owner to add definitions to their campaign."""

    class Status(models.TextChoices):
        PENDING = "pending", "En attente"
        ACCEPTED = "accepted", "Acceptée"
        DECLINED = "declined", "Refusée"
        WITHDRAWN = "withdrawn", "Retirée"

    requesting_campaign = models.ForeignKey(
        Campaign, on_delete=models.CASCADE, related_name="coordination_requests_sent"
    )
    target_campaign = models.ForeignKey(
        Campaign, on_delete=models.CASCADE, related_name="coordination_requests_received"
    )
    definitions = models.ManyToManyField(Definition, related_name="+")
    message = models.TextField("message", blank=True)
    status = models.CharField(
        "statut", max_length=10, choices=Status.choices, default=Status.PENDING
    )
    created_by = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    decided_by = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField("décidée le", null=True, blank=True)
    response = models.TextField("réponse", blank=True)
    # The target's version that added the definitions (its next periods ask them).
    applied_version = models.ForeignKey(
        SurveyVersion, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = "demande de coordination"
        verbose_name_plural = "demandes de coordination"
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.requesting_campaign_id} → {self.target_campaign_id} ({self.status})"
