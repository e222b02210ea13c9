"""The register of collections: every organisation's campaigns, their burden, its filters."""

import csv
import datetime as dt
import io

import pytest
from django.urls import reverse

from accounts.models import Organisation, Role
from referentials.models import Definition
from referentials.selectors_dictionary import definition_usages
from surveys import selectors_register as register
from surveys.models import AudienceMember, Campaign
from surveys.periods import PeriodKind
from tests.accounts.factories import MembershipFactory, UserFactory
from tests.conftest import client_for
from tests.referentials.factories_dictionary import DefinitionFactory, ThemeFactory
from tests.surveys.factories import (
    CampaignFactory,
    CampaignPeriodFactory,
    QuestionFactory,
    ReportingUnitFactory,
    SectionFactory,
    SurveyFactory,
    SurveyVersionFactory,
)

NOV = dt.date(2026, 11, 1)


def _version(survey, *, number, definitions=(), ad_hoc=0, title="Capacités de réanimation"):
    version = SurveyVersionFactory(survey=survey, number=number, title=title)
    section = SectionFactory(version=version)
    for definition in definitions:
        QuestionFactory(section=section, definition=definition)
    for _ in range(ad_hoc):
        QuestionFactory(section=section)
    return version


class World:
    """Four campaigns of three organisations (see ``world``)."""


@pytest.fixture
def world(cast):
    w = World()
    w.dgos = Organisation.objects.get(memberships__user=cast.national_requester)
    w.ars_idf = Organisation.objects.get(name="ARS Île-de-France")
    w.ars_gp = Organisation.objects.get(region_code="01")
    capacities = ThemeFactory(code="capacites", label="Capacités")
    covid = ThemeFactory(code="covid", label="Covid-19")
    w.beds = DefinitionFactory(code="lits_rea_installes", label="Lits de réanimation installés")
    w.beds.themes.add(capacities)
    w.patients = DefinitionFactory(code="patients_covid_rea", label="Patients Covid en réanimation")
    w.patients.themes.add(covid)
    w.staff = DefinitionFactory(code="effectif_ide", label="Infirmiers présents")

    # DGOS, open, daily through November; version 1 (2 questions: one bound, one ad hoc) asked
    # on the 1st and 2nd, version 2 (3 questions) from the 3rd on, 40 establishments.
    survey = SurveyFactory(owner=w.dgos)
    v1 = _version(survey, number=1, definitions=[w.beds], ad_hoc=1)
    v2 = _version(survey, number=2, definitions=[w.beds, w.staff], ad_hoc=1)
    w.dgos_open = CampaignFactory(
        version=v2,
        title="Capacités de réanimation",
        frequency="daily",
        period_kind="day",
        start_date=NOV,
        end_date=dt.date(2026, 11, 30),
        audience_size=40,
    )
    for day, version in [(1, v1), (2, v1), (3, v2)]:
        CampaignPeriodFactory(campaign=w.dgos_open, day=dt.date(2026, 11, day), version=version)
    for establishment in [cast.paris_hospital, cast.cayenne_hospital]:
        AudienceMember.objects.create(
            campaign=w.dgos_open, unit=ReportingUnitFactory(establishment=establishment)
        )

    # ARS Île-de-France, closed, weekly: 2 weeks asked, 1 question, 10 Ehpad.
    idf_survey = SurveyFactory(owner=w.ars_idf)
    w.idf_closed = CampaignFactory(
        version=_version(idf_survey, number=1, definitions=[w.patients], title="Tension Ehpad"),
        title="Tension Ehpad",
        frequency="weekly",
        period_kind="week",
        start_date=NOV,
        end_date=dt.date(2026, 12, 31),
        audience_size=10,
        status=Campaign.Status.CLOSED,
        closed_at=dt.datetime(2026, 11, 15, 12, tzinfo=dt.UTC),
    )
    for day in (2, 9):
        CampaignPeriodFactory(campaign=w.idf_closed, day=dt.date(2026, 11, day))
    AudienceMember.objects.create(
        campaign=w.idf_closed, unit=ReportingUnitFactory(establishment=cast.paris_ehpad)
    )

    # ARS Île-de-France, draft (shown to its own organisation only), Hauts-de-Seine.
    w.idf_draft = CampaignFactory(
        version=_version(
            SurveyFactory(owner=w.ars_idf), number=1, definitions=[w.beds], title="Brouillon 92"
        ),
        title="Brouillon 92",
        frequency="once",
        period_kind="month",
        start_date=dt.date(2027, 1, 1),
        audience_size=5,
        audience_filters={"departments": ["92"], "categories": ["500"]},
        status=Campaign.Status.DRAFT,
        opened_at=None,
    )

    # ARS Guadeloupe, scheduled, monthly January to June 2027, 3 units, 2 ad-hoc questions.
    w.gp_scheduled = CampaignFactory(
        version=_version(SurveyFactory(owner=w.ars_gp), number=1, ad_hoc=2, title="Cyclone"),
        title="Préparation cyclonique",
        frequency="monthly",
        period_kind="month",
        start_date=dt.date(2027, 1, 1),
        end_date=dt.date(2027, 6, 30),
        audience_size=3,
        audience_filters={"territories": ["971", "977"]},
        status=Campaign.Status.SCHEDULED,
        opened_at=None,
    )
    w.viewer_gp = UserFactory(email="lecteur@ars-guadeloupe.fr")
    MembershipFactory(user=w.viewer_gp, organisation=w.ars_gp, role=Role.VIEWER)
    return w


