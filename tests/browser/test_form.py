"""An Ehpad respondent answers a survey in a real browser: live errors, a warning justified,
the answers submitted and stored with their revision."""

import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import Page, expect

from collection import values
from collection.models import Channel, Value
from referentials.units import unit_for_establishment
from tests.browser.test_login_by_role import SCREENSHOTS, log_in
from tests.referentials.factories_dictionary import DefinitionFactory
from tests.surveys.factories import (
    AssignmentFactory,
    CampaignFactory,
    CampaignPeriodFactory,
    QuestionFactory,
    SectionFactory,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _assignments(cast, national_org):
    installed = DefinitionFactory(
        code="lits_installes",
        label="Lits installés",
        value_type="integer",
        minimum=Decimal(0),
        maximum=Decimal(300),
        doctrine="Lits en état d'accueillir un résident, à minuit.\nSans les lits fermés.",
    )
    occupied = DefinitionFactory(
        code="lits_occupes", label="Lits occupés", value_type="integer", max_jump_ratio=Decimal(2)
    )
    section = SectionFactory(title="Capacités", version__survey__owner=national_org)
    QuestionFactory(section=section, definition=installed, required=True)
    QuestionFactory(section=section, definition=occupied)
    campaign = CampaignFactory(version=section.version, title="Capacités des Ehpad")
    unit = unit_for_establishment(cast.cayenne_ehpad)
    yesterday = CampaignPeriodFactory(
        campaign=campaign, day=timezone.localdate() - dt.timedelta(days=1)
    )
    earlier = AssignmentFactory(period=yesterday, unit=unit)
    values.submit(earlier, {"lits_installes": "80", "lits_occupes": "10"}, channel=Channel.API)
    return AssignmentFactory(period=CampaignPeriodFactory(campaign=campaign), unit=unit)


def test_an_ehpad_respondent_fixes_an_error_justifies_a_warning_and_submits(
    page: Page, cast, national_org
):
    assignment = _assignments(cast, national_org)
    log_in(page, cast.ehpad_respondent.email)
    page.goto(reverse("collection:assignment_form", kwargs={"pk": assignment.pk}))
    expect(page.get_by_role("heading", level=1)).to_have_text("Capacités des Ehpad")
    expect(page.get_by_text("Période précédente : 80 lits")).to_be_visible()

    installed = page.locator("#q-lits_installes")
    installed.press_sequentially("400")  # typed, not left: checked after a short pause
    expect(page.locator("#q-lits_installes-messages")).to_contain_text("dépasse le maximum")
    expect(page.locator("#answers-summary")).to_be_visible()
    expect(installed).to_be_focused()
    installed.fill("")
    installed.press_sequentially("82")
    expect(page.locator("#q-lits_installes-messages")).to_be_empty()

    page.locator("#q-lits_occupes").fill("60")
    page.locator("#q-lits_occupes").blur()
    expect(page.locator("#q-lits_occupes-messages")).to_contain_text("un écart de plus de x2")
    comment = page.get_by_label("Justification de l'écart")
    comment.fill("Réouverture de l'aile B après travaux.")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SCREENSHOTS / "form.png", full_page=True)
    page.get_by_role("button", name="Transmettre", exact=True).click()

    expect(page.get_by_text("Vos réponses ont été transmises")).to_be_visible()
    expect(page.get_by_text("Déjà connu : Déclaré le").first).to_be_visible()
    page.screenshot(path=SCREENSHOTS / "form_submitted.png", full_page=True)
    value = Value.objects.get(code="lits_occupes", period_key=assignment.period.key)
    assert (value.data, value.comment) == ("60", "Réouverture de l'aile B après travaux.")
    assert list(value.revisions.values_list("new_data", "channel", "changed_by")) == [
        ("60", "form", cast.ehpad_respondent.pk)
    ]


def test_two_people_on_one_form_the_second_sees_both_values_and_chooses(
    page: Page, browser, live_server, cast, national_org
):
    assignment = _assignments(cast, national_org)
    url = reverse("collection:assignment_form", kwargs={"pk": assignment.pk})
    colleague_context = browser.new_context(base_url=live_server.url, locale="fr-FR")
    colleague = colleague_context.new_page()
    log_in(colleague, cast.legal_entity_respondent.email)
    colleague.goto(url)
    log_in(page, cast.ehpad_respondent.email)
    page.goto(url)

    colleague.locator("#q-lits_installes").fill("81")
    colleague.get_by_role("button", name="Transmettre", exact=True).click()
    expect(colleague.get_by_text("Vos réponses ont été transmises")).to_be_visible()
    colleague_context.close()

    page.locator("#q-lits_installes").fill("85")
    page.get_by_role("button", name="Transmettre", exact=True).click()
    conflict = page.get_by_role("table", name="Réponses modifiées par les deux personnes")
    expect(conflict).to_contain_text("81")
    expect(conflict).to_contain_text("85")
    expect(page.locator("#q-lits_installes")).to_have_value("85")  # nothing lost
    page.screenshot(path=SCREENSHOTS / "form_conflict.png", full_page=True)
    assert Value.objects.get(code="lits_installes", period_key=assignment.period.key).data == "81"

    page.get_by_role("button", name="Transmettre la correction").click()  # keeps « la mienne »
    expect(page.get_by_text("Votre correction a été transmise")).to_be_visible()
    value = Value.objects.get(code="lits_installes", period_key=assignment.period.key)
    assert list(value.revisions.values_list("new_data", flat=True)) == ["81", "85"]
