"""The directory's search page and establishment page, seen by each role of the cast."""

import datetime

import pytest
from django.urls import reverse

from referentials.models import (
    DirectoryChange,
    Establishment,
    FunctionalContact,
    Professional,
    ProfessionalActivity,
    Region,
    Territory,
)
from referentials.search import establishment_search_text
from tests.conftest import client_for
from tests.referentials.factories import EstablishmentFactory

LIST_URL = reverse("referentials:establishment_list")


def search(user, **params):
    response = client_for(user).get(LIST_URL, params)
    assert response.status_code == 200
    return response


def found(response) -> set[str]:
    return {establishment.finess for establishment in response.context["page"].object_list}


def detail_url(establishment) -> str:
    return reverse("referentials:establishment_detail", args=[establishment.finess])


# --- Search -----------------------------------------------------------------------------------


def test_factories_fill_the_search_text_as_importers_do(cast):
    assert cast.paris_hospital.search_text == establishment_search_text(
        name="Hôpital de la Pitié", city="PARIS", finess="750100042"
    )
    assert cast.paris_hospital.search_text.startswith("HOPITAL DE LA PITIE")


def test_search_ignores_accents_and_case(cast):
    response = search(cast.national_requester, q="hopital de la pitie")
    assert found(response) == {cast.paris_hospital.finess}
    assert "Hôpital de la Pitié" in response.content.decode()


def test_search_ignores_punctuation_and_finds_the_long_name_and_the_city(cast):
    EstablishmentFactory(
        finess="970100236",
        name="CH BASSE-TERRE",
        long_name="Centre hospitalier de Basse-Terre",
        city="BASSE TERRE",
        territory_code="971",
        region_code="01",
    )
    assert found(search(cast.national_requester, q="centre hospitalier")) == {"970100236"}
    assert found(search(cast.national_requester, q="basse-terre")) == {"970100236"}
    assert found(search(cast.national_requester, q="Eaux Claires")) == {
        cast.pointe_a_pitre_clinic.finess
    }


def test_search_by_finess_number_finds_the_establishment(cast):
    response = search(cast.national_requester, q=cast.saint_martin_hospital.finess)
    assert found(response) == {cast.saint_martin_hospital.finess}


def test_search_by_legal_entity_number_lists_its_sites(cast):
    response = search(cast.national_requester, q="970302022")
    assert found(response) == {cast.cayenne_hospital.finess, cast.cayenne_ehpad.finess}


def test_legal_entity_filter_lists_its_sites(cast):
    response = search(cast.national_requester, legal_entity="970302022")
    assert found(response) == {cast.cayenne_hospital.finess, cast.cayenne_ehpad.finess}


def test_category_filter_keeps_only_that_category(cast):
    response = search(cast.national_requester, category="500")
    assert found(response) == {cast.paris_ehpad.finess, cast.cayenne_ehpad.finess}


def test_aggregate_category_filter_keeps_only_that_aggregate(cast):
    Establishment.objects.filter(pk=cast.ain_hospital.pk).update(
        aggregate_category_code="1102", aggregate_category_label="Centres Hospitaliers"
    )
    response = search(cast.national_requester, aggregate_category="1102")
    assert found(response) == {cast.ain_hospital.finess}


def test_region_and_territory_filters_tell_saint_martin_from_guadeloupe(cast):
    assert found(search(cast.national_requester, region="01")) == {
        cast.saint_barthelemy_pmi.finess,
        cast.saint_martin_hospital.finess,
        cast.pointe_a_pitre_clinic.finess,
    }
    assert found(search(cast.national_requester, territory="978")) == {
        cast.saint_martin_hospital.finess
    }


def test_closed_establishments_are_left_out_unless_asked_for(cast):
    EstablishmentFactory(
        finess="750000001",
        name="Hôpital Laennec",
        status=Establishment.Status.CLOSED,
        closed_at=datetime.date(2000, 6, 30),
    )
    assert found(search(cast.national_requester, q="laennec")) == set()
    response = search(cast.national_requester, q="laennec", include_closed="on")
    assert found(response) == {"750000001"}
    assert "Fermé le 30/06/2000" in response.content.decode()


def test_the_count_says_how_many_establishments_match(cast):
    response = search(cast.national_requester, category="500")
    assert "<strong>2</strong>" in response.content.decode()
    assert "correspondent à votre recherche" in response.content.decode()


def test_ars_agent_cannot_find_another_region_establishment_by_name(cast):
    assert found(search(cast.ars_guadeloupe_agent, q="pitie")) == set()
    assert found(search(cast.ars_idf_agent, q="pitie")) == {cast.paris_hospital.finess}


