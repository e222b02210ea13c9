"""The curator pages and the respondents' proposal page."""

import pytest
from django.template import Context, Template
from django.urls import reverse

from accounts.models import Organisation, Role
from referentials import curation
from referentials.models import ChangeProposal, Correction, DirectoryChange, FunctionalContact
from tests.accounts.factories import MembershipFactory
from tests.conftest import client_for


@pytest.fixture
def guadeloupe_curator(cast):
    ars = Organisation.objects.get(kind=Organisation.Kind.REGIONAL_AGENCY, region_code="01")
    return MembershipFactory(organisation=ars, role=Role.CURATOR).user


def url(name, **kwargs):
    return reverse(f"referentials:{name}", kwargs=kwargs)


def record(establishment, **changes):
    values = {field: getattr(establishment, field) for field in establishment.CURATABLE_FIELDS}
    return {**values, **changes}


# --- Corrections -----------------------------------------------------------------------------


def test_a_curator_corrects_a_record_and_lifts_the_correction(cast):
    pmi = cast.saint_barthelemy_pmi
    client = client_for(cast.curator)
    page = url("curation_corrections", finess=pmi.finess)

    response = client.post(page, record(pmi, phone="05 90 27 60 00", reason="Appel de la PMI"))

    assert response.status_code == 302 and response.url == page
    pmi.refresh_from_db()
    assert pmi.phone == "0590276000"
    response = client.get(page)
    assert "Correction enregistrée (téléphone)" in response.content.decode()
    assert "Appel de la PMI" in response.content.decode()

    correction = Correction.objects.get(establishment=pmi)
    response = client.post(url("curation_correction_clear", pk=correction.pk))
    assert response.status_code == 302
    pmi.refresh_from_db()
    assert pmi.phone == ""
    assert DirectoryChange.objects.filter(establishment=pmi, field="phone").count() == 2


def test_the_correction_page_shows_errors_in_french(cast):
    pmi = cast.saint_barthelemy_pmi
    response = client_for(cast.curator).post(
        url("curation_corrections", finess=pmi.finess),
        record(pmi, email="accueil@", reason="Site internet"),
    )
    assert response.status_code == 200
    assert curation.EMAIL_ERROR in response.content.decode()
    assert not Correction.objects.exists()


def test_a_guadeloupe_curator_works_on_guadeloupe_only(cast, guadeloupe_curator):
    client = client_for(guadeloupe_curator)
    paris = cast.paris_hospital
    assert client.get(url("curation_corrections", finess=paris.finess)).status_code == 404
    response = client.post(
        url("curation_corrections", finess=paris.finess), record(paris, name="X", reason="Y")
    )
    assert response.status_code == 404
    assert client.get(url("curation_contacts", finess=paris.finess)).status_code == 404
    paris.refresh_from_db()
    assert paris.name == "Hôpital de la Pitié"
    pmi = cast.saint_barthelemy_pmi
    assert client.get(url("curation_corrections", finess=pmi.finess)).status_code == 200


def test_a_correction_outside_the_scope_cannot_be_lifted(cast, guadeloupe_curator):
    correction = curation.correction_apply(
        establishment=cast.paris_hospital,
        field="phone",
        value="0142160000",
        reason="Standard",
        acting_user=cast.curator,
    )
    response = client_for(guadeloupe_curator).post(
        url("curation_correction_clear", pk=correction.pk)
    )
    assert response.status_code == 404
    correction.refresh_from_db()
    assert correction.cleared_at is None


# --- Contacts --------------------------------------------------------------------------------


def test_a_curator_manages_contacts(cast):
    pmi = cast.saint_barthelemy_pmi
    client = client_for(cast.curator)
    page = url("curation_contacts", finess=pmi.finess)

    response = client.post(
        page, {"role": "crisis", "label": "", "email": "crise@pmi.fr", "phone": "0590276000"}
    )
    assert response.status_code == 302
    contact = FunctionalContact.objects.get(establishment=pmi)

    response = client.post(
        url("curation_contact_edit", pk=contact.pk),
        {"role": "direction", "label": "Direction", "email": "direction@pmi.fr", "phone": ""},
    )
    assert response.status_code == 302
    assert client.post(url("curation_contact_verify", pk=contact.pk)).status_code == 302
    contact.refresh_from_db()
    assert (contact.role, contact.email, contact.verified_by) == (
        "direction",
        "direction@pmi.fr",
        cast.curator,
    )
    assert "Vérifié le" in client.get(page).content.decode()

    assert client.post(url("curation_contact_deactivate", pk=contact.pk)).status_code == 302
    contact.refresh_from_db()
    assert not contact.is_active


def test_the_contact_form_refuses_a_bad_email_in_french(cast):
    pmi = cast.saint_barthelemy_pmi
    response = client_for(cast.curator).post(
        url("curation_contacts", finess=pmi.finess),
        {"role": "crisis", "label": "", "email": "crise-at-pmi.fr", "phone": ""},
    )
    assert response.status_code == 200
    assert curation.EMAIL_ERROR in response.content.decode()
    assert not FunctionalContact.objects.exists()


# --- Proposals -------------------------------------------------------------------------------


