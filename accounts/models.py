"""Users, organisations and memberships: who a person is, where they work, in which role.

What a membership lets a user see is decided in one place, ``accounts.scoping``.
"""

from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.contrib.auth.models import AnonymousUser, PermissionsMixin
from django.db import models
from django.db.models import Q
from django.utils import timezone


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def _create(self, email: str, password: str | None, **extra: object) -> "User":
        if not email:
            raise ValueError("Une adresse électronique est obligatoire.")
        user = self.model(email=normalize_email(email), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email: str, password: str | None = None, **extra: object) -> "User":
        extra.setdefault("is_staff", False)
        extra.setdefault("is_superuser", False)
        return self._create(email, password, **extra)

    def create_superuser(self, email: str, password: str | None = None, **extra: object) -> "User":
        extra.update(is_staff=True, is_superuser=True)
        return self._create(email, password, **extra)

    def get_by_natural_key(self, username: str | None) -> "User":
        # Logins compare e-mails case-insensitively: staff type them every which way.
        return self.get(email=normalize_email(username or ""))


def normalize_email(email: str) -> str:
    return email.strip().lower()


class User(AbstractBaseUser, PermissionsMixin):
    email = models.EmailField("adresse électronique", unique=True)
    first_name = models.CharField("prénom", max_length=150, blank=True)
    last_name = models.CharField("nom", max_length=150, blank=True)
    phone = models.CharField("téléphone", max_length=30, blank=True)
    is_active = models.BooleanField("actif", default=True)
    is_staff = models.BooleanField("accès à l'administration technique", default=False)
    date_joined = models.DateTimeField("inscrit le", default=timezone.now)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS = []

    class Meta:
        verbose_name = "utilisateur"
        verbose_name_plural = "utilisateurs"
        ordering = ["email"]

    def __str__(self) -> str:
        return self.get_full_name() or self.email

    def clean(self) -> None:
        super().clean()
        self.email = normalize_email(self.email)

    def get_full_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()

    def get_short_name(self) -> str:
        return self.first_name or self.email


class OrganisationQuerySet(models.QuerySet["Organisation"]):
    def visible_to(self, user: "User | AnonymousUser") -> "OrganisationQuerySet":
        # Imported here because scoping reads these models; the rule itself lives there.
        from accounts.scoping import scope_for

        return self.filter(scope_for(user).organisations_q())


class Organisation(models.Model):
    class Kind(models.TextChoices):
        NATIONAL = "national", "Direction ou agence nationale"
        REGIONAL_AGENCY = "ars", "Agence régionale de santé"
        LEGAL_ENTITY = "legal_entity", "Entité juridique (FINESS EJ)"
        ESTABLISHMENT = "establishment", "Établissement (FINESS ET)"

    kind = models.CharField("type", max_length=20, choices=Kind.choices)
    name = models.CharField("nom", max_length=255)
    short_name = models.CharField("sigle", max_length=40, blank=True)
    # INSEE region code of an ARS ("11" Île-de-France, "01" Guadeloupe).
    region_code = models.CharField("code région INSEE", max_length=3, blank=True)
    # Territories (INSEE department or overseas collectivity codes) an ARS covers: ARS
    # Guadeloupe covers 971, 977 (Saint-Barthélemy) and 978 (Saint-Martin).
    covered_territories = models.JSONField("territoires couverts", default=list, blank=True)
    # Where a legal entity or an establishment stands (INSEE code, "2A", "977"...).
    territory_code = models.CharField("territoire", max_length=3, blank=True)
    # FINESS number of a legal entity (EJ) or of an establishment (ET), kept as a string.
    finess = models.CharField("numéro FINESS", max_length=9, blank=True)
    # For an establishment: the FINESS number of the legal entity that runs it.
    legal_entity_finess = models.CharField("FINESS de l'entité juridique", max_length=9, blank=True)
    is_active = models.BooleanField("active", default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = OrganisationQuerySet.as_manager()

    class Meta:
        verbose_name = "organisation"
        verbose_name_plural = "organisations"
        ordering = ["kind", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "finess"],
                condition=~Q(finess=""),
                name="organisation_unique_finess_per_kind",
            ),
            models.UniqueConstraint(
                fields=["region_code"],
                condition=Q(kind="ars"),
                name="organisation_one_ars_per_region",
            ),
            models.CheckConstraint(
                condition=(Q(kind__in=["legal_entity", "establishment"]) & ~Q(finess=""))
                | (Q(kind__in=["national", "ars"]) & Q(finess="")),
                name="organisation_finess_only_for_ej_et",
            ),
            models.CheckConstraint(
                condition=~Q(kind="ars") | ~Q(region_code=""),
                name="organisation_ars_has_region",
            ),
        ]

    def __str__(self) -> str:
        if self.finess:
            return f"{self.name} ({self.finess})"
        return self.short_name or self.name


class Role(models.TextChoices):
    CURATOR = "curator", "Gestionnaire des référentiels"
    REQUESTER = "requester", "Demandeur (conçoit et envoie les enquêtes)"
    VIEWER = "viewer", "Lecteur (consulte les résultats)"
    RESPONDENT = "respondent", "Répondant (établissement)"


