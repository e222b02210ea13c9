"""The burden of collection: cells asked, served from the store and sent anyway, per week and
region, each role seeing only its scope.

The scene (week 2026-W49, « today » Wednesday 2 December 2026):

- a daily campaign asks two definitions every day of Ehpad Edmar Lama (Cayenne) — Monday and Tuesday
  answered so far — and of Ehpad Les Tilleuls (Paris) on Monday: 2 x 2 + 2 = 6 cells;
- a weekly campaign asks three definitions of Ehpad Edmar Lama and of the clinic of
  Pointe-à-Pitre, reusing the two daily definitions: the Ehpad, in the daily campaign's
  audience, is asked 1 cell and served 2; the clinic, outside it, is asked 3;
- a campaign sent anyway asks one definition of the CH de Fleyriat (Ain): 1 cell.
"""

import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from collection import burden
from collection.models import Value
from surveys.models import AudienceMember, Campaign, CampaignReuse, OverlapChoice
from tests.collection.answering import assignment, campaign, unit_of
from tests.conftest import client_for
from tests.referentials.factories_dictionary import DefinitionFactory

TODAY = dt.date(2026, 12, 2)  # a Wednesday of ISO week 2026-W49
MONDAY = dt.date(2026, 11, 30)
WEEK = "2026-W49"


@pytest.fixture
def scene(cast):
    beds = DefinitionFactory(code="lits_installes", label="Lits installés")
    staff = DefinitionFactory(code="personnels_absents", label="Personnels absents")
    new = DefinitionFactory(code="residents_covid", label="Résidents Covid")
    ehpad, paris_ehpad = unit_of(cast.cayenne_ehpad), unit_of(cast.paris_ehpad)
    clinic, ain = unit_of(cast.pointe_a_pitre_clinic), unit_of(cast.ain_hospital)

    daily = campaign(
        title="Capacités quotidiennes",
        definitions=[beds, staff],
        start_date=MONDAY - dt.timedelta(days=7),
    )
    AudienceMember.objects.bulk_create(
        [AudienceMember(campaign=daily, unit=u) for u in (ehpad, paris_ehpad)]
    )
    for day in (MONDAY, MONDAY + dt.timedelta(days=1)):
        assignment(daily, ehpad, day=day)
    assignment(daily, paris_ehpad, day=MONDAY)

    weekly = campaign(
        title="Suivi hebdomadaire Ehpad",
        definitions=[beds, staff, new],
        frequency="weekly",
        period_kind="week",
        start_date=MONDAY,
        overlap_choice=OverlapChoice.REUSE,
    )
    for definition in (beds, staff):
        CampaignReuse.objects.create(campaign=weekly, definition=definition, source=daily)
    assignment(weekly, ehpad, day=MONDAY)
    assignment(weekly, clinic, day=MONDAY)

    anyway = campaign(
        title="Enquête envoyée malgré tout",
        definitions=[new],
        start_date=MONDAY,
        overlap_choice=OverlapChoice.SEND_ANYWAY,
        overlap_justification="Besoin d'un recueil propre à la cellule de crise.",
        overlap_summary={"covered": 5, "asked": 12, "campaigns": []},
    )
    assignment(anyway, ain, day=MONDAY)
    return {"beds": beds, "staff": staff, "new": new, "ehpad": ehpad, "clinic": clinic}


def totals(user, **kwargs):
    result = burden.burden_for(user=user, weeks=4, today=TODAY, **kwargs)
    return result, result.totals[WEEK]


def test_a_reused_definition_is_counted_as_served_not_asked(cast, scene):
    result, week = totals(cast.national_requester)
    assert (week.asked, week.served, week.sent_anyway) == (6 + 1 + 3 + 1, 2, 1)
    ehpad = next(u for u in result.units if u.pk == scene["ehpad"].pk)
    assert (ehpad.total.asked, ehpad.total.served) == (4 + 1, 2)
    clinic = next(u for u in result.units if u.pk == scene["clinic"].pk)
    assert (clinic.total.asked, clinic.total.served) == (3, 0)


def test_the_other_weeks_of_the_window_are_there_and_empty(cast, scene):
    result, _ = totals(cast.national_requester)
    assert [w.key for w in result.weeks] == [
        "2026-W45",
        "2026-W46",
        "2026-W47",
        "2026-W48",
        WEEK,
    ]
    assert result.totals["2026-W48"].asked == 0


def test_regions_split_the_country_and_sent_anyway_campaigns_are_listed(cast, scene):
    result, _ = totals(cast.national_requester)
    regions = {r.code: (r.total.asked, r.total.served, r.total.sent_anyway) for r in result.regions}
    assert regions == {"01": (3, 0, 0), "03": (5, 2, 0), "11": (2, 0, 0), "84": (1, 0, 1)}
    [sent] = result.sent_anyway
    assert (sent.title, sent.asked, sent.covered, sent.planned) == (
        "Enquête envoyée malgré tout",
        1,
        5,
        12,
    )


def test_reuse_rows_count_only_when_the_campaign_chose_reuse(cast, scene):
    Campaign.objects.filter(title="Suivi hebdomadaire Ehpad").update(
        overlap_choice=OverlapChoice.COORDINATE
    )
    _, week = totals(cast.national_requester)
    assert (week.asked, week.served) == (6 + 1 + 3 + 3, 0)


def test_a_unit_outside_the_source_audience_is_asked_everything(cast, scene):
    AudienceMember.objects.filter(unit=scene["ehpad"]).delete()
    _, week = totals(cast.national_requester)
    assert week.served == 0


