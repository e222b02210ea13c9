import pytest

from accounts.models import Organisation
from referentials.models import Establishment


def visible(user):
    return set(Establishment.objects.visible_to(user).values_list("finess", flat=True))


def test_national_requester_sees_every_establishment(cast):
    assert visible(cast.national_requester) == set(
        Establishment.objects.values_list("finess", flat=True)
    )


def test_ars_agent_sees_only_its_region(cast):
    assert visible(cast.ars_idf_agent) == {cast.paris_hospital.finess, cast.paris_ehpad.finess}


def test_ars_guadeloupe_covers_saint_martin_and_saint_barthelemy(cast):
    assert visible(cast.ars_guadeloupe_agent) == {
        cast.pointe_a_pitre_clinic.finess,
        cast.saint_barthelemy_pmi.finess,
        cast.saint_martin_hospital.finess,
    }


def test_ars_agent_cannot_see_other_region(cast):
    assert cast.cayenne_hospital.finess not in visible(cast.ars_guadeloupe_agent)
    assert cast.ain_hospital.finess not in visible(cast.ars_idf_agent)


def test_establishment_respondent_sees_only_itself(cast):
    assert visible(cast.ehpad_respondent) == {cast.cayenne_ehpad.finess}
    assert visible(cast.hospital_respondent) == {cast.paris_hospital.finess}


def test_legal_entity_respondent_sees_all_its_sites_and_nothing_else(cast):
    assert visible(cast.legal_entity_respondent) == {
        cast.cayenne_hospital.finess,
        cast.cayenne_ehpad.finess,
    }


def test_outsider_and_anonymous_see_nothing(cast):
    from django.contrib.auth.models import AnonymousUser

    assert visible(cast.outsider) == set()
    assert visible(AnonymousUser()) == set()


def test_deactivated_organisation_no_longer_grants_its_scope(cast):
    Organisation.objects.filter(short_name="").filter(kind="ars", region_code="11").update(
        is_active=False
    )
    cast.ars_idf_agent.refresh_from_db()
    assert visible(cast.ars_idf_agent) == set()


def test_deactivated_user_sees_nothing(cast):
    cast.national_requester.is_active = False
    assert visible(cast.national_requester) == set()


def test_user_in_two_organisations_sees_both_scopes(cast):
    from tests.accounts.factories import MembershipFactory

    ars_guadeloupe = Organisation.objects.get(kind="ars", region_code="01")
    MembershipFactory(user=cast.ars_idf_agent, organisation=ars_guadeloupe)
    cast.ars_idf_agent.refresh_from_db()
    assert cast.saint_martin_hospital.finess in visible(cast.ars_idf_agent)
    assert cast.paris_hospital.finess in visible(cast.ars_idf_agent)


@pytest.mark.parametrize(
    "role, expected",
    [
        ("national_requester", "all"),
        ("ars_idf_agent", {"ARS Île-de-France", "Hôpital de la Pitié"}),
        ("legal_entity_respondent", {"CH de Cayenne", "Ehpad Edmar Lama"}),
        ("ehpad_respondent", {"Ehpad Edmar Lama"}),
        ("outsider", set()),
    ],
)
def test_organisations_are_scoped_the_same_way(cast, role, expected):
    names = set(Organisation.objects.visible_to(cast.user(role)).values_list("name", flat=True))
    if expected == "all":
        assert names == set(Organisation.objects.values_list("name", flat=True))
    else:
        assert names == expected
