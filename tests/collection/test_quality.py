"""Data quality of a campaign: outliers against each unit's history, the directory's
capacities, warnings accepted with a comment; the page, for each reader's scope."""

from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.models import Organisation
from collection import quality, values
from collection.followup import campaign_reader_access
from collection.models import Channel
from collection.quality import History, reasons_for
from referentials.units import unit_for_establishment
from tests.collection import quality_setup as setup
from tests.conftest import client_for

pytestmark = pytest.mark.django_db


def test_the_history_gives_the_exact_mean_and_population_deviation():
    numbers = [10, 12, 11, 10, 12]
    history = History(
        count=5,
        minimum=Decimal(10),
        maximum=Decimal(12),
        total=Decimal(sum(numbers)),
        squares=Decimal(sum(n * n for n in numbers)),
    )
    assert history.mean == Decimal(11)
    assert history.stddev == Decimal("0.8").sqrt()
    assert history.z(Decimal(20)) == Decimal(9) / Decimal("0.8").sqrt()


def _history(numbers):
    return History(
        count=len(numbers),
        minimum=Decimal(min(numbers)),
        maximum=Decimal(max(numbers)),
        total=Decimal(sum(numbers)),
        squares=Decimal(sum(n * n for n in numbers)),
    )


def _kinds(number, numbers, threshold=Decimal(3), ceiling=None, comment=""):
    reasons = reasons_for(
        Decimal(number),
        comment=comment,
        history=_history(numbers) if numbers else None,
        threshold=threshold,
        ceiling=ceiling,
    )
    return [reason.kind for reason in reasons]


def test_a_value_outside_the_previous_min_max_is_flagged_and_its_bounds_are_its_own():
    assert _kinds(13, [10, 12, 11]) == ["range"]
    assert _kinds(9, [10, 12, 11]) == ["range"]
    assert _kinds(12, [10, 12, 11]) == []
    assert _kinds(10, [10, 12, 11]) == []


def test_min_max_needs_three_previous_values():
    assert _kinds(50, [10, 12]) == []


def test_the_z_score_flags_above_its_threshold_only_with_five_previous_values():
    history = [10, 12, 11, 10, 12]  # mean 11, deviation 0.894
    # 13 is 2.24 deviations away: outside min-max, but under a threshold of 3.
    assert _kinds(13, history) == ["range"]
    assert _kinds(13, history, threshold=Decimal(2)) == ["range", "zscore"]
    assert _kinds(20, history) == ["range", "zscore"]
    # Four previous values: min-max still speaks, the z-score does not.
    assert _kinds(20, history[:4]) == ["range"]
    # A constant history has no deviation: min-max only.
    assert _kinds(11, [10] * 6) == ["range"]


def test_the_threshold_typed_on_the_page_is_bounded():
    assert quality.parse_threshold("2,5") == Decimal("2.5")
    assert quality.parse_threshold("0") == Decimal("1.5")
    assert quality.parse_threshold("1000") == Decimal(10)
    assert quality.parse_threshold("trois") == Decimal(3)
    assert quality.parse_threshold("NaN") == Decimal(3)


def test_a_value_above_the_capacity_and_a_justified_one_are_flagged():
    assert _kinds(20, [], ceiling=Decimal(15)) == ["directory"]
    assert _kinds(15, [], ceiling=Decimal(15)) == []
    assert _kinds(5, [], comment="  Afflux de patients ") == ["justified"]


@pytest.fixture
def dgos_campaign(cast):
    occupied, authorised = setup.definitions()
    dgos = Organisation.objects.get(short_name="DGOS")
    campaign = setup.campaign(dgos, definition=occupied)
    paris = unit_for_establishment(cast.paris_hospital)
    cayenne = unit_for_establishment(cast.cayenne_ehpad)
    setup.history(paris, occupied, [10, 12, 11, 10, 12])
    setup.history(cayenne, occupied, [30, 31, 30, 29, 30])
    setup.put(paris, authorised, timezone.localdate().replace(day=1), 15)
    return campaign, occupied, authorised


def test_the_report_flags_each_units_outlier_against_its_own_history(cast, dgos_campaign):
    campaign, occupied, _ = dgos_campaign
    paris = setup.answered(campaign, cast.paris_hospital, occupied, 20)
    # 11 would be normal in Paris; in Cayenne it is far below its own history.
    cayenne = setup.answered(campaign, cast.cayenne_ehpad, occupied, 11)
    access = campaign_reader_access(user=cast.national_requester, pk=campaign.pk)
    report = quality.quality_report(access=access)
    assert report.examined == 2
    kinds = {line.value.pk: sorted(line.kinds) for line in report.flagged}
    assert kinds == {
        paris.pk: ["directory", "range", "zscore"],
        cayenne.pk: ["range", "zscore"],
    }
    line = next(line for line in report.flagged if line.value.pk == paris.pk)
    texts = " ".join(reason.text for reason in line.reasons)
    assert "[10 ; 12] (5 périodes)" in texts
    assert "capacité connue de l'établissement : 15 (Lits autorisés)" in texts
    assert line.shown == "20"