def _titles(user, **params):
    response = client_for(user).get(reverse("surveys:register"), params)
    assert response.status_code == 200
    return [row.title for row, _url in response.context["rows"]]


PUBLIC = ["Préparation cyclonique", "Tension Ehpad", "Capacités de réanimation"]


# --- Who sees what ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "role", ["national_requester", "ars_idf_agent", "ars_guadeloupe_agent", "viewer_gp"]
)
def test_every_requester_and_viewer_sees_every_organisations_campaigns(world, cast, role):
    user = world.viewer_gp if role == "viewer_gp" else cast.user(role)
    titles = _titles(user)
    assert set(PUBLIC) <= set(titles)
    # A draft is its owner organisation's business.
    assert ("Brouillon 92" in titles) == (role == "ars_idf_agent")


@pytest.mark.parametrize("role", ["hospital_respondent", "professional", "curator", "outsider"])
def test_the_register_is_refused_to_anyone_else(world, cast, role):
    client = client_for(cast.user(role))
    assert client.get(reverse("surveys:register")).status_code == 403
    assert client.get(reverse("surveys:register_csv")).status_code == 403
    detail = reverse("surveys:register_detail", args=[world.dgos_open.pk])
    assert client.get(detail).status_code == 403


def test_the_register_is_in_the_menu_of_requesters_and_viewers(world, cast):
    response = client_for(world.viewer_gp).get(reverse("surveys:register"))
    assert {"label": "Registre", "url": reverse("surveys:register"), "current": "page"} in (
        response.context["main_nav"]
    )
    respondent = client_for(cast.hospital_respondent).get(reverse("collection:inbox"))
    assert all(item["label"] != "Registre" for item in respondent.context["main_nav"])


def test_other_organisations_campaigns_open_their_read_only_register_page(world, cast):
    response = client_for(world.viewer_gp).get(reverse("surveys:register"))
    urls = {row.title: url for row, url in response.context["rows"]}
    assert urls["Capacités de réanimation"] == reverse(
        "surveys:register_detail", args=[world.dgos_open.pk]
    )
    page = client_for(world.viewer_gp).get(urls["Capacités de réanimation"])
    assert page.status_code == 200
    text = page.text
    assert "Direction générale de l&#x27;offre de soins" in text
    assert "lits_rea_installes" in text and "Lits de réanimation installés" in text
    assert "effectif_ide" in text
    assert "Question libre (sans définition partagée)" in text
    assert "2 établissements" not in text  # the stored audience size is what is shown
    assert "<strong>40</strong> établissements" in text
    assert "2026-11-03" in text  # an opened period
    assert "27 périodes encore prévues jusqu'au 30/11/2026" in text


def test_a_draft_of_another_organisation_is_not_found(world, cast):
    url = reverse("surveys:register_detail", args=[world.idf_draft.pk])
    assert client_for(cast.national_requester).get(url).status_code == 404
    assert client_for(cast.ars_idf_agent).get(url).status_code == 200


