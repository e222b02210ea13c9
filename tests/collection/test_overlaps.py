"""The overlap analysis: exact counts on small worlds, and the same counts as a cell-by-cell
reference (tests/collection/overlap_reference.py) on random ones."""

import datetime as dt
from decimal import Decimal

import pytest
from django.db import transaction
from django.utils import timezone
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from collection.models import Channel, Value
from collection.overlaps import analyse
from surveys.models import AudienceMember, Campaign
from surveys.periods import parse_period
from tests.accounts.factories import OrganisationFactory, dgos
from tests.collection.answering import campaign as make_campaign
from tests.collection.answering import unit_of
from tests.collection.overlap_reference import reference
from tests.referentials.factories import EstablishmentFactory
from tests.referentials.factories_dictionary import DefinitionFactory
from tests.surveys.factories import QuestionFactory

pytestmark = pytest.mark.django_db

# A Monday: weeks 2027-W02 (11-17 January) and 2027-W03 (18-24 January).
MONDAY = dt.date(2027, 1, 11)


def ehpad(region: str = "11", territory: str = "75"):
    return EstablishmentFactory(
        ehpad=True, region_code=region, territory_code=territory, finess_department=territory
    )


def definitions():
    beds = DefinitionFactory(code="lits_disponibles", time_aggregation="stock")
    admissions = DefinitionFactory(code="admissions", time_aggregation="flow")
    occupancy = DefinitionFactory(
        code="taux_occupation", time_aggregation="level", value_type="decimal"
    )
    staff = DefinitionFactory(code="personnels_absents", time_aggregation="stock")
    return beds, admissions, occupancy, staff


def sent(campaign, establishments):
    """An open campaign's fixed audience."""
    AudienceMember.objects.bulk_create(
        [AudienceMember(campaign=campaign, unit=unit_of(e)) for e in establishments]
    )
    return campaign


def ars_idf():
    return OrganisationFactory(ars=True, region_code="11")


def daily(definitions, *, end, status=Campaign.Status.OPEN, owner=None, start=MONDAY, **kwargs):
    return make_campaign(
        owner=owner or dgos(),
        title="Capacités quotidiennes",
        definitions=definitions,
        status=status,
        frequency="daily",
        period_kind="day",
        start_date=start,
        end_date=end,
        **kwargs,
    )


def weekly_draft(definitions, *, weeks=2, filters=None, owner=None, kind="week"):
    frequency = {"week": "weekly", "month": "monthly", "day": "daily"}[kind]
    return make_campaign(
        owner=owner or ars_idf(),
        title="Enquête hebdomadaire",
        definitions=definitions,
        status=Campaign.Status.DRAFT,
        frequency=frequency,
        period_kind=kind,
        start_date=MONDAY,
        end_date=MONDAY + dt.timedelta(days=7 * weeks - 1),
        audience_filters=filters or {"categories": ["500"], "regions": ["11"]},
    )


def store(establishment, definition, key, data="3"):
    period = parse_period(key)
    return Value.objects.create(
        unit=unit_of(establishment),
        definition=definition,
        code=definition.code,
        period_kind=period.kind,
        period_key=period.key,
        period_start=period.start,
        period_end=period.end,
        data=data,
        number=Decimal(data) if data is not None else None,
        channel=Channel.FORM,
        changed_at=timezone.now(),
    )


def counts(analysis):
    return analysis.asked, analysis.covered, analysis.in_store, analysis.new


def by_code(analysis):
    return {d.code: (d.asked, d.covered, d.in_store, d.new) for d in analysis.definitions}


