import factory

from referentials.models import Establishment, LegalEntity


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
    category_code = "355"
    category_label = "Centre Hospitalier (C.H.)"
    finess_department = "75"
    territory_code = "75"
    region_code = "11"
    postcode = "75013"
    city = "PARIS"

    class Params:
        ehpad = factory.Trait(
            category_code="500",
            category_label="Etablissement d'hébergement pour personnes âgées dépendantes",
        )