def test_the_report_filters_on_one_kind(cast, dgos_campaign):
    campaign, occupied, _ = dgos_campaign
    paris = setup.answered(campaign, cast.paris_hospital, occupied, 20)
    setup.answered(campaign, cast.cayenne_ehpad, occupied, 11)
    access = campaign_reader_access(user=cast.national_requester, pk=campaign.pk)
    report = quality.quality_report(access=access, kind=quality.DIRECTORY)
    assert [line.value.pk for line in report.flagged] == [paris.pk]


def test_a_warning_accepted_with_a_comment_through_the_form_is_listed(cast, dgos_campaign):
    campaign, occupied, _ = dgos_campaign
    given = setup.assignment(campaign, cast.paris_hospital)
    refused = values.submit(given, {occupied.code: "12"}, channel=Channel.FORM)
    assert refused.applied  # within the capacity: no warning, no comment needed
    given2 = setup.assignment(campaign, cast.cayenne_ehpad)
    values.submit(given2, {occupied.code: "30"}, channel=Channel.FORM)
    report = quality.quality_report(
        access=campaign_reader_access(user=cast.national_requester, pk=campaign.pk)
    )
    assert report.flagged == []

    outcome = values.submit(given, {occupied.code: "16"}, channel=Channel.FORM)
    assert not outcome.applied and outcome.unjustified  # 16 > 15 authorised beds
    outcome = values.submit(
        given,
        {occupied.code: "16"},
        channel=Channel.FORM,
        comments={occupied.code: "Lits supplémentaires ouverts pour la crise"},
    )
    assert outcome.applied
    report = quality.quality_report(
        access=campaign_reader_access(user=cast.national_requester, pk=campaign.pk),
        kind=quality.JUSTIFIED,
    )
    (line,) = report.flagged
    assert "Lits supplémentaires ouverts pour la crise" in line.reasons[0].text


def test_an_ars_agent_reading_a_national_campaign_sees_its_region_only(cast, dgos_campaign):
    campaign, occupied, _ = dgos_campaign
    setup.answered(campaign, cast.paris_hospital, occupied, 20)
    setup.answered(campaign, cast.cayenne_ehpad, occupied, 11)
    response = client_for(cast.ars_idf_agent).get(
        reverse("collection:campaign_quality", kwargs={"pk": campaign.pk})
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert "Hôpital de la Pitié" in page and "Ehpad Edmar Lama" not in page
    assert "Vous voyez les établissements de votre périmètre seulement" in page
    # Reading is not acting: no validation button for another organisation's campaign.
    assert 'value="validate"' not in page


def test_the_owner_requester_sees_every_flagged_value_with_its_actions(cast, dgos_campaign):
    campaign, occupied, _ = dgos_campaign
    paris = setup.answered(campaign, cast.paris_hospital, occupied, 20)
    setup.answered(campaign, cast.cayenne_ehpad, occupied, 11)
    response = client_for(cast.national_requester).get(
        reverse("collection:campaign_quality", kwargs={"pk": campaign.pk}),
        {"seuil": "2,5", "type": "outliers"},
    )
    page = response.content.decode()
    assert "Hôpital de la Pitié" in page and "Ehpad Edmar Lama" in page
    assert reverse("collection:value_query", kwargs={"pk": paris.pk}) in page
    assert 'value="validate"' in page and "Questionner" in page
    assert "seuil 2,5" in page


def test_the_page_costs_the_same_queries_for_one_unit_or_several(
    cast, dgos_campaign, django_assert_max_num_queries
):
    campaign, occupied, _ = dgos_campaign
    setup.answered(campaign, cast.paris_hospital, occupied, 20)
    setup.answered(campaign, cast.cayenne_ehpad, occupied, 11)
    for establishment in (cast.pointe_a_pitre_clinic, cast.ain_hospital, cast.paris_ehpad):
        unit = unit_for_establishment(establishment)
        setup.history(unit, occupied, [1, 2, 3, 4, 5])
        setup.answered(campaign, establishment, occupied, 40)
    access = campaign_reader_access(user=cast.national_requester, pk=campaign.pk)
    with django_assert_max_num_queries(8):
        report = quality.quality_report(access=access)
    assert report.examined == 5 and len(report.flagged) == 5