# Which roles make sense in which kind of organisation: administrations ask, establishments
# answer. Enforced by the services that create memberships and invitations.
ROLES_BY_KIND: dict[str, tuple[str, ...]] = {
    Organisation.Kind.NATIONAL: (Role.CURATOR, Role.REQUESTER, Role.VIEWER),
    Organisation.Kind.REGIONAL_AGENCY: (Role.CURATOR, Role.REQUESTER, Role.VIEWER),
    Organisation.Kind.LEGAL_ENTITY: (Role.RESPONDENT,),
    Organisation.Kind.ESTABLISHMENT: (Role.RESPONDENT,),
}


class Membership(models.Model):
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="memberships")
    organisation = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, related_name="memberships"
    )
    role = models.CharField("rôle", max_length=20, choices=Role.choices)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "rattachement"
        verbose_name_plural = "rattachements"
        constraints = [
            models.UniqueConstraint(
                fields=["user", "organisation", "role"], name="membership_unique_role"
            )
        ]

    def __str__(self) -> str:
        return f"{self.user} — {self.get_role_display()} — {self.organisation}"


class Invitation(models.Model):
    """An e-mailed, single-use, expiring link to join an organisation in a role.

    Only a SHA-256 of the token is stored: a leaked database does not leak usable links.
    """

    email = models.EmailField("adresse électronique")
    organisation = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, related_name="invitations"
    )
    role = models.CharField("rôle", max_length=20, choices=Role.choices)
    token_hash = models.CharField(max_length=64, unique=True)
    invited_by = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, related_name="invitations_sent"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField("expire le")
    accepted_at = models.DateTimeField("acceptée le", null=True, blank=True)
    accepted_by = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = "invitation"
        verbose_name_plural = "invitations"
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.email} → {self.organisation} ({self.get_role_display()})"

    @property
    def is_expired(self) -> bool:
        return timezone.now() >= self.expires_at


class AuditEvent(models.Model):
    """Append-only record of every state change made through a service."""

    actor = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, related_name="+")
    action = models.CharField(max_length=80)
    target_type = models.CharField(max_length=80)
    target_id = models.CharField(max_length=64)
    details = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = "événement d'audit"
        verbose_name_plural = "journal d'audit"
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M} {self.action} {self.target_type}#{self.target_id}"


class ProfessionalClaim(models.Model):
    """A user's claim to be a health professional of the RPPS, verified by a curator.

    A professional answers for themself: once a claim is verified, the user is a respondent for
    that one reporting unit (see ``accounts.scoping``). The identity is kept as its RPPS
    identifiers, not a foreign key, so that this app knows no directory model.
    """

    class Status(models.TextChoices):
        PENDING = "pending", "En attente de vérification"
        VERIFIED = "verified", "Vérifiée"
        REJECTED = "rejected", "Refusée"
        WITHDRAWN = "withdrawn", "Retirée"

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="professional_claims")
    national_id = models.CharField("identifiant national (RPPS)", max_length=12)
    rpps = models.CharField("numéro RPPS", max_length=11, blank=True)
    status = models.CharField(
        "statut", max_length=10, choices=Status.choices, default=Status.PENDING
    )
    message = models.TextField("justificatif donné par le demandeur", blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    decided_by = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField("décidée le", null=True, blank=True)
    decision_comment = models.TextField("motif de la décision", blank=True)

    class Meta:
        verbose_name = "rattachement à une identité RPPS"
        verbose_name_plural = "rattachements à une identité RPPS"
        ordering = ["-created_at"]
        constraints = [
            # One person per professional identity, one identity per person.
            models.UniqueConstraint(
                fields=["national_id"],
                condition=Q(status="verified"),
                name="claim_one_verified_user_per_professional",
            ),
            models.UniqueConstraint(
                fields=["user"],
                condition=Q(status__in=["pending", "verified"]),
                name="claim_one_live_claim_per_user",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} → RPPS {self.rpps or self.national_id} ({self.get_status_display()})"


class ApiKey(models.Model):
    """A key an organisation's own system uses to call the API on its behalf.

    Shown once at creation; only a SHA-256 of it is stored (the key is 32 random bytes, so a
    plain hash is enough: nothing to brute-force). ``prefix`` finds the row without scanning.
    """

    organisation = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, related_name="api_keys"
    )
    name = models.CharField("nom", max_length=100)
    prefix = models.CharField("préfixe", max_length=12, unique=True)
    key_hash = models.CharField(max_length=64, unique=True)
    created_by = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, related_name="api_keys_created"
    )
    created_at = models.DateTimeField("créée le", auto_now_add=True)
    last_used_at = models.DateTimeField("dernière utilisation", null=True, blank=True)
    revoked_at = models.DateTimeField("révoquée le", null=True, blank=True)
    revoked_by = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = "clé d'API"
        verbose_name_plural = "clés d'API"
        ordering = ["organisation", "-created_at"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…) — {self.organisation}"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None
