"""Opening a campaign for 10,000 establishments, against the naive loop of ``save()``.

Run from the repository root, on PostgreSQL::

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/recueil_bench \\
        DJANGO_DEBUG=1 .venv/bin/python bench/bench_campaign_open.py [ESTABLISHMENTS]

Migrates the database if needed, writes its own rows (a legal entity with ESTABLISHMENTS sites,
a national directorate, a requester, a one-question survey) and measures in one run:

a. ``surveys.campaigns.campaign_open`` on a daily campaign whose audience is every site, the
   first time (the reporting units of the sites are created on the way);
b. the same on a second campaign (units exist): what every later campaign costs, with the
   share of the audience resolution (``surveys.audience.resolve_units``) timed alone;
c. the baseline: for a third campaign, the same rows (audience members, one period, the
   assignments) written the naive way, one ``save()`` per object in one transaction.

Every row it wrote is deleted at the end.
"""

import datetime as dt
import os
import sys
import time
from pathlib import Path

sys.dont_write_bytecode = True
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("DJANGO_SECRET_KEY", "bench-only-secret-key-not-used-anywhere-else")
os.environ.pop("REDIS_URL", None)

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.utils import timezone  # noqa: E402

from accounts.models import Membership, Organisation, Role, User  # noqa: E402
from referentials.identifiers import finess_is_valid  # noqa: E402
from referentials.models import Establishment, LegalEntity, ReportingUnit  # noqa: E402
from surveys import audience, campaigns  # noqa: E402
from surveys.models import (  # noqa: E402
    Assignment,
    AudienceMember,
    Campaign,
    CampaignPeriod,
    Question,
    Section,
    Survey,
    SurveyVersion,
)
from surveys.periods import period_of  # noqa: E402

COUNT = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000


def valid_finess(stem: str) -> str:
    for key in "0123456789":
        if finess_is_valid(stem + key):
            return stem + key
    raise AssertionError(stem)


def setup() -> tuple[User, Organisation, Survey, LegalEntity]:
    owner = Organisation.objects.create(kind="national", name="Bench DGOS", short_name="BENCH")
    user = User.objects.create_user(email="bench.campaign@sante.gouv.fr", password=None)
    Membership.objects.create(user=user, organisation=owner, role=Role.REQUESTER)
    legal_entity = LegalEntity.objects.create(
        finess=valid_finess("99990000"), name="Bench EJ", territory_code="75"
    )
    Establishment.objects.bulk_create(
        (
            Establishment(
                finess=valid_finess(f"99{n:06d}"),
                legal_entity=legal_entity,
                name=f"Établissement bench {n}",
                category_code="355",
                category_label="Centre Hospitalier (C.H.)",
                finess_department="75",
                territory_code="75",
                region_code="11",
                postcode="75013",
                city="PARIS",
            )
            for n in range(COUNT)
        ),
        batch_size=2000,
    )
    survey = Survey.objects.create(owner=owner, created_by=user)
    version = SurveyVersion.objects.create(
        survey=survey, title="Bench", purpose="Mesure", legal_basis="public_interest"
    )
    section = Section.objects.create(version=version, title="Capacités")
    Question.objects.create(
        version=version, section=section, code="lits", label="Lits", value_type="integer"
    )
    return user, owner, survey, legal_entity


def draft(user: User, owner: Organisation, survey: Survey, legal_entity: LegalEntity) -> Campaign:
    today = timezone.localdate()
    campaign = campaigns.campaign_create(
        survey=survey,
        owner=owner,
        title="Bench quotidien",
        unit_kind="establishment",
        frequency="daily",
        period_kind="day",
        start_date=today,
        end_date=today + dt.timedelta(days=30),
        due_offset_days=0,
        due_time=dt.time(23, 59),
        user=user,
    )
    campaign.audience_filters = {"legal_entities": [legal_entity.finess]}
    campaign.save(update_fields=["audience_filters"])
    return campaign


def timed_open(campaign: Campaign, user: User) -> float:
    start = time.perf_counter()
    campaigns.campaign_open(campaign=campaign, user=user)
    return time.perf_counter() - start


def naive(campaign: Campaign, unit_ids: list[int]) -> float:
    """The loop a first version writes: one INSERT per object."""
    start = time.perf_counter()
    with transaction.atomic():
        period = period_of("day", campaign.start_date)
        due_at = campaigns.due_at_for(campaign, period)
        row = CampaignPeriod(
            campaign=campaign,
            kind="day",
            key=period.key,
            start=period.start,
            end=period.end,
            due_at=due_at,
            locks_at=campaigns.locks_at_for(campaign, due_at),
            version=campaign.version,
        )
        row.save()
        for unit_id in unit_ids:
            AudienceMember(campaign=campaign, unit_id=unit_id).save()
            Assignment(
                campaign=campaign,
                period=row,
                unit_id=unit_id,
                version=campaign.version,
                due_at=due_at,
            ).save()
        campaign.status = Campaign.Status.OPEN
        campaign.save()
    return time.perf_counter() - start


def cleanup(owner: Organisation, user: User, legal_entity: LegalEntity) -> None:
    with transaction.atomic():
        ids = list(Campaign.objects.filter(owner=owner).values_list("pk", flat=True))
        Assignment.objects.filter(campaign_id__in=ids).delete()
        AudienceMember.objects.filter(campaign_id__in=ids).delete()
        Campaign.objects.filter(pk__in=ids).delete()
        SurveyVersion.objects.filter(survey__owner=owner).delete()
        Survey.objects.filter(owner=owner).delete()
        finess = Establishment.objects.filter(legal_entity=legal_entity).values("finess")
        ReportingUnit.objects.filter(finess__in=finess).delete()
        Establishment.objects.filter(legal_entity=legal_entity).delete()
        legal_entity.delete()
        user.delete()
        owner.delete()


def main() -> None:
    call_command("migrate", verbosity=0)
    print(f"Base : {connection.vendor} {connection.settings_dict['NAME']}, {COUNT} établissements")
    user, owner, survey, legal_entity = setup()
    try:
        first = draft(user, owner, survey, legal_entity)
        t_first = timed_open(first, user)
        second = draft(user, owner, survey, legal_entity)
        start = time.perf_counter()
        audience.resolve_units(campaign=second)  # the audience part alone, same rows
        t_resolve = time.perf_counter() - start
        t_second = timed_open(second, user)
        unit_ids = list(first.members.values_list("unit_id", flat=True))
        third = draft(user, owner, survey, legal_entity)
        t_naive = naive(third, unit_ids)
        for campaign in (first, second, third):
            count = Assignment.objects.filter(campaign=campaign).count()
            assert count == COUNT, (campaign.pk, count)
        print(f"a. campaign_open, unités créées au passage : {t_first:6.2f} s")
        print(f"b. campaign_open, unités existantes       : {t_second:6.2f} s")
        print(f"   dont résolution de l'audience (seule)  : {t_resolve:6.2f} s")
        print(f"   reste (gel, destinataires, demandes)   : {t_second - t_resolve:6.2f} s")
        print(f"c. boucle naïve de save()                  : {t_naive:6.2f} s")
        print(f"   gain b/c : x{t_naive / t_second:.1f}")
    finally:
        cleanup(owner, user, legal_entity)


if __name__ == "__main__":
    main()