def test_respondent_proposes_then_curator_accepts_on_the_review_page(cast):
    ehpad = cast.cayenne_ehpad
    page = url("curation_propose", finess=ehpad.finess)
    respondent = client_for(cast.ehpad_respondent)
    assert respondent.get(page).status_code == 200

    response = respondent.post(
        page,
        {
            **record(ehpad, phone="0594290000"),
            "contact_role": "crisis",
            "contact_label": "Cellule de crise",
            "contact_email": "crise@edmar-lama.fr",
            "contact_phone": "",
            "comment": "Nouveau standard",
        },
    )
    assert response.status_code == 302
    proposal = ChangeProposal.objects.get(establishment=ehpad)
    ehpad.refresh_from_db()
    assert ehpad.phone == ""

    curator = client_for(cast.curator)
    queue = curator.get(url("curation_proposal_list")).content.decode()
    assert "Ehpad Edmar Lama" in queue
    review = curator.get(url("curation_proposal_review", pk=proposal.pk)).content.decode()
    assert "Valeur actuelle" in review and "0594290000" in review
    assert "crise@edmar-lama.fr" in review

    response = curator.post(
        url("curation_proposal_review", pk=proposal.pk), {"decision": "accept", "comment": ""}
    )
    assert response.status_code == 302
    ehpad.refresh_from_db()
    proposal.refresh_from_db()
    assert ehpad.phone == "0594290000"
    assert proposal.status == ChangeProposal.Status.ACCEPTED
    assert FunctionalContact.objects.get(establishment=ehpad).verified_on is not None
    assert (
        "Aucune proposition en attente"
        in curator.get(url("curation_proposal_list")).content.decode()
    )


def test_rejecting_on_the_review_page_asks_for_a_reason(cast):
    proposal = curation.proposal_submit(
        establishment=cast.cayenne_ehpad,
        fields={"phone": "0594290000"},
        contacts=[],
        comment="",
        acting_user=cast.ehpad_respondent,
    )
    curator = client_for(cast.curator)
    review = url("curation_proposal_review", pk=proposal.pk)

    response = curator.post(review, {"decision": "reject", "comment": ""})
    assert response.status_code == 200
    assert "motif du refus" in response.content.decode()
    proposal.refresh_from_db()
    assert proposal.status == ChangeProposal.Status.PENDING

    response = curator.post(review, {"decision": "reject", "comment": "Déjà à jour."})
    assert response.status_code == 302
    proposal.refresh_from_db()
    assert proposal.status == ChangeProposal.Status.REJECTED
    proposal_page = url("curation_propose", finess=cast.cayenne_ehpad.finess)
    assert "Déjà à jour." in client_for(cast.ehpad_respondent).get(proposal_page).content.decode()


def test_the_proposal_page_checks_emails_in_french(cast):
    ehpad = cast.cayenne_ehpad
    response = client_for(cast.ehpad_respondent).post(
        url("curation_propose", finess=ehpad.finess),
        {
            **record(ehpad, email="direction@@edmar-lama.fr"),
            "contact_role": "crisis",
            "contact_label": "",
            "contact_email": "crise",
            "contact_phone": "",
            "comment": "",
        },
    )
    assert response.status_code == 200
    assert response.content.decode().count(curation.EMAIL_ERROR) == 2
    assert not ChangeProposal.objects.exists()


def test_a_respondent_cannot_propose_for_another_establishment(cast):
    other = cast.paris_hospital
    response = client_for(cast.ehpad_respondent).post(
        url("curation_propose", finess=other.finess), record(other, phone="0100000000")
    )
    assert response.status_code == 404
    assert not ChangeProposal.objects.exists()


def test_the_review_queue_holds_only_the_curator_scope(cast, guadeloupe_curator):
    curation.proposal_submit(
        establishment=cast.cayenne_ehpad,
        fields={"phone": "0594290000"},
        contacts=[],
        comment="",
        acting_user=cast.ehpad_respondent,
    )
    proposal = ChangeProposal.objects.get()
    client = client_for(guadeloupe_curator)
    assert "Ehpad Edmar Lama" not in client.get(url("curation_proposal_list")).content.decode()
    assert client.get(url("curation_proposal_review", pk=proposal.pk)).status_code == 404


# --- Links on the establishment page ---------------------------------------------------------


def render_actions(user, establishment):
    template = Template('{% include "referentials/_establishment_actions.html" %}')
    return template.render(Context({"user": user, "establishment": establishment}))


def test_the_establishment_page_links_to_what_each_role_may_do(cast, guadeloupe_curator):
    ehpad = cast.cayenne_ehpad
    correct = url("curation_corrections", finess=ehpad.finess)
    propose = url("curation_propose", finess=ehpad.finess)

    as_curator = render_actions(cast.curator, ehpad)
    assert correct in as_curator and propose not in as_curator
    as_respondent = render_actions(cast.ehpad_respondent, ehpad)
    assert propose in as_respondent and correct not in as_respondent
    for user in (cast.ars_idf_agent, guadeloupe_curator, cast.hospital_respondent):
        html = render_actions(user, ehpad)
        assert correct not in html and propose not in html


def test_the_establishment_page_shows_the_curation_links(cast):
    ehpad = cast.cayenne_ehpad
    detail = url("establishment_detail", finess=ehpad.finess)
    as_curator = client_for(cast.curator).get(detail).content.decode()
    assert url("curation_contacts", finess=ehpad.finess) in as_curator
    as_respondent = client_for(cast.ehpad_respondent).get(detail).content.decode()
    assert url("curation_propose", finess=ehpad.finess) in as_respondent
