import factory

from referentials.models import Establishment, LegalEntity, Professional, ProfessionalActivity
from referentials.search import establishment_search_text


class LegalEntityFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = LegalEntity
        django_get_or_create = ["finess"]

    finess = factory.Sequence(lambda n: f"75{n:07d}")
    name = factory.Sequence(lambda n: f"Groupe hospitalier {n}")
    territory_code = "75"


class EstablishmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Establishment
        django_get_or_create = ["finess"]

    finess = factory.Sequence(lambda n: f"75{n + 5000000:07d}")
    legal_entity = factory.SubFactory(LegalEntityFactory)
    name = factory.Sequence(lambda n: f"Établissement {n}")
    long_name = ""
    category_code = "355"
    category_label = "Centre Hospitalier (C.H.)"
    finess_department = "75"
    territory_code = "75"
    region_code = "11"
    postcode = "75013"
    city = "PARIS"
    # Filled as importers and curation fill it, so that search finds factory rows too.
    search_text = factory.LazyAttribute(
        lambda o: establishment_search_text(
            name=o.name, long_name=o.long_name, city=o.city, finess=o.finess
        )
    )

    class Params:
        ehpad = factory.Trait(
            category_code="500",
            category_label="Etablissement d'hébergement pour personnes âgées dépendantes",
        )


class ProfessionalFactory(factory.django.DjangoModelFactory):
    """A liberal general practitioner by default (profession 10, specialty SM54)."""

    class Meta:
        model = Professional
        django_get_or_create = ["national_id"]

    national_id = factory.Sequence(lambda n: f"8{n + 10000000000:011d}"[-12:])
    rpps = factory.LazyAttribute(lambda o: o.national_id[1:])
    last_name = factory.Sequence(lambda n: f"MARTIN{n}")
    first_name = "Claire"
    profession_code = "10"
    profession_label = "Médecin"
    specialty_code = "SM54"
    specialty_label = "Médecine générale (SM)"


class ProfessionalActivityFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ProfessionalActivity

    professional = factory.SubFactory(ProfessionalFactory)
    mode_code = "L"
    mode_label = "Libéral"
    postcode = "75011"
    commune_code = "75111"
    territory_code = "75"
