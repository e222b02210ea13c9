"""The audience of a campaign: filters, explicit lists, exclusions, the owner's scope."""

import io

import pytest

from accounts.models import AuditEvent, Organisation
from referentials.identifiers import luhn_is_valid
from referentials.models import Establishment, ReportingUnit
from surveys.audience import (
    AudienceError,
    audience_count,
    audience_queryset,
    audience_sample,
    check_filters,
    parse_finess_list,
    parse_rpps_list,
    region_choices,
    resolve_units,
    territory_choices,
    text_from_upload,
)
from tests.referentials.factories import (
    EstablishmentFactory,
    LegalEntityFactory,
    ProfessionalActivityFactory,
)
from tests.surveys.factories import CampaignFactory

ESTABLISHMENT = "establishment"
PROFESSIONAL = "professional"


@pytest.fixture
def dgos(cast):
    return Organisation.objects.get(short_name="DGOS")


@pytest.fixture
def ars_idf(cast):
    return Organisation.objects.get(kind="ars", region_code="11")


@pytest.fixture
def ars_guadeloupe(cast):
    return Organisation.objects.get(kind="ars", region_code="01")


def finesses(filters, owner, unit_kind=ESTABLISHMENT):
    queryset = audience_queryset(filters=filters, unit_kind=unit_kind, owner=owner)
    return sorted(queryset.values_list("finess", flat=True))


# --- criteria -------------------------------------------------------------------------------------


def test_no_criterion_selects_nobody(cast, dgos):
    assert finesses({}, dgos) == []


def test_categories_select_every_ehpad_nationwide(cast, dgos):
    assert finesses({"categories": ["500"]}, dgos) == sorted(
        [cast.paris_ehpad.finess, cast.cayenne_ehpad.finess]
    )


def test_codes_within_a_criterion_are_alternatives(cast, dgos):
    EstablishmentFactory(finess="750000010", category_code="101", category_label="CHR")
    selected = finesses({"categories": ["500", "101"]}, dgos)
    assert "750000010" in selected and cast.paris_ehpad.finess in selected


def test_criteria_combine_with_and(cast, dgos):
    assert finesses({"categories": ["500"], "departments": ["75"]}, dgos) == [
        cast.paris_ehpad.finess
    ]


def test_aggregate_category_filter(cast, dgos):
    EstablishmentFactory(
        finess="750000028", aggregate_category_code="4401", aggregate_category_label="Ehpa"
    )
    assert finesses({"aggregate_categories": ["4401"]}, dgos) == ["750000028"]


def test_region_filter(cast, dgos):
    assert finesses({"regions": ["84"]}, dgos) == [cast.ain_hospital.finess]


def test_territory_filter_tells_saint_martin_from_guadeloupe(cast, dgos):
    assert finesses({"territories": ["978"]}, dgos) == [cast.saint_martin_hospital.finess]


def test_legal_status_filter(cast, dgos):
    public = LegalEntityFactory(finess="750000101", legal_status_code="13", legal_status_label="CH")
    EstablishmentFactory(finess="750000036", legal_entity=public)
    assert finesses({"legal_statuses": ["13"]}, dgos) == ["750000036"]


def test_legal_entity_filter_selects_its_sites(cast, dgos):
    assert finesses({"legal_entities": ["970302022"]}, dgos) == sorted(
        [cast.cayenne_hospital.finess, cast.cayenne_ehpad.finess]
    )


def test_closed_establishments_are_never_in_the_audience(cast, dgos):
    EstablishmentFactory(ehpad=True, finess="750000044", status=Establishment.Status.CLOSED)
    assert "750000044" not in finesses({"categories": ["500"]}, dgos)


# --- explicit lists and exclusions ----------------------------------------------------------------


def test_explicit_finess_are_added_to_the_criteria(cast, dgos):
    selected = finesses({"categories": ["500"], "finess": [cast.ain_hospital.finess]}, dgos)
    assert selected == sorted(
        [cast.paris_ehpad.finess, cast.cayenne_ehpad.finess, cast.ain_hospital.finess]
    )


def test_explicit_finess_alone_is_an_audience(cast, dgos):
    assert finesses({"finess": [cast.ain_hospital.finess]}, dgos) == [cast.ain_hospital.finess]


def test_exclusions_remove_from_criteria_and_explicit_lists(cast, dgos):
    filters = {
        "categories": ["500"],
        "finess": [cast.ain_hospital.finess, cast.paris_hospital.finess],
        "exclude_finess": [cast.cayenne_ehpad.finess, cast.ain_hospital.finess],
    }
    assert finesses(filters, dgos) == sorted([cast.paris_ehpad.finess, cast.paris_hospital.finess])


def test_excluded_categories_are_removed(cast, dgos):
    filters = {"departments": ["75"], "exclude_categories": ["500"]}
    assert finesses(filters, dgos) == [cast.paris_hospital.finess]


def test_count_and_sample_agree(cast, dgos):
    filters = {"regions": ["11", "01", "03"]}
    count = audience_count(filters=filters, unit_kind=ESTABLISHMENT, owner=dgos)
    sample = audience_sample(filters=filters, unit_kind=ESTABLISHMENT, owner=dgos, size=3)
    assert count == 7
    assert len(sample) == 3
    assert [e.name for e in sample] == sorted(e.name for e in sample)


