"""The directory: FINESS legal entities (EJ) and establishments (ET).

Identifiers are strings (``2A0000030``, ``970102018``); territories are INSEE codes, with
Saint-Barthélemy (977) and Saint-Martin (978) told apart from Guadeloupe (971).
"""

from django.contrib.auth.models import AnonymousUser
from django.db import models

from accounts.models import User
from accounts.scoping import scope_for


class LegalEntity(models.Model):
    finess = models.CharField("numéro FINESS EJ", max_length=9, unique=True)
    name = models.CharField("raison sociale", max_length=255)
    territory_code = models.CharField("territoire", max_length=3, db_index=True)
    siren = models.CharField("SIREN", max_length=9, blank=True)

    class Meta:
        verbose_name = "entité juridique"
        verbose_name_plural = "entités juridiques"
        ordering = ["name"]

    def __str__(self) -> str:
        return f"{self.name} ({self.finess})"


class EstablishmentQuerySet(models.QuerySet["Establishment"]):
    def visible_to(self, user: User | AnonymousUser) -> "EstablishmentQuerySet":
        return self.filter(scope_for(user).establishments_q())


class Establishment(models.Model):
    class Status(models.TextChoices):
        OPEN = "open", "Ouvert"
        CLOSED = "closed", "Fermé"

    finess = models.CharField("numéro FINESS ET", max_length=9, unique=True)
    legal_entity = models.ForeignKey(
        LegalEntity, on_delete=models.PROTECT, related_name="establishments"
    )
    name = models.CharField("raison sociale", max_length=255)
    long_name = models.CharField("raison sociale longue", max_length=255, blank=True)
    category_code = models.CharField("catégorie", max_length=3, db_index=True)
    category_label = models.CharField("libellé de catégorie", max_length=255)
    aggregate_category_code = models.CharField("catégorie agrégée", max_length=4, blank=True)
    aggregate_category_label = models.CharField(
        "libellé de catégorie agrégée", max_length=255, blank=True
    )
    finess_department = models.CharField("département FINESS", max_length=2)
    territory_code = models.CharField("territoire (code INSEE)", max_length=3, db_index=True)
    region_code = models.CharField("région (code INSEE)", max_length=3, db_index=True)
    postcode = models.CharField("code postal", max_length=5, blank=True)
    city = models.CharField("commune", max_length=255, blank=True)
    phone = models.CharField("téléphone", max_length=20, blank=True)
    status = models.CharField("statut", max_length=10, choices=Status.choices, default=Status.OPEN)

    objects = EstablishmentQuerySet.as_manager()

    class Meta:
        verbose_name = "établissement"
        verbose_name_plural = "établissements"
        ordering = ["name"]

    def __str__(self) -> str:
        return f"{self.name} ({self.finess})"
