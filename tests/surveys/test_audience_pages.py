"""The audience page: live count and sample (htmx), saving, read-only once sent."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from accounts.models import AuditEvent, Organisation, Role
from surveys.models import CampaignEvent
from tests.accounts.factories import MembershipFactory, UserFactory
from tests.conftest import client_for
from tests.referentials.factories import EstablishmentFactory, ProfessionalActivityFactory
from tests.surveys.factories import CampaignFactory

HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def ars_idf(cast):
    return Organisation.objects.get(kind="ars", region_code="11")


@pytest.fixture
def campaign(ars_idf):
    return CampaignFactory(
        status="draft",
        owner=ars_idf,
        version__survey__owner=ars_idf,
        title="Lits d'Ehpad en Île-de-France",
    )


def url(campaign):
    return reverse("surveys:campaign_audience", kwargs={"pk": campaign.pk})


def test_page_lists_the_owners_territories_only(cast, campaign):
    response = client_for(cast.ars_idf_agent).get(url(campaign))
    assert response.status_code == 200
    html = response.content.decode()
    assert "Paris (75)" in html and "Hauts-de-Seine (92)" in html
    assert "Guyane" not in html
    assert 'aria-live="polite"' in html
    assert 'hx-trigger="change, keyup changed delay:300ms"' in html
    assert "<strong>0</strong> établissement dans l'audience" in html


def test_htmx_partial_returns_the_count_and_the_sample(cast, campaign):
    EstablishmentFactory(
        ehpad=True, finess="920000650", name="Ehpad Les Lilas", territory_code="92"
    )
    response = client_for(cast.ars_idf_agent).get(url(campaign), {"categories": ["500"]}, **HTMX)
    assert response.status_code == 200
    html = response.content.decode()
    assert html.lstrip().startswith("<strong>2</strong> établissements dans l'audience")
    assert "<html" not in html
    assert 'id="audience-sample" hx-swap-oob="true"' in html
    assert "Ehpad Les Lilas" in html and "920000650" in html and "Ehpad Les Tilleuls" in html
    # Cayenne's Ehpad is outside ARS Île-de-France.
    assert "Edmar Lama" not in html


def test_htmx_partial_names_the_wrong_lines_of_a_pasted_list(cast, campaign):
    response = client_for(cast.ars_idf_agent).get(
        url(campaign), {"finess": f"{cast.paris_hospital.finess}\n123"}, **HTMX
    )
    html = response.content.decode()
    assert "<strong>1</strong> établissement" in html
    assert "ligne 2 : « 123 » n&#x27;est pas un numéro FINESS valide" in html


def test_saving_stores_the_filters_and_the_size(cast, campaign):
    response = client_for(cast.ars_idf_agent).post(
        url(campaign), {"categories": ["500"], "territories": ["75", "92"]}
    )
    assert response.status_code == 302
    campaign.refresh_from_db()
    assert campaign.audience_filters == {"categories": ["500"], "territories": ["75", "92"]}
    assert campaign.audience_size == 1
    assert CampaignEvent.objects.filter(campaign=campaign, kind="edit").exists()
    assert AuditEvent.objects.filter(action="campaign.audience_set", actor=cast.ars_idf_agent)


def test_saved_filters_are_shown_again(cast, campaign):
    campaign.audience_filters = {"categories": ["500"], "finess": [cast.paris_hospital.finess]}
    campaign.save()
    html = client_for(cast.ars_idf_agent).get(url(campaign)).content.decode()
    assert cast.paris_hospital.finess in html
    assert "<strong>2</strong> établissements" in html


def test_uploaded_finess_file_is_added_to_the_list(cast, campaign):
    upload = SimpleUploadedFile(
        "liste.csv", f"finess;nom\n{cast.paris_hospital.finess};Pitié\n".encode(), "text/csv"
    )
    response = client_for(cast.ars_idf_agent).post(url(campaign), {"finess_file": upload})
    assert response.status_code == 302
    campaign.refresh_from_db()
    assert campaign.audience_filters == {"finess": [cast.paris_hospital.finess]}


def test_a_list_with_wrong_lines_is_not_saved(cast, campaign):
    response = client_for(cast.ars_idf_agent).post(
        url(campaign), {"finess": f"{cast.paris_hospital.finess}\n{cast.ain_hospital.finess}"}
    )
    assert response.status_code == 200
    assert "ligne 2 : 010000024 hors de votre territoire" in response.content.decode()
    campaign.refresh_from_db()
    assert campaign.audience_filters == {}


def test_ars_posting_another_territory_is_refused_and_logged(cast, campaign):
    response = client_for(cast.ars_idf_agent).post(
        url(campaign), {"categories": ["500"], "territories": ["973"]}
    )
    assert response.status_code == 200
    assert "hors du périmètre" in response.content.decode()
    campaign.refresh_from_db()
    assert campaign.audience_filters == {}
    assert AuditEvent.objects.filter(
        action="audience.refused_out_of_scope", actor=cast.ars_idf_agent
    ).exists()


def test_once_sent_the_audience_is_read_only(cast, campaign):
    campaign.status = "open"
    campaign.save()
    client = client_for(cast.ars_idf_agent)
    html = client.get(url(campaign)).content.decode()
    assert "son audience ne se modifie plus" in html
    assert "hx-get" not in html and "Enregistrer l&#x27;audience" not in html
    assert client.post(url(campaign), {"categories": ["500"]}).status_code == 403


def test_a_viewer_of_the_owner_reads_but_cannot_save(cast, campaign, ars_idf):
    viewer = UserFactory(email="lecteur@ars.sante.fr")
    MembershipFactory(user=viewer, organisation=ars_idf, role=Role.VIEWER)
    client = client_for(viewer)
    assert client.get(url(campaign)).status_code == 200
    assert client.post(url(campaign), {"categories": ["500"]}).status_code == 403


def test_another_organisations_requester_gets_not_found(cast, campaign):
    assert client_for(cast.national_requester).get(url(campaign)).status_code == 404
    assert client_for(cast.ars_guadeloupe_agent).get(url(campaign)).status_code == 404


def test_professional_audience_page_and_count(cast, ars_idf):
    ProfessionalActivityFactory(
        professional__profession_code="60",
        professional__profession_label="Infirmier",
        mode_code="S",
        mode_label="Salarié",
        territory_code="93",
    )
    campaign = CampaignFactory(
        status="draft", owner=ars_idf, version__survey__owner=ars_idf, unit_kind="professional"
    )
    client = client_for(cast.ars_idf_agent)
    html = client.get(url(campaign)).content.decode()
    assert "Infirmier" in html and "Médecin" in html and "Salarié" in html and "Libéral" in html
    partial = client.get(url(campaign), {"modes": ["L"], "territories": ["75"]}, **HTMX)
    text = partial.content.decode()
    assert text.lstrip().startswith("<strong>1</strong> professionnel dans l'audience")
    assert "DURAND" in text
    response = client.post(url(campaign), {"professions": ["60"]})
    assert response.status_code == 302
    campaign.refresh_from_db()
    assert (campaign.audience_filters, campaign.audience_size) == ({"professions": ["60"]}, 1)
