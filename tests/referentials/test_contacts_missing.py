"""The curators' list of open establishments nobody would be told about."""

import pytest
from django.urls import reverse

from accounts.models import Organisation, Role
from referentials.models import Establishment, FunctionalContact
from tests.accounts.factories import MembershipFactory, UserFactory
from tests.conftest import client_for

URL = reverse("referentials:curation_without_contacts")
# The cast's establishments with no contact and no respondent (the Pitié and the two Cayenne
# sites have respondents: their own, or the legal entity's).
WITHOUT = [
    "CH de Fleyriat",
    "CH Louis-Constant Fleming",
    "Clinique des Eaux-Claires",
    "Ehpad Les Tilleuls",
    "PMI Saint-Barthélemy",
]


def listed(response):
    return sorted(e.name for e in response.context["page"].object_list)


def test_the_national_curator_sees_every_open_establishment_nobody_answers_for(cast):
    response = client_for(cast.curator).get(URL)
    assert response.status_code == 200
    assert listed(response) == sorted(WITHOUT)
    found = response.context["found"]
    assert (found.count, found.open_count) == (5, 8)
    assert "<strong>5</strong> établissements sans contact sur 8" in response.content.decode()


def test_an_active_contact_removes_an_establishment_an_inactive_one_does_not(cast):
    FunctionalContact.objects.create(
        establishment=cast.ain_hospital, role="direction", email="direction@fleyriat.fr"
    )
    FunctionalContact.objects.create(
        establishment=cast.paris_ehpad,
        role="direction",
        email="ancienne@tilleuls.fr",
        is_active=False,
    )
    names = listed(client_for(cast.curator).get(URL))
    assert "CH de Fleyriat" not in names
    assert "Ehpad Les Tilleuls" in names


def test_a_closed_establishment_is_not_listed(cast):
    Establishment.objects.filter(pk=cast.pointe_a_pitre_clinic.pk).update(
        status=Establishment.Status.CLOSED
    )
    response = client_for(cast.curator).get(URL)
    assert "Clinique des Eaux-Claires" not in listed(response)
    assert response.context["found"].open_count == 7


def test_filters_by_territory_and_category_with_counts_per_territory(cast):
    client = client_for(cast.curator)
    guadeloupe = client.get(URL, {"territory": "977"})
    assert listed(guadeloupe) == ["PMI Saint-Barthélemy"]
    assert guadeloupe.context["found"].open_count == 1
    ehpads = client.get(URL, {"category": cast.paris_ehpad.category_code})
    assert "Ehpad Les Tilleuls" in listed(ehpads)
    assert "CH de Fleyriat" not in listed(ehpads)
    by_territory = {
        row.code: (row.missing, row.open) for row in client.get(URL).context["found"].by_territory
    }
    assert by_territory["75"] == (1, 2)  # the Tilleuls; the Pitié has its crisis cell
    assert "973" not in by_territory


def test_an_unknown_filter_value_is_said_and_lists_everything(cast):
    response = client_for(cast.curator).get(URL, {"territory": "999"})
    assert "choisissez-en un dans la liste" in response.content.decode()
    assert listed(response) == sorted(WITHOUT)


def test_a_regional_curator_sees_only_the_territories_of_the_agency(cast):
    agency = Organisation.objects.get(name__startswith="ARS Guadeloupe")
    curator = UserFactory(email="referentiel@ars-guadeloupe.fr")
    MembershipFactory(user=curator, organisation=agency, role=Role.CURATOR)
    response = client_for(curator).get(URL)
    assert listed(response) == [
        "CH Louis-Constant Fleming",
        "Clinique des Eaux-Claires",
        "PMI Saint-Barthélemy",
    ]
    assert response.context["found"].open_count == 3
    territories = [code for code, _ in response.context["form"].fields["territory"].choices]
    assert "75" not in territories


def test_each_establishment_links_to_its_contacts_page_and_curation_links_here(cast):
    client = client_for(cast.curator)
    page = client.get(URL).content.decode()
    contacts = reverse(
        "referentials:curation_contacts", kwargs={"finess": cast.ain_hospital.finess}
    )
    assert f'href="{contacts}"' in page
    assert URL in client.get(reverse("referentials:curation_proposal_list")).content.decode()
    assert URL in client.get(contacts).content.decode()


@pytest.mark.parametrize("role", ["national_requester", "hospital_respondent", "outsider"])
def test_other_roles_are_refused(cast, role):
    assert client_for(cast.user(role)).get(URL).status_code == 403


def test_the_query_count_does_not_grow_with_the_establishments(cast, django_assert_max_num_queries):
    from tests.referentials.factories import EstablishmentFactory

    client = client_for(cast.curator)
    client.get(URL)
    for n in range(30):
        EstablishmentFactory(finess=f"0100{n:04d}0", territory_code="01")
    with django_assert_max_num_queries(14):
        response = client.get(URL)
    assert response.context["found"].count > 5