def test_the_owner_organisation_opens_its_own_campaign(world, cast):
    response = client_for(cast.ars_idf_agent).get(reverse("surveys:register"))
    urls = {row.title: url for row, url in response.context["rows"]}
    rows = {row.title: row for row, _ in response.context["rows"]}
    assert rows["Tension Ehpad"].is_own and not rows["Capacités de réanimation"].is_own
    assert urls["Tension Ehpad"] == reverse("surveys:campaign_detail", args=[world.idf_closed.pk])


# --- Burden ------------------------------------------------------------------------------------


def test_burden_is_audience_times_questions_per_period_and_summed_over_periods(world, cast):
    rows = {r.title: r for r in register.register_rows(user=cast.ars_idf_agent)}
    dgos = rows["Capacités de réanimation"]
    # Current version 2: 3 questions x 40 establishments.
    assert (dgos.question_count, dgos.ad_hoc_count) == (3, 1)
    assert dgos.cells_per_period == 120
    # Opened: Nov 1 and 2 with version 1 (2 questions), Nov 3 with version 2 (3): 40 x 7.
    assert dgos.opened_periods == 3
    assert dgos.opened_cells == 280
    # Planned: Nov 4 to 30, 27 days, with version 2: 27 x 120 = 3240.
    assert dgos.planned_periods == 27
    assert dgos.cells_total == 280 + 3240

    closed = rows["Tension Ehpad"]
    # Closed: nothing more planned; 2 weeks x 10 Ehpad x 1 question.
    assert (closed.planned_periods, closed.cells_per_period, closed.cells_total) == (0, 10, 20)

    draft = rows["Brouillon 92"]
    # Once, nothing opened yet: one planned period of 5 x 1.
    assert (draft.planned_periods, draft.cells_total) == (1, 5)

    scheduled = rows["Préparation cyclonique"]
    # January to June 2027: 6 months x 3 units x 2 ad-hoc questions.
    assert (scheduled.planned_periods, scheduled.cells_total) == (6, 36)
    assert scheduled.ad_hoc_count == 2 and scheduled.definitions == []


def test_an_open_ended_recurring_campaign_counts_its_opened_periods_only(world, cast):
    Campaign.objects.filter(pk=world.dgos_open.pk).update(end_date=None)
    row = next(
        r
        for r in register.register_rows(user=cast.national_requester)
        if r.pk == world.dgos_open.pk
    )
    assert row.open_ended
    assert (row.planned_periods, row.cells_total) == (0, 280)


def test_the_crisis_frequency_decides_the_planned_periods(world, cast):
    Campaign.objects.filter(pk=world.gp_scheduled.pk).update(
        crisis_frequency="weekly", in_crisis=True
    )
    row = next(
        r
        for r in register.register_rows(user=cast.national_requester)
        if r.pk == world.gp_scheduled.pk
    )
    # 2027-01-01 is in week 2026-W53; 2027-06-30 in 2027-W26: 27 weeks.
    assert row.planned_periods == 27
    response = client_for(cast.national_requester).get(reverse("surveys:register"))
    assert "Mode crise" in response.text


def test_a_coarser_cadence_resumes_at_its_next_boundary(world, cast):
    # Back from a daily crisis cadence to weekly: the last daily period ended Wednesday 4
    # November; the weeks resume on Monday 9 November (9, 16, 23 and 30 November).
    Campaign.objects.filter(pk=world.dgos_open.pk).update(frequency="weekly", in_crisis=False)
    CampaignPeriodFactory(campaign=world.dgos_open, day=dt.date(2026, 11, 4))
    row = next(
        r
        for r in register.register_rows(user=cast.national_requester)
        if r.pk == world.dgos_open.pk
    )
    assert row.planned_periods == 4


