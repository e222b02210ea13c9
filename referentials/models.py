"""The directory: territories, FINESS legal entities (EJ) and establishments (ET), RPPS
professionals, and the curation that survives imports.

Identifiers are strings (``2A0000030``, ``970102018``); territories are INSEE codes, with
Saint-Barthélemy (977) and Saint-Martin (978) told apart from Guadeloupe (971). Nothing here is
ever deleted by an import: what disappears from a source is closed, what comes back reopens.
"""

from django.contrib.auth.models import AnonymousUser
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import Q

from accounts.models import Organisation, User
from accounts.scoping import scope_for
from referentials.validation import ValueType

# --- Territories (INSEE) ----------------------------------------------------------------------


class Region(models.Model):
    class Zone(models.TextChoices):
        METRO = "metro", "France métropolitaine"
        DROM = "drom", "Département et région d'outre-mer"
        COM = "com", "Collectivité d'outre-mer"

    code = models.CharField("code INSEE", max_length=3, primary_key=True)
    name = models.CharField("nom", max_length=100)
    zone = models.CharField("zone", max_length=5, choices=Zone.choices)

    class Meta:
        verbose_name = "région"
        verbose_name_plural = "régions"
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"


class Territory(models.Model):
    """A department or an overseas collectivity, each under its own INSEE code."""

    code = models.CharField("code INSEE", max_length=3, primary_key=True)
    name = models.CharField("nom", max_length=100)
    region = models.ForeignKey(Region, on_delete=models.PROTECT, related_name="territories")

    class Meta:
        verbose_name = "territoire"
        verbose_name_plural = "territoires"
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"


class Commune(models.Model):
    code = models.CharField("code INSEE", max_length=5, primary_key=True)
    name = models.CharField("nom", max_length=100)
    territory = models.ForeignKey(Territory, on_delete=models.PROTECT, related_name="communes")
    postcodes = models.JSONField("codes postaux", default=list, blank=True)

    class Meta:
        verbose_name = "commune"
        verbose_name_plural = "communes"
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"


# --- Imports ----------------------------------------------------------------------------------


class ImportRun(models.Model):
    """One import of one source file: what it was, what it did, what it refused."""

    class Source(models.TextChoices):
        FINESS_ETALAB = "finess_etalab", "FINESS (extraction etalab 501/502/507)"
        FINESS_PLUS = "finess_plus", "FiNESS+ (JSON)"
        RPPS = "rpps", "RPPS (personne-activité)"
        TERRITORIES = "territories", "Territoires INSEE"

    class Status(models.TextChoices):
        RUNNING = "running", "En cours"
        SUCCEEDED = "succeeded", "Terminé"
        DRY_RUN = "dry_run", "Simulation (rien n'a été modifié)"
        REFUSED = "refused", "Refusé (rien n'a été modifié)"
        FAILED = "failed", "Échec (rien n'a été modifié)"

    source = models.CharField("source", max_length=20, choices=Source.choices)
    file_name = models.CharField("fichier", max_length=255)
    # The original upload, kept (nothing lost): set when the file came through the admin.
    stored_file = models.FileField("fichier conservé", upload_to="imports/%Y/%m/", blank=True)
    checksum = models.CharField("empreinte SHA-256", max_length=64, db_index=True)
    extract_date = models.DateField("date d'extraction", null=True, blank=True)
    status = models.CharField("état", max_length=10, choices=Status.choices, default=Status.RUNNING)
    dry_run = models.BooleanField("simulation", default=False)
    forced = models.BooleanField("forcé (--force)", default=False)
    # created, updated, unchanged, closed, reopened, rejected, and per-source extras.
    counts = models.JSONField("compteurs", default=dict, blank=True)
    # [{"line": 12, "field": "nofinesset", "reason": "..."}], capped (see importers).
    rejected_lines = models.JSONField("lignes rejetées", default=list, blank=True)
    # Where the source now disagrees with a curator's correction.
    disagreements = models.JSONField("désaccords avec les corrections", default=list, blank=True)
    message = models.TextField("message", blank=True)
    progress = models.PositiveIntegerField("lignes traitées", default=0)
    started_by = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    started_at = models.DateTimeField("début", auto_now_add=True)
    finished_at = models.DateTimeField("fin", null=True, blank=True)

    class Meta:
        verbose_name = "import de référentiel"
        verbose_name_plural = "imports de référentiels"
        ordering = ["-started_at"]

    def __str__(self) -> str:
        return f"{self.get_source_display()} — {self.file_name} ({self.get_status_display()})"