def test_a_daily_national_campaign_covers_the_stock_of_a_regional_weekly_draft():
    beds, admissions, _, staff = definitions()
    paris = [ehpad() for _ in range(3)]
    elsewhere = [ehpad(region="93", territory="13") for _ in range(2)]
    national = sent(
        daily([beds, admissions], end=MONDAY + dt.timedelta(days=13)), paris + elsewhere
    )
    draft = weekly_draft([beds, admissions, staff])

    analysis = analyse(campaign=draft)

    # 3 Ehpads x 3 definitions x 2 weeks; both weeks asked daily in full: stock and flow covered.
    assert counts(analysis) == (18, 12, 0, 6)
    assert by_code(analysis) == {
        "admissions": (6, 6, 0, 0),
        "lits_disponibles": (6, 6, 0, 0),
        "personnels_absents": (6, 0, 0, 6),
    }
    [overlap] = analysis.overlaps
    assert overlap.campaign_id == national.pk
    assert overlap.owner == str(dgos())
    assert overlap.units_in_common == 3
    assert overlap.periods == ["2027-W02", "2027-W03"]
    assert overlap.covered_cells == 12
    assert overlap.period_kind == "day"
    assert [code for _, code, _ in overlap.definitions] == ["admissions", "lits_disponibles"]


def test_a_daily_campaign_ending_mid_week_covers_its_stock_only_if_it_asks_the_last_day():
    beds, admissions, _, _ = definitions()
    paris = [ehpad() for _ in range(2)]
    # Asks Monday 11 to Wednesday 20: all of week 2, half of week 3.
    sent(daily([beds, admissions], end=MONDAY + dt.timedelta(days=9)), paris)
    draft = weekly_draft([beds, admissions])

    analysis = analyse(campaign=draft)

    # Week 2: both covered; week 3: the stock needs Sunday 24, the flow all seven days.
    assert by_code(analysis) == {"admissions": (4, 2, 0, 2), "lits_disponibles": (4, 2, 0, 2)}
    assert analysis.overlaps[0].periods == ["2027-W02"]


def test_a_daily_campaign_starting_mid_week_covers_its_stock_not_its_flow():
    beds, admissions, _, _ = definitions()
    paris = [ehpad()]
    # Asks Wednesday 13 to Sunday 17 only.
    sent(
        daily(
            [beds, admissions],
            start=MONDAY + dt.timedelta(days=2),
            end=MONDAY + dt.timedelta(days=6),
        ),
        paris,
    )
    draft = weekly_draft([beds, admissions], weeks=1)

    assert by_code(analyse(campaign=draft)) == {
        "admissions": (1, 0, 0, 1),
        "lits_disponibles": (1, 1, 0, 0),
    }


def test_a_level_is_covered_by_every_day_of_the_week():
    _, _, occupancy, _ = definitions()
    paris = [ehpad() for _ in range(2)]
    sent(daily([occupancy], end=MONDAY + dt.timedelta(days=13)), paris)
    draft = weekly_draft([occupancy])

    assert by_code(analyse(campaign=draft)) == {"taux_occupation": (4, 4, 0, 0)}


def test_weeks_do_not_cover_a_month_they_straddle():
    # March 2027 starts on a Monday but ends on a Wednesday: its weeks do not tile it.
    # (February 2027, four whole weeks, would be tiled: surveys.coverage accepts it.)
    beds, _, _, _ = definitions()
    paris = [ehpad()]
    weekly = make_campaign(
        owner=dgos(),
        definitions=[beds],
        frequency="weekly",
        period_kind="week",
        start_date=dt.date(2027, 1, 1),
        end_date=dt.date(2027, 3, 31),
    )
    sent(weekly, paris)
    draft = make_campaign(
        owner=ars_idf(),
        definitions=[beds],
        status=Campaign.Status.DRAFT,
        frequency="monthly",
        period_kind="month",
        start_date=dt.date(2027, 3, 1),
        end_date=dt.date(2027, 3, 31),
        audience_filters={"categories": ["500"], "regions": ["11"]},
    )

    analysis = analyse(campaign=draft)

    assert counts(analysis) == (1, 0, 0, 1)
    assert analysis.overlaps == []


def test_establishments_outside_the_other_audience_are_not_covered():
    beds, _, _, _ = definitions()
    asked_by_both = [ehpad() for _ in range(2)]
    asked_by_the_draft_only = [ehpad() for _ in range(3)]
    sent(daily([beds], end=MONDAY + dt.timedelta(days=13)), asked_by_both)
    draft = weekly_draft([beds])

    analysis = analyse(campaign=draft)

    assert counts(analysis) == (10, 4, 0, 6)
    assert analysis.overlaps[0].units_in_common == 2
    assert len(asked_by_the_draft_only) == 3