@pytest.mark.parametrize(
    ("kind", "first", "last", "count"),
    [
        (PeriodKind.DAY, dt.date(2026, 11, 4), dt.date(2026, 11, 30), 27),
        (PeriodKind.WEEK, dt.date(2026, 11, 30), dt.date(2026, 12, 6), 1),
        (PeriodKind.WEEK, dt.date(2026, 11, 29), dt.date(2026, 12, 7), 3),
        (PeriodKind.MONTH, dt.date(2026, 11, 15), dt.date(2027, 2, 1), 4),
        (PeriodKind.QUARTER, dt.date(2026, 12, 31), dt.date(2027, 1, 1), 2),
        (PeriodKind.YEAR, dt.date(2026, 1, 1), dt.date(2028, 12, 31), 3),
        (PeriodKind.DAY, dt.date(2026, 12, 1), dt.date(2026, 11, 30), 0),
    ],
)
def test_period_count_matches_the_periods_between_the_dates(kind, first, last, count):
    from surveys.periods import periods_between

    assert register.period_count(kind, first, last) == count
    if count:
        assert len(periods_between(kind, first, last)) == count


def test_the_register_sorts_by_total_burden(world, cast):
    assert _titles(cast.national_requester, order="charge") == [
        "Capacités de réanimation",  # 3520
        "Préparation cyclonique",  # 36
        "Tension Ehpad",  # 20
    ]
    assert _titles(cast.national_requester, order="charge_periode") == [
        "Capacités de réanimation",  # 120
        "Tension Ehpad",  # 10
        "Préparation cyclonique",  # 6
    ]


# --- Filters -----------------------------------------------------------------------------------


def test_filter_by_theme(world, cast):
    assert _titles(cast.national_requester, theme="capacites") == ["Capacités de réanimation"]
    assert _titles(cast.ars_idf_agent, theme="covid") == ["Tension Ehpad"]


def test_filter_by_definition(world, cast):
    assert _titles(cast.ars_guadeloupe_agent, definition="patients_covid_rea") == ["Tension Ehpad"]
    assert set(_titles(cast.ars_idf_agent, definition="lits_rea_installes")) == {
        "Capacités de réanimation",
        "Brouillon 92",
    }


def test_the_definition_choices_are_those_the_register_asks(world, cast):
    choices = dict(register.definition_choices(cast.national_requester))
    assert set(choices) == {"lits_rea_installes", "effectif_ide", "patients_covid_rea"}


def test_filter_by_territory_reads_members_once_sent_and_filters_before(world, cast):
    assert _titles(cast.national_requester, territory="973") == ["Capacités de réanimation"]
    assert set(_titles(cast.national_requester, territory="75")) == {
        "Capacités de réanimation",
        "Tension Ehpad",
    }
    # The scheduled campaign has no members yet: its filters say 971 and 977.
    assert _titles(cast.ars_idf_agent, territory="977") == ["Préparation cyclonique"]
    assert _titles(cast.ars_idf_agent, territory="978") == []
    # The draft (own organisation only) targets Hauts-de-Seine.
    assert _titles(cast.ars_idf_agent, territory="92") == ["Brouillon 92"]
    assert _titles(cast.national_requester, territory="92") == []


def test_an_ars_campaign_without_territory_criteria_covers_the_ars_territories(world, cast):
    Campaign.objects.filter(pk=world.idf_draft.pk).update(audience_filters={"categories": ["500"]})
    assert _titles(cast.ars_idf_agent, territory="77") == ["Brouillon 92"]


def test_filter_by_owner_and_status(world, cast):
    assert set(_titles(cast.ars_idf_agent, owner=world.ars_idf.pk)) == {
        "Tension Ehpad",
        "Brouillon 92",
    }
    assert _titles(cast.ars_idf_agent, owner=world.ars_idf.pk, status="closed") == ["Tension Ehpad"]
    assert _titles(cast.national_requester, status="draft") == []


def test_an_unknown_filter_value_is_said_in_french(world, cast):
    response = client_for(cast.national_requester).get(
        reverse("surveys:register"), {"definition": "inconnue"}
    )
    assert response.status_code == 200
    assert "« inconnue » n&#x27;est pas un choix possible pour « Définition demandée »" in (
        response.text
    )
    assert response.context["rows"] == []
    csv_response = client_for(cast.national_requester).get(
        reverse("surveys:register_csv"), {"status": "x"}
    )
    assert csv_response.status_code == 400
    assert "filtres invalides" in csv_response.content.decode()


def test_the_register_is_paginated(world, cast):
    for n in range(55):
        CampaignFactory(
            version=_version(SurveyFactory(owner=world.dgos), number=1, title=f"Série {n}"),
            start_date=dt.date(2025, 1, 1),
        )
    first = client_for(cast.national_requester).get(reverse("surveys:register"))
    assert len(first.context["rows"]) == 50
    assert "58</strong> campagnes" in first.text
    second = client_for(cast.national_requester).get(reverse("surveys:register"), {"page": 2})
    assert len(second.context["rows"]) == 8


