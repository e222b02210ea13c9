"""Demo data for a laptop: real FINESS rows, every organisation kind, one user per role.

The directory is a real import of the shipped etalab excerpts (``referentials/data``) through
the FINESS importer, as production would load it.
"""

import datetime as dt
import random
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from accounts.models import Organisation, Role, User
from accounts.services import membership_add
from collection.values import Channel, submit
from referentials.dictionary import dictionary_load_seed
from referentials.importers.territories import import_territories
from referentials.models import Establishment, ImportRun, LegalEntity
from referentials.services import (
    directory_load_excerpt,
    establishment_organisation_ensure,
    legal_entity_organisation_ensure,
    organisations_seed,
)
from surveys.audience import audience_save
from surveys.builder import survey_from_json
from surveys.campaigns import campaign_create, campaign_open
from surveys.models import Assignment, Campaign

DATA = Path(__file__).resolve().parents[3] / "referentials" / "data"
EXCERPTS = [
    DATA / "finess-light-20260107-repaired.csv",
    DATA / "etalab-cs1100502-excerpt-20260512.csv",
]
DEMO_PASSWORD = "Demo-Recueil-2026"  # noqa: S105 - printed on purpose, refused outside DEBUG

# (e-mail, first name, last name, what they are, how to find their organisation, role)
CAST = [
    (
        "demandeur.dgos@demo.sante.fr",
        "Alice",
        "Martin",
        "demandeuse nationale (DGOS)",
        ("national", "DGOS"),
        Role.REQUESTER,
    ),
    (
        "lecteur.drees@demo.sante.fr",
        "Bruno",
        "Petit",
        "lecteur national (DREES)",
        ("national", "DREES"),
        Role.VIEWER,
    ),
    (
        "gestionnaire.referentiel@demo.sante.fr",
        "Chloé",
        "Bernard",
        "gestionnaire des référentiels (DGOS)",
        ("national", "DGOS"),
        Role.CURATOR,
    ),
    (
        "agent.ars-idf@demo.sante.fr",
        "David",
        "Leroy",
        "agent de l'ARS Île-de-France",
        ("ars", "11"),
        Role.REQUESTER,
    ),
    (
        "agent.ars-ara@demo.sante.fr",
        "Emma",
        "Roux",
        "agente de l'ARS Auvergne-Rhône-Alpes",
        ("ars", "84"),
        Role.REQUESTER,
    ),
    (
        "agent.ars-guadeloupe@demo.sante.fr",
        "Fabrice",
        "Jean-Baptiste",
        "agent de l'ARS Guadeloupe (avec Saint-Martin et Saint-Barthélemy)",
        ("ars", "01"),
        Role.REQUESTER,
    ),
    (
        "repondant.ehpad@demo.sante.fr",
        "Gisèle",
        "Thomas",
        "répondante de l'Ehpad Edmar Lama (Cayenne)",
        ("establishment", "970302287"),
        Role.RESPONDENT,
    ),
    (
        "repondant.hopital@demo.sante.fr",
        "Hugo",
        "Garnier",
        "répondant du CH de Fleyriat (Ain)",
        ("establishment", "010000024"),
        Role.RESPONDENT,
    ),
    (
        "repondant.groupe@demo.sante.fr",
        "Inès",
        "Faure",
        "répondante de l'entité juridique du CH de Cayenne (3 sites)",
        ("legal_entity", "970302022"),
        Role.RESPONDENT,
    ),
    ("sans.rattachement@demo.sante.fr", "Jules", "Morel", "compte sans organisation", None, None),
]


DEMO_CAMPAIGN = "Suivi quotidien des tensions (démonstration)"
# Bound to the seed definitions (referentials/data/dictionary_seed.json): the answers land in
# the one value store under these codes, and the seed rules apply (absents <= effectif).
DEMO_SURVEY = {
    "title": "Suivi quotidien des tensions",
    "purpose": "Suivre chaque jour le personnel, les protections et la tension des Ehpad et "
    "des hôpitaux pendant un épisode épidémique.",
    "legal_basis": "public_interest",
    "legal_reference": "CSP, art. L. 1413-1",
    "sections": [
        {
            "title": "Personnel",
            "questions": [
                {"definition": "effectif_personnel", "required": True},
                {"definition": "personnel_absent", "required": True},
                {"definition": "personnel_absent_covid"},
            ],
        },
        {
            "title": "Équipements et tension",
            "questions": [
                {"definition": "stock_masques_ffp2"},
                {"definition": "stock_masques_chirurgicaux"},
                {"definition": "niveau_tension", "required": True},
            ],
        },
    ],
}
# Ehpad, centres hospitaliers (CH, CHR) and the demo respondents' sites, named explicitly.
DEMO_AUDIENCE = {
    "categories": ["500", "355", "101"],
    "finess": ["970302287", "970300026", "010000024"],
}