def test_closed_and_draft_campaigns_are_ignored():
    beds, _, _, _ = definitions()
    paris = [ehpad() for _ in range(2)]
    sent(daily([beds], end=MONDAY + dt.timedelta(days=13), status=Campaign.Status.CLOSED), paris)
    daily(
        [beds],
        end=MONDAY + dt.timedelta(days=13),
        status=Campaign.Status.DRAFT,
        audience_filters={"categories": ["500"]},
    )
    draft = weekly_draft([beds])

    analysis = analyse(campaign=draft)

    assert counts(analysis) == (4, 0, 0, 4)
    assert analysis.overlaps == []


def test_a_scheduled_campaign_without_members_covers_through_its_filters():
    beds, _, _, _ = definitions()
    paris = [ehpad() for _ in range(2)]
    scheduled = daily(
        [beds],
        end=MONDAY + dt.timedelta(days=13),
        status=Campaign.Status.SCHEDULED,
        audience_filters={"categories": ["500"]},
    )
    draft = weekly_draft([beds])

    analysis = analyse(campaign=draft)

    assert counts(analysis) == (4, 4, 0, 0)
    assert analysis.overlaps[0].campaign_id == scheduled.pk
    assert len(paris) == 2


def test_a_cell_covered_by_two_campaigns_counts_once():
    beds, _, _, staff = definitions()
    paris = [ehpad() for _ in range(3)]
    first = sent(daily([beds], end=MONDAY + dt.timedelta(days=13)), paris[:2])
    second = sent(daily([beds, staff], end=MONDAY + dt.timedelta(days=6)), paris[1:])
    draft = weekly_draft([beds, staff])

    analysis = analyse(campaign=draft)

    # Beds: week 2 by both (3 units), week 3 by the first (2 units); staff: week 2, 2 units.
    assert by_code(analysis) == {
        "lits_disponibles": (6, 5, 0, 1),
        "personnels_absents": (6, 2, 0, 4),
    }
    overlaps = {o.campaign_id: o for o in analysis.overlaps}
    assert overlaps[first.pk].covered_cells == 4
    assert overlaps[second.pk].covered_cells == 4
    assert sorted(analysis.reuse_plan()) == sorted(
        [(beds.pk, first.pk), (beds.pk, second.pk), (staff.pk, second.pk)]
    )


def test_store_values_count_only_when_complete():
    beds, admissions, _, _ = definitions()
    one, two = ehpad(), ehpad()
    # Week 2: the exact weekly key for one Ehpad; seven days of admissions for the other.
    store(one, beds, "2027-W02")
    for day in range(7):
        store(two, admissions, (MONDAY + dt.timedelta(days=day)).isoformat())
    # Week 3: six days of admissions only (incomplete), and a stock whose last day is empty.
    for day in range(7, 13):
        store(one, admissions, (MONDAY + dt.timedelta(days=day)).isoformat())
    store(two, beds, "2027-01-24", data=None)
    store(two, beds, "2027-01-17")  # the last day of week 2 gives the stock of week 2
    draft = weekly_draft([beds, admissions])

    analysis = analyse(campaign=draft)

    assert by_code(analysis) == {"admissions": (4, 0, 1, 3), "lits_disponibles": (4, 0, 2, 2)}
    assert analysis.reuse_plan() == [(admissions.pk, None), (beds.pk, None)]


def test_covered_cells_are_not_counted_again_in_the_store():
    beds, _, _, _ = definitions()
    paris = [ehpad()]
    sent(daily([beds], end=MONDAY + dt.timedelta(days=6)), paris)
    store(paris[0], beds, "2027-01-17")
    store(paris[0], beds, "2027-01-24")
    draft = weekly_draft([beds])

    assert counts(analyse(campaign=draft)) == (2, 1, 1, 0)


