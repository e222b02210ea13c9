"""An ARS Île-de-France requester targets every Ehpad of her region and sees the count live."""

import pytest
from django.urls import reverse
from playwright.sync_api import Page, expect

from accounts.models import Organisation
from surveys.models import Campaign
from tests.browser.test_login_by_role import log_in
from tests.referentials.factories import EstablishmentFactory
from tests.surveys.factories import CampaignFactory

pytestmark = pytest.mark.browser


@pytest.mark.django_db(transaction=True)
def test_ars_requester_targets_every_ehpad_of_ile_de_france(page: Page, live_server, cast):
    ars_idf = Organisation.objects.get(kind="ars", region_code="11")
    for finess, name, territory in [
        ("920000650", "Ehpad Les Lilas", "92"),
        ("930000021", "Ehpad La Roseraie", "93"),
        ("750000010", "Ehpad Montsouris", "75"),
    ]:
        EstablishmentFactory(
            ehpad=True, finess=finess, name=name, territory_code=territory, region_code="11"
        )
    # An Ehpad outside Île-de-France (Lyon): never in this ARS's audience.
    EstablishmentFactory(
        ehpad=True, finess="690000013", name="Ehpad du Rhône", territory_code="69", region_code="84"
    )
    campaign = CampaignFactory(
        status="draft", owner=ars_idf, version__survey__owner=ars_idf, title="Tensions en Ehpad"
    )

    log_in(page, cast.ars_idf_agent.email)
    page.goto(reverse("surveys:campaign_audience", kwargs={"pk": campaign.pk}))
    count = page.locator("#audience-count")
    expect(count).to_have_attribute("aria-live", "polite")
    expect(count).to_contain_text("0 établissement dans l'audience")

    # DSFR checkboxes are drawn by their label: a person clicks the label.
    ehpad = "Etablissement d'hébergement pour personnes âgées dépendantes (500)"
    page.locator("#checkboxes-id_categories label", has_text=ehpad).click()
    # The cast's Ehpad Les Tilleuls (75) and the three above; not Lyon's nor Cayenne's.
    expect(count).to_contain_text("4 établissements dans l'audience")
    sample = page.locator("#audience-sample")
    expect(sample).to_contain_text("Ehpad Les Lilas")
    expect(sample).to_contain_text("920000650")
    expect(sample).not_to_contain_text("Ehpad du Rhône")

    paris = page.locator("#checkboxes-id_territories label", has_text="Paris (75)")
    paris.click()
    expect(count).to_contain_text("2 établissements dans l'audience")
    paris.click()
    expect(count).to_contain_text("4 établissements dans l'audience")

    page.screenshot(path="/tmp/audience.png", full_page=True)  # noqa: S108 - asked for here
    page.get_by_role("button", name="Enregistrer l'audience").click()
    expect(page.locator(".fr-alert--success")).to_contain_text(
        "Audience enregistrée : 4 établissements."
    )
    campaign = Campaign.objects.get(pk=campaign.pk)
    assert campaign.audience_filters == {"categories": ["500"]}
    assert campaign.audience_size == 4
