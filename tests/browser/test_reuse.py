"""An Ehpad asked by an ARS weekly survey sees two answers served from the DGOS's daily
campaign (one available, one still pending), answers the new question only, and corrects a
shared daily value from the served value's page."""

import pytest
from django.urls import reverse
from playwright.sync_api import Page, expect

from collection.models import Value
from referentials.units import unit_for_establishment
from tests.browser.test_login_by_role import SCREENSHOTS, log_in
from tests.collection.reusing import (
    WEEK_DAY,
    assignment_for,
    days_of,
    definition,
    reusing_campaign,
    source_campaign,
    store,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_an_ehpad_sees_served_values_answers_the_rest_and_corrects_a_shared_value(
    page: Page, cast, national_org
):
    unit = unit_for_establishment(cast.cayenne_ehpad)
    beds = definition("lits_disponibles", "stock", label="Lits disponibles")
    admissions = definition("admissions", "flow", label="Admissions de la semaine")
    visits = definition("visites", "flow", label="Visites de la semaine")
    source = source_campaign(
        [beds, admissions], [unit], title="Capacités quotidiennes", owner=national_org
    )
    target = reusing_campaign(
        [beds, admissions, visits], [beds, admissions], source=source, title="Suivi hebdomadaire"
    )
    days = days_of(WEEK_DAY)
    for index, day in enumerate(days):
        store(unit, beds, day, str(40 + index), campaign=source)
        if index < 5:
            store(unit, admissions, day, "2", campaign=source)
    assignment = assignment_for(target, unit)

    log_in(page, cast.ehpad_respondent.email)
    page.goto(reverse("collection:assignment_form", kwargs={"pk": assignment.pk}))
    expect(page.locator("#q-lits_disponibles")).to_have_value("46")
    expect(page.locator("#q-lits_disponibles")).to_have_attribute("readonly", "")
    expect(page.get_by_text("En attente : 5 valeurs journalières sur 7")).to_be_visible()
    page.screenshot(path=str(SCREENSHOTS / "reuse-form.png"), full_page=True)
    page.get_by_label("Visites de la semaine").fill("12")
    page.get_by_role("button", name="Transmettre", exact=True).click()
    expect(page.get_by_text("Vos réponses ont été transmises")).to_be_visible()
    assert Value.objects.get(definition=visits).data == "12"

    page.get_by_role("link", name="Corriger la valeur partagée").first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Valeur partagée : Lits disponibles")
    page.screenshot(path=str(SCREENSHOTS / "reuse-served-value.png"), full_page=True)
    form = page.locator("form", has=page.get_by_role("heading", name=days[-1].label))
    form.get_by_label("Valeur corrigée").fill("44")
    form.get_by_label("Motif de la correction").fill("Deux lits fermés dimanche soir")
    form.get_by_role("button", name="Corriger cette valeur").click()
    expect(page.get_by_text("La valeur partagée est corrigée")).to_be_visible()
    expect(page.locator("#served-value")).to_contain_text("44")
    assert Value.objects.get(definition=beds, period_key=days[-1].key).data == "44"