def test_ad_hoc_questions_never_overlap():
    beds, _, _, _ = definitions()
    paris = [ehpad()]
    sent(daily([beds], end=MONDAY + dt.timedelta(days=13)), paris)
    draft = weekly_draft([beds])
    QuestionFactory(section=draft.version.sections.first(), label="Lits disponibles")

    assert counts(analyse(campaign=draft)) == (2, 2, 0, 0)


def test_the_summary_is_json_and_names_the_overlapping_campaign():
    import json

    beds, _, _, _ = definitions()
    sent(daily([beds], end=MONDAY + dt.timedelta(days=13)), [ehpad()])
    summary = analyse(campaign=weekly_draft([beds])).as_summary()

    assert json.loads(json.dumps(summary)) == summary
    assert summary["covered"] == 2
    assert summary["overlaps"][0]["owner"] == str(dgos())
    assert summary["definitions"][0]["code"] == "lits_disponibles"


# --- Random worlds against the reference ----------------------------------------------------------

KINDS = {"day": "daily", "week": "weekly", "month": "monthly"}
AGGREGATIONS = [("stock", "integer"), ("flow", "integer"), ("level", "decimal"), ("flow", "text")]

world = st.fixed_dictionaries(
    {
        "establishments": st.integers(min_value=1, max_value=3),
        "definitions": st.lists(st.sampled_from(range(len(AGGREGATIONS))), min_size=2, max_size=3),
        "draft": st.tuples(
            st.sampled_from(list(KINDS)),
            st.integers(0, 14),  # start offset (days)
            st.integers(0, 35),  # length (days)
            st.sets(st.integers(0, 2), min_size=1),  # audience (establishment indexes)
            st.sets(st.integers(0, 2), min_size=1),  # definitions (indexes)
        ),
        "others": st.lists(
            st.tuples(
                st.sampled_from(["day", "day", "week", "month"]),
                st.integers(0, 14),
                st.integers(0, 50),
                st.sets(st.integers(0, 2)),
                st.sets(st.integers(0, 2), min_size=1),
                st.sampled_from(["open", "open", "scheduled", "closed", "filters"]),
            ),
            min_size=1,
            max_size=4,
        ),
        "stored": st.lists(
            st.tuples(
                st.integers(0, 2),
                st.integers(0, 2),
                st.sampled_from(["day", "day", "week", "month"]),
                st.integers(0, 45),
            ),
            min_size=8,
            max_size=40,
        ),
    }
)

START = dt.date(2027, 1, 4)


def _build(data):
    from surveys.periods import period_of

    places = [ehpad() for _ in range(data["establishments"])]
    chosen = []
    for n, index in enumerate(data["definitions"]):
        aggregation, value_type = AGGREGATIONS[index]
        chosen.append(
            DefinitionFactory(
                code=f"definition_{n}", time_aggregation=aggregation, value_type=value_type
            )
        )

    def pick(indexes):
        return [chosen[i] for i in sorted(indexes) if i < len(chosen)] or chosen[:1]

    def finess(indexes):
        return [places[i].finess for i in sorted(indexes) if i < len(places)]

    kind, offset, length, audience, wanted = data["draft"]
    draft = make_campaign(
        owner=ars_idf(),
        definitions=pick(wanted),
        status=Campaign.Status.DRAFT,
        frequency=KINDS[kind],
        period_kind=kind,
        start_date=START + dt.timedelta(days=offset),
        end_date=START + dt.timedelta(days=offset + length),
        audience_filters={"finess": finess(audience) or [places[0].finess]},
    )
    for kind, offset, length, audience, wanted, status in data["others"]:
        filters = {"finess": finess(audience)} if audience else {}
        other = make_campaign(
            owner=dgos(),
            definitions=pick(wanted),
            status="scheduled" if status == "filters" else status,
            frequency=KINDS[kind],
            period_kind=kind,
            start_date=START + dt.timedelta(days=offset),
            end_date=START + dt.timedelta(days=offset + length),
            audience_filters=filters,
        )
        if status != "filters":
            sent(other, [places[i] for i in sorted(audience) if i < len(places)])
    for place, definition, kind, offset in data["stored"]:
        if place < len(places) and definition < len(chosen):
            key = period_of(kind, START + dt.timedelta(days=offset)).key
            if not Value.objects.filter(
                unit__establishment=places[place], definition=chosen[definition], period_key=key
            ).exists():
                store(places[place], chosen[definition], key, data=None if offset % 9 == 0 else "2")
    return draft


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=world)
def test_the_analysis_matches_the_cell_by_cell_reference(db, data):
    with transaction.atomic():
        draft = _build(data)
        analysis = analyse(campaign=draft)
        expected = reference(draft)
        transaction.set_rollback(True)
    event(f"covered: {bool(analysis.covered)}, in store: {bool(analysis.in_store)}")

    assert counts(analysis) == (expected.asked, expected.covered, expected.in_store, expected.new)
    assert {
        d.definition_id: (d.asked, d.covered, d.in_store) for d in analysis.definitions
    } == expected.definitions
    assert {
        o.campaign_id: (o.units_in_common, o.covered_cells, o.periods) for o in analysis.overlaps
    } == expected.overlaps