# --- owner's scope --------------------------------------------------------------------------------


def test_ars_guadeloupe_reaches_971_977_978_only(cast, ars_guadeloupe):
    every_category = {"categories": ["355", "500"]}
    assert finesses(every_category, ars_guadeloupe) == sorted(
        [
            cast.pointe_a_pitre_clinic.finess,
            cast.saint_barthelemy_pmi.finess,
            cast.saint_martin_hospital.finess,
        ]
    )


def test_ars_never_reaches_outside_its_territories_even_by_explicit_list(cast, ars_idf):
    filters = {"finess": [cast.ain_hospital.finess, cast.paris_hospital.finess]}
    assert finesses(filters, ars_idf) == [cast.paris_hospital.finess]


def test_ars_targeting_another_region_is_refused_and_logged(cast, ars_idf):
    filters = {"categories": ["500"], "departments": ["75", "973"]}
    with pytest.raises(AudienceError) as refused:
        check_filters(
            filters=filters, unit_kind=ESTABLISHMENT, user=cast.ars_idf_agent, owner=ars_idf
        )
    assert any("hors du périmètre" in m and "973" in m for m in refused.value.messages)
    event = AuditEvent.objects.get(action="audience.refused_out_of_scope")
    assert event.actor == cast.ars_idf_agent
    assert event.details["out_of_scope"] == {"territories": ["973"]}


def test_ars_targeting_an_establishment_of_another_region_is_refused(cast, ars_idf):
    with pytest.raises(AudienceError) as refused:
        check_filters(
            filters={"finess": [cast.ain_hospital.finess]},
            unit_kind=ESTABLISHMENT,
            user=cast.ars_idf_agent,
            owner=ars_idf,
        )
    assert cast.ain_hospital.finess in refused.value.messages[0]
    assert AuditEvent.objects.filter(action="audience.refused_out_of_scope").count() == 1


def test_unknown_codes_are_named(cast, dgos):
    filters = {"categories": ["500", "999"], "territories": ["99"], "regions": ["00"]}
    with pytest.raises(AudienceError) as refused:
        check_filters(
            filters=filters, unit_kind=ESTABLISHMENT, user=cast.national_requester, owner=dgos
        )
    text = " ".join(refused.value.messages)
    assert "999" in text and "99" in text and "Région(s) inconnu(s) : 00" in text
    assert not AuditEvent.objects.filter(action="audience.refused_out_of_scope").exists()


def test_valid_filters_pass_the_check(cast, ars_guadeloupe):
    check_filters(
        filters={"categories": ["355"], "territories": ["971", "977", "978"], "regions": ["01"]},
        unit_kind=ESTABLISHMENT,
        user=cast.ars_guadeloupe_agent,
        owner=ars_guadeloupe,
    )


# --- pasted and uploaded lists --------------------------------------------------------------------


def test_pasted_finess_list_names_each_wrong_line(cast, ars_idf):
    text = "\n".join(
        [
            cast.paris_hospital.finess,
            f"{cast.paris_ehpad.finess}; {cast.paris_hospital.finess}",
            "75010004",
            "",
            "750000002",
            "",
            cast.ain_hospital.finess,
        ]
    )
    numbers, errors = parse_finess_list(text, owner=ars_idf)
    assert numbers == [cast.paris_hospital.finess, cast.paris_ehpad.finess]
    assert errors == [
        "ligne 3 : « 75010004 » n'est pas un numéro FINESS valide (9 caractères, clé)",
        "ligne 5 : 750000002 inconnu de l'annuaire",
        f"ligne 7 : {cast.ain_hospital.finess} hors de votre territoire",
    ]


def test_finess_list_accepts_commas_spaces_and_corsica(cast, dgos):
    EstablishmentFactory(finess="2A0000030", territory_code="2A", region_code="94")
    numbers, errors = parse_finess_list(f"2a0000030, {cast.ain_hospital.finess} ", owner=dgos)
    assert errors == []
    assert numbers == ["2A0000030", cast.ain_hospital.finess]


def test_uploaded_csv_first_column_with_header(cast, dgos):
    upload = io.BytesIO(
        f"finess;nom\r\n{cast.paris_hospital.finess};Pitié\r\n{cast.ain_hospital.finess};"
        "Fleyriat\r\n".encode("cp1252")
    )
    numbers, errors = parse_finess_list(text_from_upload(upload), owner=dgos)
    assert errors == []
    assert numbers == [cast.paris_hospital.finess, cast.ain_hospital.finess]


# --- professionals --------------------------------------------------------------------------------


@pytest.fixture
def professionals(cast):
    nurse = ProfessionalActivityFactory(
        professional__profession_code="60",
        professional__profession_label="Infirmier",
        professional__specialty_code="",
        professional__specialty_label="",
        mode_code="S",
        mode_label="Salarié",
        territory_code="92",
    ).professional
    lyon_doctor = ProfessionalActivityFactory(territory_code="69").professional
    # Salaried in Paris AND liberal in Lyon: "liberal in Paris" must not select him.
    mixed = ProfessionalActivityFactory(
        mode_code="S", mode_label="Salarié", territory_code="75"
    ).professional
    ProfessionalActivityFactory(professional=mixed, mode_code="L", territory_code="69")
    return {"nurse": nurse, "lyon_doctor": lyon_doctor, "mixed": mixed}