# How many days of answers the demo holds: enough for the follow-up, the results, the outliers
# and « Mes données » to show something.
DEMO_HISTORY_DAYS = 14


def demo_campaign(requester: User) -> Campaign:
    """A daily campaign, open since ``DEMO_HISTORY_DAYS`` days, to the demo Ehpad and
    hospitals: the demo respondents find today's assignment in their inbox. Created once."""
    existing = Campaign.objects.filter(title=DEMO_CAMPAIGN).first()
    if existing is not None:
        return existing
    dgos = Organisation.objects.get(kind="national", short_name="DGOS")
    survey = survey_from_json(data=DEMO_SURVEY, owner=dgos, user=requester)
    today = timezone.localdate()
    campaign = campaign_create(
        survey=survey,
        owner=dgos,
        title=DEMO_CAMPAIGN,
        unit_kind="establishment",
        frequency="daily",
        period_kind="day",
        start_date=today,
        end_date=today + dt.timedelta(days=60),
        due_offset_days=0,
        due_time=dt.time(23, 0),
        crisis_frequency="",
        user=requester,
    )
    audience_save(campaign=campaign, filters=DEMO_AUDIENCE, user=requester)
    # The demo plays a campaign sent DEMO_HISTORY_DAYS days ago. The service refuses a start in
    # the past, as it should for a real requester, so the start is moved back here, as time
    # would have moved it; opening then creates every period up to today.
    Campaign.objects.filter(pk=campaign.pk).update(
        start_date=today - dt.timedelta(days=DEMO_HISTORY_DAYS)
    )
    campaign.refresh_from_db()
    return campaign_open(campaign=campaign, user=requester)