# --- FINESS -----------------------------------------------------------------------------------


class Category(models.Model):
    """FINESS establishment category and its aggregate, as the files give them."""

    code = models.CharField("code", max_length=3, unique=True)
    label = models.CharField("libellé", max_length=255)
    aggregate_code = models.CharField("code de catégorie agrégée", max_length=4, blank=True)
    aggregate_label = models.CharField("catégorie agrégée", max_length=255, blank=True)

    class Meta:
        verbose_name = "catégorie d'établissement"
        verbose_name_plural = "catégories d'établissement"
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.code} — {self.label}"


class Status(models.TextChoices):
    OPEN = "open", "Ouvert"
    CLOSED = "closed", "Fermé"


class LegalEntity(models.Model):
    finess = models.CharField("numéro FINESS EJ", max_length=9, unique=True)
    name = models.CharField("raison sociale", max_length=255)
    long_name = models.CharField("raison sociale longue", max_length=255, blank=True)
    siren = models.CharField("SIREN", max_length=9, blank=True)
    legal_status_code = models.CharField("statut juridique", max_length=4, blank=True)
    legal_status_label = models.CharField("libellé du statut juridique", max_length=255, blank=True)
    address = models.CharField("adresse", max_length=255, blank=True)
    postcode = models.CharField("code postal", max_length=5, blank=True)
    city = models.CharField("commune", max_length=255, blank=True)
    commune_code = models.CharField("code commune INSEE", max_length=5, blank=True)
    finess_department = models.CharField("département FINESS", max_length=2, blank=True)
    territory_code = models.CharField("territoire", max_length=3, db_index=True)
    phone = models.CharField("téléphone", max_length=20, blank=True)
    status = models.CharField("statut", max_length=10, choices=Status.choices, default=Status.OPEN)
    opened_on = models.DateField("date de création", null=True, blank=True)
    closed_at = models.DateField("fermée le", null=True, blank=True)
    source_updated_on = models.DateField("mise à jour dans la source", null=True, blank=True)
    # Hash of the source fields: an unchanged row is skipped without being compared field by field.
    row_hash = models.CharField(max_length=32, blank=True)
    last_import = models.ForeignKey(
        ImportRun, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "entité juridique"
        verbose_name_plural = "entités juridiques"
        ordering = ["name"]

    def __str__(self) -> str:
        return f"{self.name} ({self.finess})"


class EstablishmentQuerySet(models.QuerySet["Establishment"]):
    def visible_to(
        self, user: User | AnonymousUser, *, roles: list[str] | None = None
    ) -> "EstablishmentQuerySet":
        """What ``user`` may see, through the memberships holding one of ``roles`` (all if None)."""
        return self.filter(scope_for(user, roles=roles).establishments_q())

    def open(self) -> "EstablishmentQuerySet":
        return self.filter(status=Status.OPEN)


class Establishment(models.Model):
    Status = Status

    # Fields a curator may correct; the correction is kept over later imports.
    CURATABLE_FIELDS = ("name", "long_name", "address", "postcode", "city", "phone", "email")

    finess = models.CharField("numéro FINESS ET", max_length=9, unique=True)
    legal_entity = models.ForeignKey(
        LegalEntity, on_delete=models.PROTECT, related_name="establishments"
    )
    name = models.CharField("raison sociale", max_length=255)
    long_name = models.CharField("raison sociale longue", max_length=255, blank=True)
    # Upper case, without accents or punctuation: what search compares (see referentials.search).
    search_text = models.CharField(max_length=600, blank=True, db_index=True)
    category_code = models.CharField("catégorie", max_length=3, db_index=True)
    category_label = models.CharField("libellé de catégorie", max_length=255)
    aggregate_category_code = models.CharField(
        "catégorie agrégée", max_length=4, blank=True, db_index=True
    )
    aggregate_category_label = models.CharField(
        "libellé de catégorie agrégée", max_length=255, blank=True
    )
    address = models.CharField("adresse", max_length=255, blank=True)
    postcode = models.CharField("code postal", max_length=5, blank=True)
    city = models.CharField("commune", max_length=255, blank=True)
    commune_code = models.CharField("code commune INSEE", max_length=5, blank=True)
    finess_department = models.CharField("département FINESS", max_length=2)
    territory_code = models.CharField("territoire (code INSEE)", max_length=3, db_index=True)
    region_code = models.CharField("région (code INSEE)", max_length=3, db_index=True)
    phone = models.CharField("téléphone", max_length=20, blank=True)
    fax = models.CharField("télécopie", max_length=20, blank=True)
    email = models.EmailField("adresse électronique", blank=True)
    siret = models.CharField("SIRET", max_length=14, blank=True)
    ape_code = models.CharField("code APE", max_length=5, blank=True)
    pricing_code = models.CharField("mode de fixation des tarifs", max_length=2, blank=True)
    pricing_label = models.CharField("libellé MFT", max_length=255, blank=True)
    sph_code = models.CharField("code SPH", max_length=2, blank=True)
    sph_label = models.CharField("libellé SPH", max_length=255, blank=True)
    opened_on = models.DateField("date d'ouverture", null=True, blank=True)
    authorised_on = models.DateField("date d'autorisation", null=True, blank=True)
    source_updated_on = models.DateField("mise à jour dans la source", null=True, blank=True)
    latitude = models.FloatField("latitude (WGS84)", null=True, blank=True)
    longitude = models.FloatField("longitude (WGS84)", null=True, blank=True)
    source_x = models.FloatField("X source", null=True, blank=True)
    source_y = models.FloatField("Y source", null=True, blank=True)
    source_crs = models.CharField("système de coordonnées source", max_length=120, blank=True)
    status = models.CharField("statut", max_length=10, choices=Status.choices, default=Status.OPEN)
    closed_at = models.DateField("fermé le", null=True, blank=True)
    row_hash = models.CharField(max_length=32, blank=True)
    last_import = models.ForeignKey(
        ImportRun, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = EstablishmentQuerySet.as_manager()

    class Meta:
        verbose_name = "établissement"
        verbose_name_plural = "établissements"
        ordering = ["name"]

    def __str__(self) -> str:
        return f"{self.name} ({self.finess})"


class Correction(models.Model):
    """A curator's correction of one field, applied over every later import until cleared."""

    establishment = models.ForeignKey(
        Establishment, on_delete=models.CASCADE, related_name="corrections"
    )
    field = models.CharField(
        "champ", max_length=30, choices=[(f, f) for f in Establishment.CURATABLE_FIELDS]
    )
    value = models.CharField("valeur corrigée", max_length=255, blank=True)
    # What the source said when the correction was made: a later import that brings something
    # else is reported as a disagreement.
    source_value = models.CharField("valeur de la source", max_length=255, blank=True)
    reason = models.TextField("motif", blank=True)
    created_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    cleared_by = models.ForeignKey(
        User, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    cleared_at = models.DateTimeField("levée le", null=True, blank=True)

    class Meta:
        verbose_name = "correction"
        verbose_name_plural = "corrections"
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["establishment", "field"],
                condition=Q(cleared_at__isnull=True),
                name="correction_one_active_per_field",
            )
        ]

    def __str__(self) -> str:
        return f"{self.establishment.finess} {self.field} = {self.value!r}"


class FunctionalContact(models.Model):
    """A functional address of an establishment (crisis cell, direction...), not a person's."""

    class Role(models.TextChoices):
        DIRECTION = "direction", "Direction"
        CRISIS = "crisis", "Cellule de crise"
        QUALITY = "quality", "Qualité et gestion des risques"
        MEDICAL_INFORMATION = "dim", "Information médicale (DIM)"
        PHARMACY = "pharmacy", "Pharmacie"
        NURSING = "nursing", "Direction des soins"
        OTHER = "other", "Autre"

    establishment = models.ForeignKey(
        Establishment, on_delete=models.CASCADE, related_name="contacts"
    )
    role = models.CharField("fonction", max_length=20, choices=Role.choices)
    label = models.CharField("intitulé", max_length=150, blank=True)
    email = models.EmailField("adresse électronique")
    phone = models.CharField("téléphone", max_length=20, blank=True)
    verified_on = models.DateField("vérifié le", null=True, blank=True)
    verified_by = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    is_active = models.BooleanField("actif", default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "contact fonctionnel"
        verbose_name_plural = "contacts fonctionnels"
        ordering = ["establishment", "role"]
        constraints = [
            models.UniqueConstraint(
                fields=["establishment", "role", "email"], name="contact_unique_per_role"
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_role_display()} — {self.email}"


class ChangeProposal(models.Model):
    """An establishment's respondent proposes corrections to its own record or contacts."""

    class Status(models.TextChoices):
        PENDING = "pending", "En attente"
        ACCEPTED = "accepted", "Acceptée"
        REJECTED = "rejected", "Refusée"

    establishment = models.ForeignKey(
        Establishment, on_delete=models.CASCADE, related_name="proposals"
    )
    # {"fields": {"phone": "05..."}, "contacts": [{"role": "crisis", "email": ..., "phone": ...}]}
    changes = models.JSONField("modifications proposées")
    comment = models.TextField("commentaire", blank=True)
    proposed_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    status = models.CharField("état", max_length=10, choices=Status.choices, default=Status.PENDING)
    reviewed_by = models.ForeignKey(
        User, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    reviewed_at = models.DateTimeField("examinée le", null=True, blank=True)
    review_comment = models.TextField("réponse", blank=True)

    class Meta:
        verbose_name = "proposition de correction"
        verbose_name_plural = "propositions de correction"
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.establishment.finess} — {self.get_status_display()}"


class DirectoryChange(models.Model):
    """History of every change to the directory: who, when, from which source."""

    class Source(models.TextChoices):
        IMPORT = "import", "Import"
        CURATOR = "curator", "Gestionnaire"
        PROPOSAL = "proposal", "Proposition de l'établissement"

    establishment = models.ForeignKey(
        Establishment, on_delete=models.CASCADE, null=True, blank=True, related_name="history"
    )
    legal_entity = models.ForeignKey(
        LegalEntity, on_delete=models.CASCADE, null=True, blank=True, related_name="history"
    )
    field = models.CharField("champ", max_length=40)
    old_value = models.TextField("ancienne valeur", blank=True)
    new_value = models.TextField("nouvelle valeur", blank=True)
    source = models.CharField("origine", max_length=10, choices=Source.choices)
    import_run = models.ForeignKey(
        ImportRun, on_delete=models.SET_NULL, null=True, blank=True, related_name="changes"
    )
    actor = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = "modification de l'annuaire"
        verbose_name_plural = "historique de l'annuaire"
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.field}: {self.old_value!r} → {self.new_value!r}"


# --- RPPS -------------------------------------------------------------------------------------


class Professional(models.Model):
    """A health professional from the RPPS: only what a survey service needs."""

    national_id = models.CharField("identifiant national", max_length=12, unique=True)
    rpps = models.CharField("numéro RPPS", max_length=11, blank=True, db_index=True)
    title = models.CharField("civilité d'exercice", max_length=40, blank=True)
    last_name = models.CharField("nom d'exercice", max_length=150)
    first_name = models.CharField("prénom d'exercice", max_length=150, blank=True)
    profession_code = models.CharField("code profession", max_length=4, db_index=True)
    profession_label = models.CharField("profession", max_length=150)
    specialty_code = models.CharField("code savoir-faire", max_length=8, blank=True)
    specialty_label = models.CharField("savoir-faire", max_length=255, blank=True)
    status = models.CharField("statut", max_length=10, choices=Status.choices, default=Status.OPEN)
    row_hash = models.CharField(max_length=32, blank=True)
    last_import = models.ForeignKey(
        ImportRun, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = "professionnel de santé"
        verbose_name_plural = "professionnels de santé"
        ordering = ["last_name", "first_name"]

    def __str__(self) -> str:
        return f"{self.first_name} {self.last_name} ({self.rpps or self.national_id})"


class ProfessionalActivity(models.Model):
    professional = models.ForeignKey(
        Professional, on_delete=models.CASCADE, related_name="activities"
    )
    mode_code = models.CharField("code mode d'exercice", max_length=2, blank=True, db_index=True)
    mode_label = models.CharField("mode d'exercice", max_length=60, blank=True)
    siret = models.CharField("SIRET du site", max_length=14, blank=True)
    finess_site = models.CharField("FINESS du site", max_length=9, blank=True, db_index=True)
    finess_legal_entity = models.CharField("FINESS de l'entité juridique", max_length=9, blank=True)
    structure_name = models.CharField("raison sociale du site", max_length=255, blank=True)
    postcode = models.CharField("code postal", max_length=5, blank=True)
    commune_code = models.CharField("code commune INSEE", max_length=5, blank=True)
    territory_code = models.CharField("territoire", max_length=3, blank=True, db_index=True)

    class Meta:
        verbose_name = "activité d'un professionnel"
        verbose_name_plural = "activités des professionnels"

    def __str__(self) -> str:
        return f"{self.professional} — {self.mode_label} {self.structure_name}"


class ReportingUnitQuerySet(models.QuerySet["ReportingUnit"]):
    def visible_to(
        self, user: User | AnonymousUser, *, roles: list[str] | None = None
    ) -> "ReportingUnitQuerySet":
        """Units ``user`` may see: establishments in their scope, their own professional unit."""
        return self.filter(scope_for(user, roles=roles).units_q())


class ReportingUnit(models.Model):
    """Who answers a survey: an establishment (FINESS ET) or a health professional (RPPS).

    Assignments and the value store key on this, so that a professional is treated exactly as
    an establishment. The scoping fields are copied from the directory (``referentials.units``
    keeps them fresh) so that ``Scope.units_q("unit__")`` filters without joins. A professional's
    territory is that of their first activity.
    """

    class Kind(models.TextChoices):
        ESTABLISHMENT = "establishment", "Établissement"
        PROFESSIONAL = "professional", "Professionnel de santé"

    kind = models.CharField("type", max_length=15, choices=Kind.choices)
    establishment = models.OneToOneField(
        Establishment,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="reporting_unit",
    )
    professional = models.OneToOneField(
        Professional,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="reporting_unit",
    )
    label = models.CharField("nom", max_length=255)
    territory_code = models.CharField("territoire", max_length=3, blank=True, db_index=True)
    legal_entity_finess = models.CharField(
        "FINESS de l'entité juridique", max_length=9, blank=True, db_index=True
    )
    finess = models.CharField("FINESS ET", max_length=9, blank=True, db_index=True)
    national_id = models.CharField("identifiant national RPPS", max_length=12, blank=True)

    objects = ReportingUnitQuerySet.as_manager()

    class Meta:
        verbose_name = "unité déclarante"
        verbose_name_plural = "unités déclarantes"
        ordering = ["label"]
        constraints = [
            models.CheckConstraint(
                condition=(
                    Q(kind="establishment", establishment__isnull=False, professional__isnull=True)
                    | Q(kind="professional", professional__isnull=False, establishment__isnull=True)
                ),
                name="reporting_unit_is_one_thing",
            )
        ]

    def __str__(self) -> str:
        return self.label

    @property
    def identifier(self) -> str:
        """FINESS for an establishment, RPPS for a professional: what people recognise."""
        return self.finess or self.national_id


# --- Dictionary of shared definitions ---------------------------------------------------------
# Every question of every survey points to a definition; every answer is checked by the engine
# built from these rows (referentials.validation). Writes go through referentials.dictionary,
# which refuses a silent change of meaning and keeps the history.

_CODE_HELP = "Lettres minuscules sans accent, chiffres et « _ », commençant par une lettre."
code_validator = RegexValidator(
    r"^[a-z][a-z0-9_]{0,63}$", f"Code invalide. {_CODE_HELP}", code="invalid_code"
)

VALUE_TYPE_LABELS = {
    ValueType.INTEGER: "Nombre entier",
    ValueType.DECIMAL: "Nombre décimal",
    ValueType.PERCENTAGE: "Pourcentage",
    ValueType.BOOLEAN: "Oui / non",
    ValueType.DATE: "Date",
    ValueType.TEXT: "Texte",
    ValueType.SINGLE_CHOICE: "Choix unique",
    ValueType.MULTIPLE_CHOICE: "Choix multiple",
    ValueType.FINESS: "Numéro FINESS",
    ValueType.RPPS: "Numéro RPPS",
}
CHOICE_TYPES = (ValueType.SINGLE_CHOICE, ValueType.MULTIPLE_CHOICE)
NUMERIC_TYPES = (ValueType.INTEGER, ValueType.DECIMAL, ValueType.PERCENTAGE)


class DictionaryStatus(models.TextChoices):
    DRAFT = "draft", "Brouillon"
    PUBLISHED = "published", "Publiée"
    DEPRECATED = "deprecated", "Obsolète"


class CodeList(models.Model):
    """A reusable list of choices (codes and labels) for single and multiple choice questions."""

    code = models.CharField("code", max_length=64, unique=True, validators=[code_validator])
    label = models.CharField("libellé", max_length=200)

    class Meta:
        verbose_name = "liste de codes"
        verbose_name_plural = "listes de codes"
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.label} ({self.code})"


class CodeListItem(models.Model):
    code_list = models.ForeignKey(
        CodeList, on_delete=models.CASCADE, related_name="items", verbose_name="liste"
    )
    code = models.CharField("code", max_length=64)
    label = models.CharField("libellé", max_length=200)
    order = models.PositiveIntegerField("ordre", default=0)

    class Meta:
        verbose_name = "élément de liste de codes"
        verbose_name_plural = "éléments de listes de codes"
        ordering = ["code_list", "order", "code"]
        constraints = [
            models.UniqueConstraint(
                fields=["code_list", "code"],
                name="codelistitem_unique_code",
                violation_error_message="Ce code figure déjà dans la liste : chaque code est "
                "unique dans sa liste.",
            )
        ]

    def __str__(self) -> str:
        return f"{self.code} — {self.label}"


class Theme(models.Model):
    code = models.CharField("code", max_length=64, unique=True, validators=[code_validator])
    label = models.CharField("libellé", max_length=200)

    class Meta:
        verbose_name = "thème"
        verbose_name_plural = "thèmes"
        ordering = ["label"]

    def __str__(self) -> str:
        return self.label


class Definition(models.Model):
    """A shared notion: what to count, how, in which unit, within which bounds.

    The *meaning* (``MEANING_FIELDS``) of a published definition never changes: a new meaning is
    a new definition that deprecates this one. Wording (label, doctrine, synonyms) may be fixed,
    each fix bumping ``version`` and leaving a ``DefinitionRevision``.
    """

    Status = DictionaryStatus

    class TimeAggregation(models.TextChoices):
        STOCK = "stock", "Stock : dernière valeur de la période"
        FLOW = "flow", "Flux : somme sur la période"
        LEVEL = "level", "Niveau : moyenne sur la période"

    class EstablishmentAggregation(models.TextChoices):
        SUM = "sum", "Somme"
        MEAN = "mean", "Moyenne"
        NONE = "none", "Ne s'agrège pas"

    MEANING_FIELDS = (
        "value_type",
        "unit",
        "minimum",
        "maximum",
        "decimals",
        "code_list",
        "time_aggregation",
        "establishment_aggregation",
    )
    WORDING_FIELDS = ("label", "doctrine", "synonyms")

    code = models.CharField(
        "code", max_length=64, unique=True, validators=[code_validator], help_text=_CODE_HELP
    )
    label = models.CharField("libellé", max_length=200)
    # Plain text, rendered with line breaks and escaped: never HTML.
    doctrine = models.TextField("doctrine de remplissage", blank=True)
    value_type = models.CharField(
        "type de valeur",
        max_length=20,
        choices=[(t.value, VALUE_TYPE_LABELS[t]) for t in ValueType],
    )
    unit = models.CharField("unité", max_length=40, blank=True)
    minimum = models.DecimalField("minimum", max_digits=20, decimal_places=4, null=True, blank=True)
    maximum = models.DecimalField("maximum", max_digits=20, decimal_places=4, null=True, blank=True)
    decimals = models.PositiveSmallIntegerField("décimales", null=True, blank=True)
    code_list = models.ForeignKey(
        CodeList,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="definitions",
        verbose_name="liste de codes",
    )
    time_aggregation = models.CharField(
        "agrégation dans le temps",
        max_length=10,
        choices=TimeAggregation.choices,
        default=TimeAggregation.STOCK,
    )
    establishment_aggregation = models.CharField(
        "agrégation entre établissements",
        max_length=10,
        choices=EstablishmentAggregation.choices,
        default=EstablishmentAggregation.SUM,
    )
    themes = models.ManyToManyField(Theme, blank=True, related_name="definitions")
    synonyms = models.JSONField("synonymes", default=list, blank=True)
    owner = models.ForeignKey(
        Organisation,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="organisation propriétaire",
    )
    status = models.CharField(
        "statut", max_length=10, choices=DictionaryStatus.choices, default=DictionaryStatus.DRAFT
    )
    replaced_by = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="replaces",
        verbose_name="remplacée par",
    )
    version = models.PositiveIntegerField("version", default=1)
    # Checks of the engine (see referentials.validation.DefinitionSpec).
    max_jump_ratio = models.DecimalField(
        "écart maximal avec la période précédente (rapport)",
        max_digits=8,
        decimal_places=2,
        null=True,
        blank=True,
    )
    directory_maximum = models.CharField(
        "plafond tiré de l'annuaire (nom du fait)", max_length=64, blank=True
    )
    # normalise(label + synonyms + doctrine): what the glossary search compares.
    search_text = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "définition"
        verbose_name_plural = "définitions"
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.label} ({self.code})"


