"""The curation services: corrections that survive imports, contacts, proposals."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from accounts.models import AuditEvent, Organisation, Role
from referentials import curation
from referentials.models import ChangeProposal, Correction, DirectoryChange, FunctionalContact
from tests.accounts.factories import MembershipFactory


@pytest.fixture
def guadeloupe_curator(cast):
    ars = Organisation.objects.get(kind=Organisation.Kind.REGIONAL_AGENCY, region_code="01")
    return MembershipFactory(organisation=ars, role=Role.CURATOR).user


def apply(establishment, field, value, user, reason="Appel de l'établissement"):
    return curation.correction_apply(
        establishment=establishment, field=field, value=value, reason=reason, acting_user=user
    )


# --- Corrections -----------------------------------------------------------------------------


def test_a_correction_sets_the_value_keeps_the_source_value_and_writes_history(cast):
    pmi = cast.saint_barthelemy_pmi
    correction = apply(pmi, "name", "PMI de Gustavia", cast.curator)

    pmi.refresh_from_db()
    assert pmi.name == "PMI de Gustavia"
    assert "GUSTAVIA" in pmi.search_text
    assert correction.source_value == "PMI Saint-Barthélemy"
    assert correction.cleared_at is None
    change = DirectoryChange.objects.get(establishment=pmi)
    assert (change.field, change.old_value, change.new_value) == (
        "name",
        "PMI Saint-Barthélemy",
        "PMI de Gustavia",
    )
    assert change.source == DirectoryChange.Source.CURATOR
    assert change.actor == cast.curator


def test_a_new_correction_replaces_the_active_one_and_keeps_what_the_source_said(cast):
    pmi = cast.saint_barthelemy_pmi
    first = apply(pmi, "phone", "05 90 27 60 00", cast.curator)
    second = apply(pmi, "phone", "0590276001", cast.curator)

    first.refresh_from_db()
    assert first.cleared_at is not None and first.cleared_by == cast.curator
    assert second.value == "0590276001"
    assert second.source_value == first.source_value == ""
    assert Correction.objects.filter(establishment=pmi, cleared_at__isnull=True).count() == 1
    assert DirectoryChange.objects.filter(establishment=pmi, field="phone").count() == 2


def test_clearing_a_correction_puts_back_the_source_value(cast):
    pmi = cast.saint_barthelemy_pmi
    pmi.row_hash = "a" * 32
    pmi.save()
    correction = apply(pmi, "city", "GUSTAVIA", cast.curator)

    curation.correction_clear(correction=correction, acting_user=cast.curator)

    pmi.refresh_from_db()
    correction.refresh_from_db()
    assert pmi.city == "PARIS"  # what the source (the factory) said
    assert "GUSTAVIA" not in pmi.search_text
    assert pmi.row_hash == ""  # the next import compares the row again
    assert correction.cleared_at is not None and correction.cleared_by == cast.curator
    last = DirectoryChange.objects.filter(establishment=pmi).first()
    assert (last.old_value, last.new_value) == ("GUSTAVIA", "PARIS")
    with pytest.raises(curation.CurationError, match="déjà été levée"):
        curation.correction_clear(correction=correction, acting_user=cast.curator)


def test_an_ars_guadeloupe_curator_cannot_correct_a_paris_establishment(cast, guadeloupe_curator):
    with pytest.raises(PermissionDenied, match="pas gestionnaire"):
        apply(cast.paris_hospital, "name", "Autre nom", guadeloupe_curator)
    assert not Correction.objects.exists()

    apply(cast.saint_martin_hospital, "phone", "0590522525", guadeloupe_curator)
    assert Correction.objects.filter(establishment=cast.saint_martin_hospital).exists()


@pytest.mark.parametrize("role", ["ehpad_respondent", "ars_guadeloupe_agent", "outsider"])
def test_only_curators_correct(cast, role):
    with pytest.raises(PermissionDenied):
        apply(cast.cayenne_ehpad, "phone", "0594000000", cast.user(role))


def test_a_correction_is_checked_in_french(cast):
    with pytest.raises(ValidationError) as error:
        apply(cast.paris_hospital, "email", "pas-une-adresse", cast.curator)
    assert error.value.messages == [curation.EMAIL_ERROR]
    with pytest.raises(ValidationError, match="ne peut pas être corrigé"):
        apply(cast.paris_hospital, "finess", "750000000", cast.curator)
    with pytest.raises(ValidationError, match="code postal à 5 chiffres"):
        apply(cast.paris_hospital, "postcode", "7501", cast.curator)
    assert not DirectoryChange.objects.exists()


def test_correcting_several_fields_at_once_skips_the_unchanged(cast):
    pmi = cast.saint_barthelemy_pmi
    corrections = curation.establishment_correct(
        establishment=pmi,
        values={"name": pmi.name, "postcode": "97133", "city": "SAINT-BARTHELEMY"},
        reason="Courrier de la PMI",
        acting_user=cast.curator,
    )
    assert sorted(c.field for c in corrections) == ["city", "postcode"]
    with pytest.raises(curation.CurationError, match="Aucune valeur"):
        curation.establishment_correct(
            establishment=pmi,
            values={"postcode": "97133"},
            reason="Encore",
            acting_user=cast.curator,
        )


# --- Contacts --------------------------------------------------------------------------------


def test_contacts_are_added_updated_verified_and_deactivated_with_history(cast):
    pmi = cast.saint_barthelemy_pmi
    contact = curation.contact_add(
        establishment=pmi,
        role="crisis",
        email=" Crise@PMI.fr ",
        phone="05 90 27 60 00",
        acting_user=cast.curator,
    )
    assert (contact.email, contact.phone, contact.verified_on) == (
        "crise@pmi.fr",
        "0590276000",
        None,
    )
    with pytest.raises(ValidationError, match="existe déjà"):
        curation.contact_add(
            establishment=pmi, role="crisis", email="crise@pmi.fr", acting_user=cast.curator
        )

    curation.contact_update(
        contact=contact, role="crisis", email="astreinte@pmi.fr", acting_user=cast.curator
    )
    curation.contact_verify(contact=contact, acting_user=cast.curator)
    contact.refresh_from_db()
    assert contact.email == "astreinte@pmi.fr"
    assert contact.verified_on == timezone.localdate()
    assert contact.verified_by == cast.curator

    curation.contact_deactivate(contact=contact, acting_user=cast.curator)
    contact.refresh_from_db()
    assert not contact.is_active
    assert DirectoryChange.objects.filter(establishment=pmi, field="contact:crisis").count() == 4


def test_contacts_are_for_curators_of_the_scope(cast, guadeloupe_curator):
    with pytest.raises(PermissionDenied):
        curation.contact_add(
            establishment=cast.paris_hospital,
            role="crisis",
            email="crise@pitie.fr",
            acting_user=guadeloupe_curator,
        )
    with pytest.raises(PermissionDenied):
        curation.contact_add(
            establishment=cast.cayenne_ehpad,
            role="crisis",
            email="crise@ehpad.fr",
            acting_user=cast.ehpad_respondent,
        )


# --- Proposals -------------------------------------------------------------------------------


def propose(cast, **overrides):
    arguments = {
        "establishment": cast.cayenne_ehpad,
        "fields": {"phone": "05 94 29 00 00", "name": cast.cayenne_ehpad.name},
        "contacts": [{"role": "crisis", "email": "crise@edmar-lama.fr", "phone": ""}],
        "comment": "Nouveau standard depuis janvier.",
        "acting_user": cast.ehpad_respondent,
    }
    return curation.proposal_submit(**{**arguments, **overrides})


def test_a_proposal_applies_nothing_until_a_curator_accepts_it(cast):
    proposal = propose(cast)

    assert proposal.changes == {
        "fields": {"phone": "0594290000"},  # unchanged fields are left out
        "contacts": [{"role": "crisis", "label": "", "email": "crise@edmar-lama.fr", "phone": ""}],
    }
    cast.cayenne_ehpad.refresh_from_db()
    assert cast.cayenne_ehpad.phone == ""
    assert not FunctionalContact.objects.exists()

    curation.proposal_accept(proposal=proposal, acting_user=cast.curator, comment="Merci")

    ehpad = cast.cayenne_ehpad
    ehpad.refresh_from_db()
    proposal.refresh_from_db()
    assert ehpad.phone == "0594290000"
    correction = Correction.objects.get(establishment=ehpad, cleared_at__isnull=True)
    assert (correction.field, correction.reason) == ("phone", "Proposition de l'établissement")
    contact = FunctionalContact.objects.get(establishment=ehpad)
    assert contact.email == "crise@edmar-lama.fr"
    assert contact.verified_on == timezone.localdate()
    assert contact.verified_by == cast.curator
    sources = set(
        DirectoryChange.objects.filter(establishment=ehpad).values_list("source", flat=True)
    )
    assert sources == {DirectoryChange.Source.PROPOSAL}
    assert proposal.status == ChangeProposal.Status.ACCEPTED
    assert (proposal.reviewed_by, proposal.review_comment) == (cast.curator, "Merci")
    assert AuditEvent.objects.filter(action="proposal.accept", target_id=str(proposal.pk)).exists()
    with pytest.raises(curation.CurationError, match="déjà été examinée"):
        curation.proposal_accept(proposal=proposal, acting_user=cast.curator)


def test_a_legal_entity_respondent_proposes_for_its_sites(cast):
    proposal = propose(
        cast, establishment=cast.cayenne_hospital, acting_user=cast.legal_entity_respondent
    )
    assert proposal.establishment == cast.cayenne_hospital


def test_rejecting_a_proposal_needs_a_comment(cast):
    proposal = propose(cast)
    with pytest.raises(ValidationError) as error:
        curation.proposal_reject(proposal=proposal, acting_user=cast.curator, comment="  ")
    assert "motif du refus" in error.value.message_dict["comment"][0]
    proposal.refresh_from_db()
    assert proposal.status == ChangeProposal.Status.PENDING

    curation.proposal_reject(
        proposal=proposal, acting_user=cast.curator, comment="Numéro déjà à jour dans le FINESS."
    )
    proposal.refresh_from_db()
    cast.cayenne_ehpad.refresh_from_db()
    assert proposal.status == ChangeProposal.Status.REJECTED
    assert proposal.review_comment == "Numéro déjà à jour dans le FINESS."
    assert cast.cayenne_ehpad.phone == ""


def test_an_ars_guadeloupe_curator_cannot_review_a_guyane_proposal(cast, guadeloupe_curator):
    proposal = propose(cast)
    with pytest.raises(PermissionDenied):
        curation.proposal_accept(proposal=proposal, acting_user=guadeloupe_curator)


@pytest.mark.parametrize(
    ("role", "establishment"),
    [
        ("ehpad_respondent", "cayenne_hospital"),
        ("hospital_respondent", "cayenne_ehpad"),
        ("legal_entity_respondent", "paris_hospital"),
        ("curator", "cayenne_ehpad"),  # a curator corrects; proposing is for establishments
    ],
)
def test_a_respondent_cannot_propose_for_another_establishment(cast, role, establishment):
    with pytest.raises(PermissionDenied, match="répondants de l'établissement"):
        propose(cast, establishment=getattr(cast, establishment), acting_user=cast.user(role))
    assert not ChangeProposal.objects.exists()


def test_proposed_emails_and_phones_are_checked_in_french(cast):
    with pytest.raises(ValidationError) as error:
        propose(
            cast,
            fields={"email": "direction@", "phone": "12"},
            contacts=[{"role": "crisis", "email": "crise.edmar-lama.fr", "phone": "abc"}],
        )
    errors = error.value.message_dict
    assert errors["email"] == [curation.EMAIL_ERROR]
    assert errors["phone"] == [curation.PHONE_ERROR]
    assert errors["contact_email"] == [curation.EMAIL_ERROR]
    assert errors["contact_phone"] == [curation.PHONE_ERROR]
    assert not ChangeProposal.objects.exists()


def test_a_proposal_must_change_something(cast):
    with pytest.raises(ValidationError, match="au moins une modification"):
        propose(cast, fields={"name": cast.cayenne_ehpad.name}, contacts=[])
