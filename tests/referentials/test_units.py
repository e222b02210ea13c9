"""Reporting units: one per establishment or professional, created in bulk, kept in scope."""

import pytest

from referentials.models import ReportingUnit
from referentials.units import units_for_establishments, units_for_professionals
from tests.referentials.factories import EstablishmentFactory, ProfessionalActivityFactory

pytestmark = pytest.mark.django_db


def test_units_are_created_once_in_input_order():
    first, second = EstablishmentFactory(), EstablishmentFactory()
    ids = units_for_establishments([second.pk, first.pk, second.pk])
    assert len(ids) == 2 and ReportingUnit.objects.count() == 2
    assert units_for_establishments([first.pk, second.pk]) == [ids[1], ids[0]]
    unit = ReportingUnit.objects.get(pk=ids[0])
    assert (unit.finess, unit.territory_code, unit.legal_entity_finess) == (
        second.finess,
        "75",
        second.legal_entity.finess,
    )


def test_a_moved_establishment_moves_its_unit_into_the_new_scope():
    establishment = EstablishmentFactory()
    [unit_id] = units_for_establishments([establishment.pk])
    establishment.territory_code = "92"
    establishment.save()
    units_for_establishments([establishment.pk])
    assert ReportingUnit.objects.get(pk=unit_id).territory_code == "92"


def test_a_professional_unit_carries_the_territory_of_the_first_activity():
    activity = ProfessionalActivityFactory(territory_code="971")
    [unit_id] = units_for_professionals([activity.professional_id])
    unit = ReportingUnit.objects.get(pk=unit_id)
    assert unit.kind == "professional"
    assert (unit.national_id, unit.territory_code) == (activity.professional.national_id, "971")


def test_each_role_sees_only_the_units_of_its_scope(cast):
    units_for_establishments(
        [cast.paris_hospital.pk, cast.cayenne_ehpad.pk, cast.saint_martin_hospital.pk]
    )
    units_for_professionals([cast.paris_doctor.pk])

    def seen(role):
        return set(
            ReportingUnit.objects.visible_to(cast.user(role)).values_list("label", flat=True)
        )

    assert seen("ars_guadeloupe_agent") == {"CH Louis-Constant Fleming"}
    assert seen("legal_entity_respondent") == {"Ehpad Edmar Lama"}
    assert seen("hospital_respondent") == {"Hôpital de la Pitié"}
    assert seen("professional") == {"Claire DURAND — Médecin"}
    assert seen("ars_idf_agent") == {"Hôpital de la Pitié", "Claire DURAND — Médecin"}
    assert seen("outsider") == set()
    assert len(seen("national_requester")) == 4


def test_refreshing_after_an_import_moves_units_with_their_establishments():
    """The imports call refresh_units: an establishment moved to another territory or legal
    entity moves its unit, and the old scope loses it at once."""
    from referentials.units import refresh_units

    establishment = EstablishmentFactory()
    [unit_id] = units_for_establishments([establishment.pk])
    other = EstablishmentFactory().legal_entity
    establishment.legal_entity = other
    establishment.territory_code = "93"
    establishment.save()
    refresh_units()
    unit = ReportingUnit.objects.get(pk=unit_id)
    assert (unit.territory_code, unit.legal_entity_finess) == ("93", other.finess)