def test_the_register_reads_in_a_bounded_number_of_queries(
    world, cast, django_assert_max_num_queries
):
    client = client_for(cast.ars_idf_agent)
    client.get(reverse("surveys:register"))  # session and caches warm
    with django_assert_max_num_queries(12):
        client.get(reverse("surveys:register"), {"order": "charge"})
    for n in range(30):
        version = _version(
            SurveyFactory(owner=world.ars_gp), number=1, definitions=[world.beds], ad_hoc=1
        )
        campaign = CampaignFactory(version=version, title=f"Série {n}", audience_size=n)
        CampaignPeriodFactory(campaign=campaign)
    with django_assert_max_num_queries(12):
        response = client.get(reverse("surveys:register"), {"order": "charge", "territory": "75"})
    assert response.status_code == 200
    with django_assert_max_num_queries(12):
        response = client.get(reverse("surveys:register"))
    assert len(response.context["rows"]) == 34
    with django_assert_max_num_queries(12):
        b"".join(client.get(reverse("surveys:register_csv")).streaming_content)


# --- CSV export --------------------------------------------------------------------------------


def _csv(user, **params):
    response = client_for(user).get(reverse("surveys:register_csv"), params)
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert "attachment;" in response["Content-Disposition"]
    content = b"".join(response.streaming_content)
    assert content.startswith(b"\xef\xbb\xbf")
    return list(csv.reader(io.StringIO(content.decode("utf-8-sig")), delimiter=";"))


def test_the_csv_export_is_the_filtered_register(world, cast):
    lines = _csv(cast.national_requester, theme="capacites")
    header, rows = lines[0], lines[1:]
    assert header[:3] == ["Numéro", "Organisation demandeuse", "Campagne"]
    assert len(rows) == 1
    row = dict(zip(header, rows[0], strict=True))
    assert row["Organisation demandeuse"] == "DGOS"
    assert row["Cellules par période"] == "120"
    assert row["Cellules au total"] == "3520"
    assert row["Définitions demandées"] == (
        "lits_rea_installes (Lits de réanimation installés), effectif_ide (Infirmiers présents)"
    )
    assert row["Questions libres"] == "1"


def test_the_csv_export_neutralises_formulas(world, cast):
    Campaign.objects.filter(pk=world.gp_scheduled.pk).update(title='=HYPERLINK("http://x","y")')
    Campaign.objects.filter(pk=world.idf_closed.pk).update(title="@SUM(A1)")
    Campaign.objects.filter(pk=world.dgos_open.pk).update(title="-2+3")
    titles = sorted(row[2] for row in _csv(cast.national_requester)[1:])
    assert titles == sorted(['\'=HYPERLINK("http://x","y")', "'@SUM(A1)", "'-2+3"])


# --- The glossary names who asks a definition ----------------------------------------------------


def test_the_glossary_lists_the_campaigns_asking_a_definition(world, client):
    # A draft sending the same version as the open campaign stays out too.
    CampaignFactory(version=world.dgos_open.version, title="Relance en préparation", status="draft")
    usages = definition_usages(Definition.objects.get(code="lits_rea_installes"))
    # The draft (Brouillon 92) is nobody else's business: the glossary is public.
    assert [(u["owner"], u["campaign_title"], u["status_label"]) for u in usages] == [
        ("DGOS", "Capacités de réanimation", "ouverte")
    ]
    response = client.get(reverse("glossary:definition_detail", args=["lits_rea_installes"]))
    assert "DGOS</strong> — Capacités de réanimation" in response.text
    assert "Brouillon 92" not in response.text
    # Asked by version 2 only, the version the campaign now sends.
    staff = client.get(reverse("glossary:definition_detail", args=["effectif_ide"]))
    assert "Capacités de réanimation" in staff.text
    assert definition_usages(DefinitionFactory(code="jamais_demandee")) == []


def test_definition_usages_is_one_query(world, django_assert_num_queries):
    definition = Definition.objects.get(code="lits_rea_installes")
    with django_assert_num_queries(1):
        definition_usages(definition)
