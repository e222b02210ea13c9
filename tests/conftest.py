"""One shared cast of roles, strict templates, and the real parts when the suite asks for them.

The cast (see ``cast``) is the same in every test, so that each page gets an ownership test
with the same people: a national requester, two ARS agents (Île-de-France; Guadeloupe with
Saint-Martin and Saint-Barthélemy), an Ehpad respondent, a hospital respondent, a legal-entity
respondent answering for several sites, a curator and an outsider.
"""

from dataclasses import dataclass

import pytest
from django.test import Client

from accounts.models import Organisation, ProfessionalClaim, Role, User
from tests.accounts.factories import MembershipFactory, OrganisationFactory, UserFactory
from tests.accounts.factories import dgos as national_directorate
from tests.referentials.factories import (
    EstablishmentFactory,
    LegalEntityFactory,
    ProfessionalActivityFactory,
)

pytest_plugins = ["tests.realstack.fixtures"]


class InvalidTemplateVariable(str):
    """Makes ``{{ undefined }}`` fail the test instead of rendering an empty string."""

    def __mod__(self, name):
        raise NameError(f"Variable de gabarit indéfinie : « {name} »")


@pytest.fixture(autouse=True)
def _strict_templates(settings):
    settings.TEMPLATES = [
        {
            **engine,
            "OPTIONS": {**engine["OPTIONS"], "string_if_invalid": InvalidTemplateVariable("%s")},
        }
        for engine in settings.TEMPLATES
    ]


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["tests.hashers.FastArgon2PasswordHasher"]


@pytest.fixture(autouse=True)
def _fresh_cache():
    from django.core.cache import cache

    cache.clear()
    yield


ROLES = [
    "anonymous",
    "national_requester",
    "ars_idf_agent",
    "ars_guadeloupe_agent",
    "ehpad_respondent",
    "hospital_respondent",
    "legal_entity_respondent",
    "curator",
    "outsider",
    "professional",
]


@dataclass
class Cast:
    national_requester: User
    ars_idf_agent: User
    ars_guadeloupe_agent: User
    ehpad_respondent: User
    hospital_respondent: User
    legal_entity_respondent: User
    curator: User
    outsider: User
    # A liberal general practitioner of Paris whose RPPS identity a curator verified.
    professional: User
    # Establishments (real FINESS numbers and territories from the shared excerpts, plus Paris)
    paris_hospital: object
    paris_ehpad: object
    cayenne_hospital: object
    cayenne_ehpad: object
    saint_barthelemy_pmi: object
    saint_martin_hospital: object
    pointe_a_pitre_clinic: object
    ain_hospital: object
    paris_doctor: object

    def user(self, role: str) -> User | None:
        return None if role == "anonymous" else getattr(self, role)


@pytest.fixture
def cast(db) -> Cast:
    dgos = national_directorate()
    ars_idf = OrganisationFactory(ars=True, region_code="11", name="ARS Île-de-France")
    ars_guadeloupe = OrganisationFactory(
        ars=True,
        region_code="01",
        name="ARS Guadeloupe, Saint-Martin et Saint-Barthélemy",
        covered_territories=["971", "977", "978"],
    )

    aphp = LegalEntityFactory(finess="750712184", name="AP-HP", territory_code="75")
    paris_hospital = EstablishmentFactory(
        finess="750100042", legal_entity=aphp, name="Hôpital de la Pitié", territory_code="75"
    )
    paris_ehpad = EstablishmentFactory(
        ehpad=True, finess="750000549", name="Ehpad Les Tilleuls", territory_code="75"
    )
    cayenne = LegalEntityFactory(finess="970302022", name="CH de Cayenne", territory_code="973")
    guyane = {"finess_department": "9C", "territory_code": "973", "region_code": "03"}
    cayenne_hospital = EstablishmentFactory(
        finess="970300026", legal_entity=cayenne, name="CH de Cayenne", **guyane
    )
    cayenne_ehpad = EstablishmentFactory(
        ehpad=True, finess="970302287", legal_entity=cayenne, name="Ehpad Edmar Lama", **guyane
    )
    guadeloupe = {"finess_department": "9A", "region_code": "01"}
    saint_barthelemy_pmi = EstablishmentFactory(
        finess="970102018", name="PMI Saint-Barthélemy", territory_code="977", **guadeloupe
    )
    saint_martin_hospital = EstablishmentFactory(
        finess="970100400", name="CH Louis-Constant Fleming", territory_code="978", **guadeloupe
    )
    pointe_a_pitre_clinic = EstablishmentFactory(
        finess="970100228", name="Clinique des Eaux-Claires", territory_code="971", **guadeloupe
    )
    ain_hospital = EstablishmentFactory(
        finess="010000024",
        name="CH de Fleyriat",
        finess_department="01",
        territory_code="01",
        region_code="84",
    )

    def establishment_org(establishment):
        return OrganisationFactory(
            establishment=True,
            finess=establishment.finess,
            name=establishment.name,
            territory_code=establishment.territory_code,
            legal_entity_finess=establishment.legal_entity.finess,
        )

    cayenne_org = OrganisationFactory(
        legal_entity=True, finess=cayenne.finess, name=cayenne.name, territory_code="973"
    )

    def member(email, organisation, role):
        user = UserFactory(email=email)
        MembershipFactory(user=user, organisation=organisation, role=role)
        return user

    paris_doctor = ProfessionalActivityFactory(
        professional__national_id="810002345678",
        professional__rpps="10002345678",
        professional__last_name="DURAND",
        professional__first_name="Claire",
    ).professional
    professional = UserFactory(email="dr.durand@medecin.fr")
    ProfessionalClaim.objects.create(
        user=professional,
        national_id=paris_doctor.national_id,
        rpps=paris_doctor.rpps,
        status=ProfessionalClaim.Status.VERIFIED,
    )

    return Cast(
        national_requester=member("alice.dgos@sante.gouv.fr", dgos, Role.REQUESTER),
        ars_idf_agent=member("bob.ars-idf@ars.sante.fr", ars_idf, Role.REQUESTER),
        ars_guadeloupe_agent=member("carla.ars-gp@ars.sante.fr", ars_guadeloupe, Role.REQUESTER),
        ehpad_respondent=member(
            "direction@ehpad-edmar-lama.fr", establishment_org(cayenne_ehpad), Role.RESPONDENT
        ),
        hospital_respondent=member(
            "cellule.crise@pitie.aphp.fr", establishment_org(paris_hospital), Role.RESPONDENT
        ),
        legal_entity_respondent=member("dim@ch-cayenne.fr", cayenne_org, Role.RESPONDENT),
        curator=member("referentiel@sante.gouv.fr", dgos, Role.CURATOR),
        outsider=UserFactory(email="charlie@exemple.fr"),
        professional=professional,
        paris_hospital=paris_hospital,
        paris_ehpad=paris_ehpad,
        cayenne_hospital=cayenne_hospital,
        cayenne_ehpad=cayenne_ehpad,
        saint_barthelemy_pmi=saint_barthelemy_pmi,
        saint_martin_hospital=saint_martin_hospital,
        pointe_a_pitre_clinic=pointe_a_pitre_clinic,
        ain_hospital=ain_hospital,
        paris_doctor=paris_doctor,
    )


def client_for(user: User | None) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
    return client


@pytest.fixture
def national_org(cast) -> Organisation:
    return Organisation.objects.get(short_name="DGOS")
