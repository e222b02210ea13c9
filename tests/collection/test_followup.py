"""Campaign follow-up: exact rates, the late list with its contacts, scope in every figure."""

import datetime as dt
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from collection import followup
from referentials.models import FunctionalContact
from surveys.models import Assignment
from tests.collection.answering import assignment, campaign, unit_of
from tests.conftest import client_for

pytestmark = pytest.mark.django_db

S = Assignment.Status


def _yesterday() -> dt.date:
    return timezone.localdate() - dt.timedelta(days=1)


@pytest.fixture
def national(cast, national_org):
    """A national daily campaign over the cast's establishments, two periods:
    yesterday (due, past) and today (due later)."""
    return campaign(owner=national_org, title="Lits disponibles")


def _late_world(cast, national):
    yesterday, today = _yesterday(), timezone.localdate()
    units = {
        name: unit_of(getattr(cast, name))
        for name in (
            "paris_hospital",
            "paris_ehpad",
            "cayenne_hospital",
            "cayenne_ehpad",
            "pointe_a_pitre_clinic",
            "saint_martin_hospital",
        )
    }
    statuses_yesterday = {
        "paris_hospital": S.SUBMITTED,
        "paris_ehpad": S.LATE,
        "cayenne_hospital": S.EXEMPTED,
        "cayenne_ehpad": S.TODO,  # past due, not yet marked by the beat task: late too
        "pointe_a_pitre_clinic": S.SUBMITTED,
        "saint_martin_hospital": S.LATE,
    }
    for name, status in statuses_yesterday.items():
        assignment(national, units[name], day=yesterday, status=status)
        assignment(
            national,
            units[name],
            day=today,
            status=S.TODO,
            due_at=timezone.now() + dt.timedelta(hours=2),
        )
    return units


def test_late_assignments_lists_the_late_units_with_their_contacts(cast, national):
    units = _late_world(cast, national)
    FunctionalContact.objects.create(
        establishment=cast.cayenne_ehpad,
        role="direction",
        email="direction@edmar-lama.fr",
        phone="0594000000",
    )
    rows = followup.late_assignments(campaign=national, user=cast.national_requester)
    assert {r.name for r in rows} == {
        "Ehpad Les Tilleuls",
        "Ehpad Edmar Lama",
        "CH Louis-Constant Fleming",
    }
    ehpad = next(r for r in rows if r.unit_id == units["cayenne_ehpad"].pk)
    assert ehpad.identifier == "970302287"
    assert ehpad.identifier_label == "FINESS"
    assert ehpad.department_code == "973"
    assert ehpad.region_code == "03"
    assert ehpad.category_code == "500"
    assert ehpad.days_late == 1
    assert ehpad.contact_emails == ("direction@edmar-lama.fr",)
    assert "0594000000" in ehpad.contact_phones
    # Its own respondent, then its legal entity's (CH de Cayenne answers for its sites).
    assert ehpad.respondent_emails == ("direction@ehpad-edmar-lama.fr", "dim@ch-cayenne.fr")
    assert ehpad.period_key == _yesterday().isoformat()


def test_ars_agent_gets_only_its_territories_in_the_late_list(cast, national):
    _late_world(cast, national)
    rows = followup.late_assignments(campaign=national, user=cast.ars_guadeloupe_agent)
    assert [r.name for r in rows] == ["CH Louis-Constant Fleming"]


def test_someone_who_may_not_read_the_campaign_gets_an_empty_late_list(cast, national):
    _late_world(cast, national)
    for user in (cast.ehpad_respondent, cast.curator, cast.outsider):
        assert followup.late_assignments(campaign=national, user=user) == []


def _board(user, national, **kwargs):
    access = followup.access_for(campaign=national, user=user)
    assert access is not None
    return followup.dashboard(access=access, **kwargs)


def test_rates_count_submitted_exempted_late_and_to_do_for_each_period(cast, national):
    _late_world(cast, national)
    board = _board(cast.national_requester, national)
    yesterday = next(r for r in board.by_period if r.key == _yesterday().isoformat())
    assert (yesterday.total, yesterday.submitted, yesterday.exempted, yesterday.late) == (
        6,
        2,
        1,
        3,
    )
    assert yesterday.todo == 0
    # 2 submitted of 5 expected (the exempted one owes nothing).
    assert yesterday.rate == 40.0
    today = next(r for r in board.by_period if r.key == timezone.localdate().isoformat())
    assert (today.total, today.submitted, today.late, today.todo) == (6, 0, 0, 6)
    assert board.overall.total == 12


def test_rates_by_region_department_and_category_for_the_chosen_period(cast, national):
    _late_world(cast, national)
    board = _board(cast.national_requester, national, period_key=_yesterday().isoformat())
    regions = {r.key: (r.total, r.submitted, r.rate) for r in board.by_region}
    assert regions == {"11": (2, 1, 50.0), "03": (2, 0, 0.0), "01": (2, 1, 50.0)}
    departments = {r.key: r.total for r in board.by_department}
    assert departments == {"75": 2, "973": 2, "971": 1, "978": 1}
    categories = {r.key: (r.total, r.submitted) for r in board.by_category}
    assert categories == {"355": (4, 2), "500": (2, 0)}
    assert board.late_count == 3