def test_ars_agent_cannot_find_another_region_establishment_by_finess(cast):
    assert found(search(cast.ars_guadeloupe_agent, q=cast.paris_hospital.finess)) == set()
    assert found(search(cast.ars_guadeloupe_agent, q="970302022")) == set()  # Cayenne's EJ


def test_ars_guadeloupe_agent_sees_saint_martin_and_saint_barthelemy(cast):
    assert found(search(cast.ars_guadeloupe_agent)) == {
        cast.saint_barthelemy_pmi.finess,
        cast.saint_martin_hospital.finess,
        cast.pointe_a_pitre_clinic.finess,
    }


def test_respondents_see_only_their_own_establishments(cast):
    assert found(search(cast.ehpad_respondent)) == {cast.cayenne_ehpad.finess}
    assert found(search(cast.hospital_respondent, q="ehpad")) == set()
    assert found(search(cast.legal_entity_respondent)) == {
        cast.cayenne_hospital.finess,
        cast.cayenne_ehpad.finess,
    }


def test_outsider_sees_an_empty_directory(cast):
    assert found(search(cast.outsider)) == set()


def test_filters_offer_only_values_of_the_user_scope(cast):
    form = search(cast.ars_guadeloupe_agent).context["form"]
    assert [code for code, _ in form.fields["territory"].choices] == ["", "971", "977", "978"]
    assert [code for code, _ in form.fields["region"].choices] == ["", "01"]
    assert "500" not in [code for code, _ in form.fields["category"].choices]


def test_filters_are_labelled_with_territory_names_when_they_are_loaded(cast):
    guadeloupe = Region.objects.create(code="01", name="Guadeloupe", zone=Region.Zone.DROM)
    Territory.objects.create(code="977", name="Saint-Barthélemy", region=guadeloupe)
    form = search(cast.ars_guadeloupe_agent).context["form"]
    assert ("977", "Saint-Barthélemy (977)") in form.fields["territory"].choices
    assert ("978", "978") in form.fields["territory"].choices
    assert ("01", "Guadeloupe (01)") in form.fields["region"].choices


def test_a_category_outside_the_scope_is_refused_with_a_message(cast):
    response = search(cast.ars_guadeloupe_agent, category="500")
    assert response.context["form"].errors["category"]
    assert found(response) == set()
    assert "Corrigez les filtres" in response.content.decode()


def test_a_malformed_legal_entity_number_is_refused_with_a_message(cast):
    response = search(cast.national_requester, legal_entity="12")
    assert "9 caractères" in response.content.decode()
    assert found(response) == set()


def test_pagination_links_keep_the_filters(cast):
    for n in range(55):
        EstablishmentFactory(ehpad=True, name=f"Ehpad numéro {n:02d}")
    response = search(cast.national_requester, category="500", q="ehpad")
    assert response.context["page"].paginator.count == 57
    assert len(found(response)) == 50
    assert "?category=500&amp;q=ehpad&amp;page=2" in response.content.decode()
    second = search(cast.national_requester, category="500", q="ehpad", page=2)
    assert len(found(second)) == 7


@pytest.mark.parametrize("extra", [0, 60])
def test_list_page_queries_do_not_grow_with_the_results(cast, django_assert_max_num_queries, extra):
    for n in range(extra):
        EstablishmentFactory(name=f"Site {n:02d}")
    client = client_for(cast.national_requester)
    # session, user, memberships, filter choices (3), count, page
    with django_assert_max_num_queries(10):
        response = client.get(LIST_URL)
    assert len(found(response)) == min(50, 8 + extra)


# --- Establishment page -----------------------------------------------------------------------


def test_establishment_page_shows_identity_address_and_legal_entity_link(cast):
    Establishment.objects.filter(pk=cast.saint_martin_hospital.pk).update(
        siret="26971009900017",
        opened_on=datetime.date(1990, 1, 2),
        latitude=18.0679,
        longitude=-63.0822,
    )
    page = client_for(cast.ars_guadeloupe_agent).get(detail_url(cast.saint_martin_hospital))
    html = page.content.decode()
    assert page.status_code == 200
    assert "CH Louis-Constant Fleming" in html
    assert "26971009900017" in html
    assert "02/01/1990" in html
    assert "18,06790" in html
    legal_entity = cast.saint_martin_hospital.legal_entity.finess
    assert f"{LIST_URL}?legal_entity={legal_entity}" in html