def demo_answers(campaign: Campaign) -> int:
    """Plausible answers for the past days, submitted through the one write path as the web
    form would. About nine establishments in ten answer each day; an answer the engine flags
    (an unusual jump from the day before, to be justified) stays unsent, as it would for a
    respondent who gave up: those assignments are late, and the follow-up shows them."""
    chance = random.Random(2020)  # noqa: S311 - demo figures, the same on every laptop
    today = timezone.localdate()
    submitted = 0
    staff: dict[int, int] = {}
    assignments = (
        Assignment.objects.filter(campaign=campaign, period__start__lt=today)
        .select_related("period", "unit", "version")
        .order_by("period__start", "unit_id")
    )
    for assignment in assignments:
        if chance.random() < 0.1:
            continue
        effectif = staff.setdefault(assignment.unit_id, chance.randint(40, 320))
        absent = chance.randint(0, effectif // 8)
        answers = {
            "effectif_personnel": effectif,
            "personnel_absent": absent,
            "personnel_absent_covid": chance.randint(0, absent),
            "stock_masques_ffp2": chance.randint(200, 5000),
            "stock_masques_chirurgicaux": chance.randint(1000, 20000),
            "niveau_tension": chance.choice(["1", "1", "2", "3"]),
        }
        answered_at = timezone.make_aware(
            dt.datetime.combine(assignment.period.start, dt.time(hour=chance.randint(8, 20)))
        )
        outcome = submit(assignment, answers, channel=Channel.FORM, now=answered_at)
        submitted += outcome.applied
    return submitted


DEMO_OVERLAPPING = (
    "Tensions hebdomadaires des centres hospitaliers d'Auvergne-Rhône-Alpes (démonstration)"
)
# An ARS draft that asks two definitions the DGOS already asks every day, and one new: its
# sending page shows the overlap and offers to reuse the daily answers.
DEMO_OVERLAPPING_SURVEY = {
    "title": "Tensions hebdomadaires des centres hospitaliers",
    "purpose": "Suivre chaque semaine le personnel, les masques et les lits de réanimation "
    "des centres hospitaliers de la région.",
    "legal_basis": "public_interest",
    "legal_reference": "CSP, art. L. 1431-2",
    "sections": [
        {
            "title": "Semaine écoulée",
            "questions": [
                {"definition": "effectif_personnel", "required": True},
                {"definition": "stock_masques_ffp2"},
                {"definition": "lits_rea_installes", "required": True},
            ],
        }
    ],
}


def demo_overlapping_draft(requester: User) -> Campaign:
    existing = Campaign.objects.filter(title=DEMO_OVERLAPPING).first()
    if existing is not None:
        return existing
    ars = Organisation.objects.get(kind="ars", region_code="84")
    survey = survey_from_json(data=DEMO_OVERLAPPING_SURVEY, owner=ars, user=requester)
    monday = timezone.localdate() - dt.timedelta(days=timezone.localdate().weekday())
    campaign = campaign_create(
        survey=survey,
        owner=ars,
        title=DEMO_OVERLAPPING,
        unit_kind="establishment",
        frequency="weekly",
        period_kind="week",
        start_date=monday,
        end_date=monday + dt.timedelta(weeks=8, days=6),
        due_offset_days=1,
        due_time=dt.time(12, 0),
        crisis_frequency="",
        user=requester,
    )
    audience_save(
        campaign=campaign, filters={"categories": ["355"], "regions": ["84"]}, user=requester
    )
    return campaign


class Command(BaseCommand):
    help = "Charge les données de démonstration (annuaire FINESS réel, organisations, comptes)."

    def handle(self, *args, **options):
        if not settings.DEBUG:
            raise CommandError(
                "Les données de démonstration (mots de passe connus) ne se chargent qu'avec "
                "DJANGO_DEBUG=1."
            )
        with transaction.atomic():
            import_territories()
            organisations_seed()
            dictionary_load_seed()  # the shared definitions, rules and indicators
            run = directory_load_excerpt(paths=EXCERPTS)
            if run.status != ImportRun.Status.SUCCEEDED:
                raise CommandError(f"Import de l'annuaire de démonstration : {run.message}")
            count = Establishment.objects.count()
            for establishment in Establishment.objects.select_related("legal_entity"):
                establishment_organisation_ensure(establishment=establishment)
            cayenne = LegalEntity.objects.get(finess="970302022")
            legal_entity_organisation_ensure(
                legal_entity=cayenne, name="Centre hospitalier de Cayenne (entité juridique)"
            )
            rows = []
            for email, first, last, what, org_key, role in CAST:
                user = User.objects.filter(email=email).first()
                if user is None:
                    user = User.objects.create_user(
                        email=email, password=DEMO_PASSWORD, first_name=first, last_name=last
                    )
                if org_key is not None:
                    kind, key = org_key
                    lookup = (
                        {"short_name": key}
                        if kind == "national"
                        else ({"region_code": key} if kind == "ars" else {"finess": key})
                    )
                    organisation = Organisation.objects.get(kind=kind, **lookup)
                    membership_add(
                        user=user, organisation=organisation, role=role, acting_user=None
                    )
                rows.append((email, what))
            admin = User.objects.filter(email="admin@demo.sante.fr").first()
            if admin is None:
                User.objects.create_superuser(email="admin@demo.sante.fr", password=DEMO_PASSWORD)
            rows.append(("admin@demo.sante.fr", "administration technique (/admin/)"))
            campaign = demo_campaign(User.objects.get(email="demandeur.dgos@demo.sante.fr"))
            if not campaign.assignments.filter(status=Assignment.Status.SUBMITTED).exists():
                demo_answers(campaign)
            answered = campaign.assignments.filter(status=Assignment.Status.SUBMITTED).count()
            draft = demo_overlapping_draft(User.objects.get(email="agent.ars-ara@demo.sante.fr"))
        self.stdout.write(
            self.style.SUCCESS(
                f"Annuaire : {count} établissements FINESS réels, importés par l'import FINESS "
                f"({run.message})"
            )
        )
        self.stdout.write(
            f"Campagne « {campaign.title} » : {campaign.get_status_display().lower()}, "
            f"{campaign.audience_size} établissements destinataires, {answered} réponses "
            f"transmises"
        )
        self.stdout.write(
            f"Brouillon de l'ARS Auvergne-Rhône-Alpes « {draft.title} » : sa page d'envoi "
            "montre le chevauchement avec la campagne quotidienne de la DGOS"
        )
        self.stdout.write(f"Comptes de démonstration (mot de passe commun : {DEMO_PASSWORD}) :")
        for email, what in rows:
            self.stdout.write(f"  {email:42} {what}")