def test_a_source_that_stops_before_the_week_ends_serves_nothing(cast, scene):
    # A stock of the week is the value of its Sunday: a source ending on Saturday cannot serve.
    Campaign.objects.filter(title="Capacités quotidiennes").update(end_date=dt.date(2026, 12, 5))
    _, week = totals(cast.national_requester)
    assert week.served == 0


def _store(unit, definition, day, number):
    return Value.objects.create(
        unit=unit,
        definition=definition,
        code=definition.code,
        period_kind="day",
        period_key=day.isoformat(),
        period_start=day,
        period_end=day,
        data=str(number),
        number=Decimal(number),
        channel="form",
        changed_at=timezone.now(),
    )


def test_the_store_serves_a_flow_only_from_seven_complete_days(cast, scene):
    new = scene["new"]
    new.time_aggregation = "flow"
    new.save()
    CampaignReuse.objects.create(
        campaign=Campaign.objects.get(title="Suivi hebdomadaire Ehpad"), definition=new, source=None
    )
    for offset in range(6):
        _store(scene["ehpad"], new, MONDAY + dt.timedelta(days=offset), 1)
    _, week = totals(cast.national_requester)
    assert week.served == 2  # six days of seven: the flow of the week is not served

    _store(scene["ehpad"], new, MONDAY + dt.timedelta(days=6), 1)
    _, week = totals(cast.national_requester)
    assert (week.asked, week.served) == (6 + 1 + 3 + 1 - 1, 3)


def test_the_store_serves_a_stock_from_the_last_day_of_the_week(cast, scene):
    CampaignReuse.objects.create(
        campaign=Campaign.objects.get(title="Suivi hebdomadaire Ehpad"),
        definition=scene["new"],
        source=None,
    )
    _store(scene["clinic"], scene["new"], MONDAY + dt.timedelta(days=5), 3)  # a Saturday
    assert totals(cast.national_requester)[1].served == 2
    _store(scene["clinic"], scene["new"], MONDAY + dt.timedelta(days=6), 3)  # the Sunday
    assert totals(cast.national_requester)[1].served == 3


def test_an_ars_sees_only_its_region(cast, scene):
    result, week = totals(cast.ars_guadeloupe_agent)
    assert (week.asked, week.served) == (3, 0)
    assert [r.code for r in result.regions] == ["01"]
    assert [u.pk for u in result.units] == [scene["clinic"].pk]
    assert result.sent_anyway == []
    assert not result.nationwide


def test_an_ars_cannot_drill_down_into_another_region(cast, scene):
    with pytest.raises(burden.ReportingUnit.DoesNotExist):
        burden.burden_for(user=cast.ars_guadeloupe_agent, today=TODAY, unit_id=scene["ehpad"].pk)


def test_an_ehpad_sees_only_itself(cast, scene):
    result, week = totals(cast.ehpad_respondent)
    assert not result.administration
    assert (week.asked, week.served) == (5, 2)
    [unit] = result.units
    assert unit.pk == scene["ehpad"].pk
    assert unit.open_requests == 3
    assert unit.weeks[WEEK].asked == 5
    assert result.regions == [] and result.sent_anyway == []


def test_the_page_shows_an_ehpad_its_figures_and_no_one_else(cast, scene, monkeypatch):
    monkeypatch.setattr(burden.timezone, "localdate", lambda: TODAY)
    response = client_for(cast.ehpad_respondent).get(reverse("collection:burden"), {"semaines": 4})
    html = response.content.decode()
    assert response.status_code == 200
    assert "Ehpad Edmar Lama" in html
    assert "Clinique des Eaux-Claires" not in html
    assert "CH de Fleyriat" not in html
    assert "Cellules demandées : 5" in html


def test_the_national_page_draws_both_charts_and_drills_down(cast, scene, monkeypatch):
    monkeypatch.setattr(burden.timezone, "localdate", lambda: TODAY)
    response = client_for(cast.national_requester).get(
        reverse("collection:burden"), {"semaines": 4, "unite": scene["ehpad"].pk}
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert 'id="burden-weeks-title"' in html and 'id="burden-regions-title"' in html
    assert 'id="burden-unit-title"' in html
    assert "recueil propre à la cellule de crise" in html


def test_a_drill_down_outside_the_scope_is_not_found(cast, scene):
    response = client_for(cast.ars_idf_agent).get(
        reverse("collection:burden"), {"unite": scene["ehpad"].pk}
    )
    assert response.status_code == 404


def test_the_count_of_queries_does_not_grow_with_the_assignments(cast, scene):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def queries():
        with CaptureQueriesContext(connection) as captured:
            burden.burden_for(user=cast.national_requester, weeks=4, today=TODAY)
        return len(captured)

    queries()  # the user's memberships are read once, then kept on the user
    before = queries()
    daily = Campaign.objects.get(title="Capacités quotidiennes")
    weekly = Campaign.objects.get(title="Suivi hebdomadaire Ehpad")
    for offset in range(2, 7):
        day = MONDAY + dt.timedelta(days=offset)
        assignment(daily, scene["ehpad"], day=day)
    for establishment in (cast.saint_martin_hospital, cast.saint_barthelemy_pmi):
        unit = unit_of(establishment)
        AudienceMember.objects.create(campaign=daily, unit=unit)
        assignment(weekly, unit, day=MONDAY)
    assert queries() == before