def rpps(filters, owner):
    queryset = audience_queryset(filters=filters, unit_kind=PROFESSIONAL, owner=owner)
    return sorted(queryset.values_list("rpps", flat=True))


def test_professionals_by_profession(cast, dgos, professionals):
    assert rpps({"professions": ["60"]}, dgos) == [professionals["nurse"].rpps]


def test_professionals_by_mode_and_territory_of_one_activity(cast, dgos, professionals):
    assert rpps({"modes": ["L"], "territories": ["75"]}, dgos) == [cast.paris_doctor.rpps]


def test_professionals_by_territory(cast, dgos, professionals):
    assert rpps({"territories": ["69"]}, dgos) == sorted(
        [professionals["lyon_doctor"].rpps, professionals["mixed"].rpps]
    )


def test_ars_reaches_professionals_active_in_its_territories_only(cast, ars_idf, professionals):
    assert rpps({"professions": ["10"]}, ars_idf) == sorted(
        [cast.paris_doctor.rpps, professionals["mixed"].rpps]
    )


def test_explicit_and_excluded_rpps(cast, dgos, professionals):
    filters = {
        "professions": ["10"],
        "rpps": [professionals["nurse"].rpps],
        "exclude_rpps": [professionals["lyon_doctor"].rpps],
    }
    assert rpps(filters, dgos) == sorted(
        [cast.paris_doctor.rpps, professionals["nurse"].rpps, professionals["mixed"].rpps]
    )


def with_check_digit(digits):
    """``digits`` followed by the Luhn check digit that makes a valid RPPS number."""
    return next(f"{digits}{d}" for d in "0123456789" if luhn_is_valid(f"{digits}{d}"))


def test_pasted_rpps_list(cast, ars_idf):
    paris = ProfessionalActivityFactory(
        professional__national_id="8" + with_check_digit("1000000004"),
        professional__rpps=with_check_digit("1000000004"),
    ).professional
    lyon = ProfessionalActivityFactory(
        professional__national_id="8" + with_check_digit("1000000005"),
        professional__rpps=with_check_digit("1000000005"),
        territory_code="69",
    ).professional
    unknown = with_check_digit("1000000006")
    numbers, errors = parse_rpps_list(
        f"rpps\n{paris.rpps}\n12345678901 ; {lyon.rpps}\n{unknown}", owner=ars_idf
    )
    assert numbers == [paris.rpps]
    assert errors == [
        "ligne 3 : « 12345678901 » n'est pas un numéro RPPS valide (11 chiffres, clé)",
        f"ligne 3 : {lyon.rpps} hors de votre territoire",
        f"ligne 4 : {unknown} inconnu de l'annuaire",
    ]


def test_unknown_profession_is_named(cast, dgos, professionals):
    with pytest.raises(AudienceError, match="Profession"):
        check_filters(
            filters={"professions": ["99"]},
            unit_kind=PROFESSIONAL,
            user=cast.national_requester,
            owner=dgos,
        )


# --- resolution -----------------------------------------------------------------------------------


def test_resolve_units_creates_the_reporting_units(cast, dgos):
    campaign = CampaignFactory(
        status="draft",
        owner=dgos,
        version__survey__owner=dgos,
        audience_filters={"categories": ["500"]},
    )
    unit_ids = resolve_units(campaign=campaign)
    units = ReportingUnit.objects.filter(pk__in=unit_ids)
    assert sorted(units.values_list("finess", flat=True)) == sorted(
        [cast.paris_ehpad.finess, cast.cayenne_ehpad.finess]
    )


def test_resolve_units_of_professionals(cast, dgos, professionals):
    campaign = CampaignFactory(
        status="draft",
        owner=dgos,
        version__survey__owner=dgos,
        unit_kind=PROFESSIONAL,
        audience_filters={"professions": ["60"]},
    )
    (unit_id,) = resolve_units(campaign=campaign)
    assert ReportingUnit.objects.get(pk=unit_id).national_id == professionals["nurse"].national_id


def test_resolve_units_refuses_an_empty_audience(cast, ars_idf):
    campaign = CampaignFactory(
        status="draft",
        owner=ars_idf,
        version__survey__owner=ars_idf,
        audience_filters={"departments": ["75"], "categories": ["999"]},
    )
    with pytest.raises(AudienceError) as refused:
        resolve_units(campaign=campaign)
    assert refused.value.messages == [
        "L'audience ne contient aucun établissement : élargissez les critères."
    ]


def test_territory_choices_are_the_owners(cast, ars_guadeloupe, dgos):
    assert [code for code, _ in territory_choices(ars_guadeloupe)] == ["971", "977", "978"]
    assert [code for code, _ in region_choices(ars_guadeloupe)] == ["01", "977", "978"]
    assert len(territory_choices(dgos)) > 100