def test_establishment_page_shows_territory_codes_then_names_once_loaded(cast):
    client = client_for(cast.ars_guadeloupe_agent)
    assert "978" in client.get(detail_url(cast.saint_martin_hospital)).content.decode()
    guadeloupe = Region.objects.create(code="01", name="Guadeloupe", zone=Region.Zone.DROM)
    Territory.objects.create(code="978", name="Saint-Martin", region=guadeloupe)
    html = client.get(detail_url(cast.saint_martin_hospital)).content.decode()
    assert "Saint-Martin (978)" in html
    assert "Guadeloupe (01)" in html


def test_establishment_page_shows_active_contacts_only(cast):
    hospital = cast.cayenne_hospital
    FunctionalContact.objects.create(
        establishment=hospital,
        role=FunctionalContact.Role.CRISIS,
        email="crise@ch-cayenne.fr",
        phone="0594395050",
        verified_on=datetime.date(2026, 3, 1),
        verified_by=cast.curator,
    )
    FunctionalContact.objects.create(
        establishment=hospital,
        role=FunctionalContact.Role.DIRECTION,
        email="ancienne.direction@ch-cayenne.fr",
        is_active=False,
    )
    html = client_for(cast.legal_entity_respondent).get(detail_url(hospital)).content.decode()
    assert "Cellule de crise" in html
    assert "crise@ch-cayenne.fr" in html
    assert "le 01/03/2026 par" in html
    assert "ancienne.direction@ch-cayenne.fr" not in html


def test_establishment_page_lists_sister_sites_the_user_may_see(cast):
    html = client_for(cast.legal_entity_respondent).get(detail_url(cast.cayenne_hospital))
    assert "Ehpad Edmar Lama" in html.content.decode()
    # The Ehpad's respondent answers for the Ehpad only: its sister hospital is not shown.
    html = client_for(cast.ehpad_respondent).get(detail_url(cast.cayenne_ehpad))
    assert "CH de Cayenne</a>" not in html.content.decode()
    assert "Aucun autre établissement" in html.content.decode()


def test_establishment_page_counts_professionals_by_profession(cast):
    def professional(national_id, code, label):
        return Professional.objects.create(
            national_id=national_id,
            last_name=f"Nom {national_id}",
            profession_code=code,
            profession_label=label,
        )

    nurse = professional("810000000001", "60", "Infirmier")
    doctor = professional("810000000002", "10", "Médecin")
    other_nurse = professional("810000000003", "60", "Infirmier")
    for person in (nurse, nurse, doctor, other_nurse):  # two activities, one nurse
        ProfessionalActivity.objects.create(professional=person, finess_site="970300026")
    ProfessionalActivity.objects.create(professional=doctor, finess_site="970302287")
    page = client_for(cast.legal_entity_respondent).get(detail_url(cast.cayenne_hospital))
    assert page.context["professions"] == [
        {"profession": "Infirmier", "count": 2},
        {"profession": "Médecin", "count": 1},
    ]


def test_establishment_page_shows_the_last_fifty_changes(cast):
    hospital = cast.paris_hospital
    DirectoryChange.objects.bulk_create(
        DirectoryChange(
            establishment=hospital,
            field="phone",
            old_value=f"01{n:08d}",
            new_value=f"01{n + 1:08d}",
            source=DirectoryChange.Source.CURATOR,
            actor=cast.curator,
        )
        for n in range(55)
    )
    page = client_for(cast.hospital_respondent).get(detail_url(hospital))
    assert len(page.context["history"]) == 50
    html = page.content.decode()
    assert "0100000054 → 0100000055" in html
    assert "Gestionnaire" in html
    assert "Les 50 dernières modifications" in html


def test_establishment_outside_the_scope_is_not_found(cast):
    for user in (cast.ars_guadeloupe_agent, cast.ehpad_respondent, cast.outsider):
        assert client_for(user).get(detail_url(cast.paris_hospital)).status_code == 404


def test_establishment_page_queries_are_bounded(cast, django_assert_max_num_queries):
    for n in range(30):
        EstablishmentFactory(legal_entity=cast.paris_hospital.legal_entity, name=f"Site {n:02d}")
    client = client_for(cast.national_requester)
    # session, user, memberships, establishment, contacts, sisters (+ count), professions,
    # history, and what the actions partial may need
    with django_assert_max_num_queries(12):
        response = client.get(detail_url(cast.paris_hospital))
    assert response.context["sister_sites_count"] == 30
    assert len(response.context["sister_sites"]) == 20