def test_campaigns_to_professionals_overlap_among_themselves_only():
    from tests.collection.answering import professional_unit
    from tests.referentials.factories import ProfessionalActivityFactory

    beds, _, _, _ = definitions()
    doctors = [ProfessionalActivityFactory().professional for _ in range(3)]
    national = daily([beds], end=MONDAY + dt.timedelta(days=13), unit_kind="professional")
    AudienceMember.objects.bulk_create(
        [AudienceMember(campaign=national, unit=professional_unit(d)) for d in doctors[:2]]
    )
    scheduled = daily(
        [beds],
        end=MONDAY + dt.timedelta(days=13),
        status=Campaign.Status.SCHEDULED,
        unit_kind="professional",
        audience_filters={"professions": ["10"]},
    )
    sent(daily([beds], end=MONDAY + dt.timedelta(days=13)), [ehpad()])
    draft = make_campaign(
        owner=ars_idf(),
        definitions=[beds],
        status=Campaign.Status.DRAFT,
        frequency="weekly",
        period_kind="week",
        start_date=MONDAY,
        end_date=MONDAY + dt.timedelta(days=13),
        unit_kind="professional",
        audience_filters={"professions": ["10"]},
    )

    analysis = analyse(campaign=draft)

    assert counts(analysis) == (6, 6, 0, 0)
    overlaps = {o.campaign_id: o.units_in_common for o in analysis.overlaps}
    assert overlaps == {national.pk: 2, scheduled.pk: 3}
    expected = reference(draft)
    assert (expected.asked, expected.covered) == (6, 6)


def test_the_number_of_queries_does_not_grow_with_campaigns_or_units():
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    beds, admissions, _, _ = definitions()
    draft = weekly_draft([beds, admissions])

    def queries():
        with CaptureQueriesContext(connection) as context:
            analyse(campaign=draft)
        return len(context.captured_queries)

    sent(daily([beds], end=MONDAY + dt.timedelta(days=13)), [ehpad()])
    few = queries()
    for _ in range(4):
        sent(daily([beds, admissions], end=MONDAY + dt.timedelta(days=13)), [ehpad(), ehpad()])

    assert queries() == few


def test_a_cell_complete_in_two_ways_counts_once_in_the_store():
    beds, admissions, _, _ = definitions()
    place = ehpad()
    store(place, beds, "2027-W02")
    store(place, beds, "2027-01-17")  # the same week's stock again, by its last day
    store(place, admissions, "2027-W02")
    for day in range(7):
        store(place, admissions, (MONDAY + dt.timedelta(days=day)).isoformat())
    draft = weekly_draft([beds, admissions], weeks=1)

    assert by_code(analyse(campaign=draft)) == {
        "admissions": (1, 0, 1, 0),
        "lits_disponibles": (1, 0, 1, 0),
    }