class DefinitionRevision(models.Model):
    """Append-only history of a definition: one snapshot per version."""

    definition = models.ForeignKey(Definition, on_delete=models.CASCADE, related_name="revisions")
    version = models.PositiveIntegerField("version")
    snapshot = models.JSONField("état")
    changed_by = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    changed_at = models.DateTimeField("date", auto_now_add=True)
    comment = models.TextField("commentaire", blank=True)

    class Meta:
        verbose_name = "version d'une définition"
        verbose_name_plural = "historique des définitions"
        ordering = ["definition", "-version", "-id"]

    def __str__(self) -> str:
        return f"{self.definition.code} v{self.version}"


class PublishedItem(models.Model):
    """What rules and indicators share: a status, an owner, timestamps."""

    status = models.CharField(
        "statut",
        max_length=10,
        choices=DictionaryStatus.choices,
        default=DictionaryStatus.PUBLISHED,
    )
    owner = models.ForeignKey(
        Organisation,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="organisation propriétaire",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True


class Rule(PublishedItem):
    """A check across definitions, written in the expression language (referentials.expressions)."""

    Status = DictionaryStatus

    class Severity(models.TextChoices):
        ERROR = "error", "Erreur (bloque l'envoi)"
        WARNING = "warning", "Alerte (demande un commentaire)"

    code = models.CharField("code", max_length=64, unique=True, validators=[code_validator])
    expression = models.TextField("expression")
    condition = models.TextField("condition d'application", blank=True)
    severity = models.CharField(
        "gravité", max_length=10, choices=Severity.choices, default=Severity.ERROR
    )
    message = models.TextField("message affiché")

    class Meta:
        verbose_name = "règle"
        verbose_name_plural = "règles"
        ordering = ["code"]

    def __str__(self) -> str:
        return self.code


class Indicator(PublishedItem):
    """A number computed from definitions (and other indicators).

    Across establishments it is the expression evaluated on the SUMS of its inputs (ratio of
    sums), never the mean of each establishment's ratio: see dictionary.indicator_aggregate.
    """

    Status = DictionaryStatus

    code = models.CharField("code", max_length=64, unique=True, validators=[code_validator])
    label = models.CharField("libellé", max_length=200)
    expression = models.TextField("expression")
    unit = models.CharField("unité", max_length=40, blank=True)
    doctrine = models.TextField("doctrine", blank=True)

    class Meta:
        verbose_name = "indicateur"
        verbose_name_plural = "indicateurs"
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.label} ({self.code})"
