"""The inbox: each respondent sees exactly the assignments of the units they answer for."""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.models import Organisation
from collection import selectors
from surveys.models import Assignment, Campaign
from tests.collection.answering import (
    assignment,
    campaign,
    days_ago,
    professional_unit,
    unit_of,
)
from tests.conftest import client_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(cast):
    """One national and one regional campaign, each asking every establishment of the cast and
    the professional, plus a closed campaign and a draft one."""
    dgos = Organisation.objects.get(short_name="DGOS")
    ars = Organisation.objects.get(name="ARS Île-de-France")
    national = campaign(owner=dgos, title="Capacités de réanimation")
    regional = campaign(owner=ars, title="Tensions estivales")
    closed = campaign(owner=dgos, title="Grippe 2025", status=Campaign.Status.CLOSED)
    Campaign.objects.filter(pk=closed.pk).update(closed_at=days_ago(10))
    draft = campaign(owner=dgos, title="Brouillon", status=Campaign.Status.DRAFT)
    units = {
        name: unit_of(getattr(cast, name))
        for name in (
            "paris_hospital",
            "paris_ehpad",
            "cayenne_hospital",
            "cayenne_ehpad",
            "saint_martin_hospital",
        )
    }
    units["paris_doctor"] = professional_unit(cast.paris_doctor)
    made = {}
    for name, unit in units.items():
        made[("national", name)] = assignment(national, unit)
        made[("regional", name)] = assignment(regional, unit)
        made[("closed", name)] = assignment(closed, unit)
        made[("draft", name)] = assignment(draft, unit)
    return made


def inbox_ids(user, **filters):
    return {
        a.pk
        for a in selectors.inbox_assignments(user=user, filters=selectors.InboxFilters(**filters))
    }


def expected(world, campaigns, units):
    return {world[(c, u)].pk for c in campaigns for u in units}


@pytest.mark.parametrize(
    ("role", "units"),
    [
        ("hospital_respondent", ["paris_hospital"]),
        ("ehpad_respondent", ["cayenne_ehpad"]),
        ("legal_entity_respondent", ["cayenne_hospital", "cayenne_ehpad"]),
        ("professional", ["paris_doctor"]),
        ("national_requester", []),
        ("outsider", []),
    ],
)
def test_each_respondent_sees_exactly_its_units_assignments_of_open_campaigns(
    cast, world, role, units
):
    user = cast.user(role)
    assert inbox_ids(user) == expected(world, ["national", "regional"], units)
    assert inbox_ids(user, history=True) == expected(world, ["closed"], units)


def test_the_page_lists_both_requesters_and_no_other_unit(cast, world):
    response = client_for(cast.legal_entity_respondent).get(reverse("collection:inbox"))
    html = response.content.decode()
    assert response.status_code == 200
    for text in ("Capacités de réanimation", "Tensions estivales", "DGOS", "CH de Cayenne"):
        assert text in html
    assert "Ehpad Edmar Lama" in html
    assert cast.paris_hospital.name not in html
    assert "Grippe 2025" not in html and "Brouillon" not in html
    history = client_for(cast.legal_entity_respondent).get(
        reverse("collection:inbox"), {"onglet": "historique"}
    )
    assert "Grippe 2025" in history.content.decode()


def test_assignments_come_by_due_date_with_overdue_marked(cast):
    unit = unit_of(cast.paris_hospital)
    later = assignment(
        campaign(title="Plus tard"), unit, due_at=timezone.now() + dt.timedelta(days=3)
    )
    overdue = assignment(campaign(title="En retard"), unit, due_at=days_ago(2))
    submitted = assignment(
        campaign(title="Transmise"), unit, due_at=days_ago(5), status=Assignment.Status.SUBMITTED
    )
    listed = list(selectors.inbox_assignments(user=cast.hospital_respondent))
    assert listed == [submitted, overdue, later]
    now = timezone.now()
    assert selectors.overdue_days(overdue, now=now) == 2
    assert selectors.overdue_days(submitted, now=now) is None
    assert selectors.overdue_days(later, now=now) is None
    html = client_for(cast.hospital_respondent).get(reverse("collection:inbox")).content.decode()
    table = html[html.index("<tbody>") :]
    assert "En retard de 2 jours" in table
    assert table.index("Transmise") < table.index("En retard de 2 jours") < table.index("Plus tard")