def test_ars_agent_sees_only_its_region_in_every_figure_of_a_national_campaign(cast, national):
    _late_world(cast, national)
    board = _board(cast.ars_guadeloupe_agent, national, period_key=_yesterday().isoformat())
    assert [r.key for r in board.by_region] == ["01"]
    assert {r.key for r in board.by_department} == {"971", "978"}
    assert board.overall.total == 2
    assert sum(r.total for r in board.by_period) == 4
    assert [r.name for r in board.late] == ["CH Louis-Constant Fleming"]
    page = client_for(cast.ars_guadeloupe_agent).get(
        reverse("collection:campaign_followup", kwargs={"pk": national.pk})
    )
    assert page.status_code == 200
    html = page.content.decode()
    assert "CH Louis-Constant Fleming" in html
    assert "Ehpad Les Tilleuls" not in html
    assert "Île-de-France" not in html


def test_ars_agent_does_not_see_a_national_campaign_without_units_in_its_region(cast, national):
    unit = unit_of(cast.paris_hospital)
    assignment(national, unit, status=S.TODO)
    page = client_for(cast.ars_guadeloupe_agent).get(
        reverse("collection:campaign_followup", kwargs={"pk": national.pk})
    )
    assert page.status_code == 404


@pytest.mark.parametrize("role", ["ehpad_respondent", "hospital_respondent", "professional"])
def test_respondents_are_refused_the_follow_up(cast, national, role):
    _late_world(cast, national)
    page = client_for(cast.user(role)).get(
        reverse("collection:campaign_followup", kwargs={"pk": national.pk})
    )
    assert page.status_code in (403, 404)


def test_the_follow_up_page_shows_rates_charts_and_the_late_list(cast, national):
    _late_world(cast, national)
    page = client_for(cast.national_requester).get(
        reverse("collection:campaign_followup", kwargs={"pk": national.pk}),
        {"periode": _yesterday().isoformat()},
    )
    assert page.status_code == 200
    html = page.content.decode()
    assert "40,0 %" in html or "40.0 %" in html
    assert 'id="late-table"' in html
    assert "<svg" in html
    assert "Ehpad Edmar Lama" in html


def test_the_dashboard_costs_the_same_queries_for_few_or_many_establishments(
    cast, national, django_assert_max_num_queries
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from tests.referentials.factories import EstablishmentFactory

    _late_world(cast, national)
    url = reverse("collection:campaign_followup", kwargs={"pk": national.pk})
    client = client_for(cast.national_requester)
    with CaptureQueriesContext(connection) as few:
        assert client.get(url).status_code == 200
    for _ in range(15):
        unit = unit_of(EstablishmentFactory(territory_code="69", region_code="84"))
        assignment(national, unit, day=_yesterday(), status=S.LATE)
    with CaptureQueriesContext(connection) as many:
        assert client.get(url).status_code == 200
    assert len(many) == len(few)
    assert len(many) <= 25


def test_unit_history_shows_each_period_status_and_values_with_history_links(cast, national):
    from collection.models import Value
    from tests.collection.answering import dictionary
    from tests.surveys.factories import QuestionFactory, SectionFactory

    open_beds, _ = dictionary()
    QuestionFactory(section=SectionFactory(version=national.version), definition=open_beds)
    units = _late_world(cast, national)
    unit = units["paris_hospital"]
    value = Value.objects.create(
        unit=unit,
        definition=open_beds,
        code=open_beds.code,
        period_kind="day",
        period_key=_yesterday().isoformat(),
        period_start=_yesterday(),
        period_end=_yesterday(),
        data="12",
        number=12,
        channel="form",
        changed_at=timezone.now(),
        revision_count=3,
    )
    page = client_for(cast.national_requester).get(
        reverse("collection:campaign_unit_history", kwargs={"pk": national.pk, "unit_pk": unit.pk})
    )
    assert page.status_code == 200
    html = page.content.decode()
    assert "Transmise" in html and "À faire" in html
    assert reverse("collection:value_history", kwargs={"pk": value.pk}) in html
    assert "formulaire en ligne" in html


def test_ars_agent_cannot_open_the_history_of_a_unit_outside_its_region(cast, national):
    units = _late_world(cast, national)
    url = reverse(
        "collection:campaign_unit_history",
        kwargs={"pk": national.pk, "unit_pk": units["paris_hospital"].pk},
    )
    assert client_for(cast.ars_guadeloupe_agent).get(url).status_code == 404
    assert client_for(cast.national_requester).get(url).status_code == 200


def test_an_ars_agent_reaches_the_follow_up_and_the_late_list_export_from_the_register(
    cast, national
):
    """The ARS cannot open the DGOS campaign's own page: the register leads it to the
    follow-up of its establishments, whose late list leads to the export, preselected."""
    _late_world(cast, national)
    client = client_for(cast.ars_guadeloupe_agent)
    record = client.get(reverse("surveys:register_detail", kwargs={"pk": national.pk}))
    followup_url = reverse("collection:campaign_followup", kwargs={"pk": national.pk})
    assert f'href="{followup_url}"' in record.content.decode()
    board = client.get(followup_url).content.decode()
    export_url = reverse("collection:export_create", kwargs={"pk": national.pk})
    assert f'href="{export_url}?contenu=late"' in board
    form = client.get(export_url, {"contenu": "late"}).content.decode()
    [late_radio] = re.findall(r'<input[^>]*value="late"[^>]*>', form)
    assert "checked" in late_radio


def test_the_register_offers_no_follow_up_to_an_ars_without_establishments_in_it(cast, national):
    assignment(national, unit_of(cast.paris_hospital), status=S.TODO)
    record = client_for(cast.ars_guadeloupe_agent).get(
        reverse("surveys:register_detail", kwargs={"pk": national.pk})
    )
    assert record.status_code == 200
    assert 'id="register-followup"' not in record.content.decode()