def test_counts_per_status_and_the_status_filter_agree(cast):
    unit = unit_of(cast.paris_hospital)
    assignment(campaign(title="A"), unit, due_at=days_ago(1))
    assignment(campaign(title="B"), unit, due_at=timezone.now() + dt.timedelta(days=1))
    assignment(campaign(title="C"), unit, status=Assignment.Status.SUBMITTED)
    counts = selectors.inbox_counts(user=cast.hospital_respondent)
    assert (counts["late"], counts["todo"], counts["submitted"], counts["total"]) == (1, 1, 1, 3)
    late = selectors.inbox_assignments(
        user=cast.hospital_respondent, filters=selectors.InboxFilters(status="late")
    )
    assert [a.campaign.title for a in late] == ["A"]
    response = client_for(cast.hospital_respondent).get(
        reverse("collection:inbox"), {"status": "late"}
    )
    assert [a.campaign.title for a in response.context["page"].object_list] == ["A"]


def test_a_legal_entity_filters_by_site_and_by_campaign(cast, world):
    client = client_for(cast.legal_entity_respondent)
    response = client.get(reverse("collection:inbox"), {"site": cast.cayenne_ehpad.finess})
    shown = {a.pk for a in response.context["page"].object_list}
    assert shown == expected(world, ["national", "regional"], ["cayenne_ehpad"])
    national = world[("national", "cayenne_ehpad")].campaign_id
    response = client.get(reverse("collection:inbox"), {"campagne": national})
    shown = {a.pk for a in response.context["page"].object_list}
    assert shown == expected(world, ["national"], ["cayenne_hospital", "cayenne_ehpad"])
    # Another organisation's site is not a choice: the filter is ignored, nothing leaks.
    response = client.get(reverse("collection:inbox"), {"site": cast.paris_hospital.finess})
    shown = {a.pk for a in response.context["page"].object_list}
    assert shown == expected(world, ["national", "regional"], ["cayenne_hospital", "cayenne_ehpad"])


def test_a_single_site_gets_no_site_filter(cast, world):
    response = client_for(cast.hospital_respondent).get(reverse("collection:inbox"))
    assert "site" not in response.context["form"].fields


def test_the_inbox_is_paginated_without_n_plus_one(cast, django_assert_max_num_queries):
    unit = unit_of(cast.cayenne_hospital)
    other = unit_of(cast.cayenne_ehpad)
    for index in range(30):
        made = campaign(title=f"Enquête {index:02d}")
        assignment(made, unit)
        assignment(made, other)
    client = client_for(cast.legal_entity_respondent)
    client.get(reverse("collection:inbox"))  # warm the session
    with django_assert_max_num_queries(14):
        response = client.get(reverse("collection:inbox"))
    assert len(response.context["page"].object_list) == 25
    assert response.context["page"].paginator.count == 60
    second = client.get(reverse("collection:inbox"), {"page": 3})
    assert len(second.context["page"].object_list) == 10


def test_each_row_links_to_its_form_and_its_spreadsheet_template(cast):
    made = assignment(campaign(title="Capacités"), unit_of(cast.paris_hospital))
    html = client_for(cast.hospital_respondent).get(reverse("collection:inbox")).content.decode()
    assert reverse("collection:assignment_form", args=[made.pk]) in html
    assert reverse("collection:spreadsheet_template", args=[made.campaign_id]) in html


def test_an_exemption_is_asked_from_the_inbox_with_a_reason(cast):
    made = assignment(campaign(title="Capacités"), unit_of(cast.cayenne_ehpad))
    client = client_for(cast.ehpad_respondent)
    url = reverse("collection:exemption_request", args=[made.pk])
    refused = client.post(url, {"reason": "  "}, follow=True)
    assert "Expliquez pourquoi" in refused.content.decode()
    made.refresh_from_db()
    assert made.exemption_requested_at is None
    response = client.post(url, {"reason": "Fermé pour travaux"}, follow=True)
    assert "Demande de dispense envoyée" in response.content.decode()
    made.refresh_from_db()
    assert (made.exemption_reason, made.exemption_requested_by) == (
        "Fermé pour travaux",
        cast.ehpad_respondent,
    )
    assert "Dispense demandée" in response.content.decode()


def test_another_unit_exemption_is_not_found(cast):
    made = assignment(campaign(title="Capacités"), unit_of(cast.paris_hospital))
    response = client_for(cast.ehpad_respondent).post(
        reverse("collection:exemption_request", args=[made.pk]), {"reason": "x"}
    )
    assert response.status_code == 404
    made.refresh_from_db()
    assert made.exemption_requested_at is None
