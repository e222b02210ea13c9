import factory

from accounts.models import Membership, Organisation, Role, User

PASSWORD = "Mot-de-passe-de-test-42"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ["email"]
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"personne{n}@exemple.fr")
    first_name = factory.Faker("first_name", locale="fr_FR")
    last_name = factory.Faker("last_name", locale="fr_FR")
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @factory.post_generation
    def save_password(obj, create, extracted, **kwargs):
        if create:
            obj.save()


class OrganisationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Organisation

    kind = Organisation.Kind.NATIONAL
    name = factory.Sequence(lambda n: f"Direction {n}")
    short_name = factory.Sequence(lambda n: f"DIR{n}")

    class Params:
        ars = factory.Trait(
            kind=Organisation.Kind.REGIONAL_AGENCY,
            name=factory.LazyAttribute(lambda o: f"ARS {o.region_code}"),
            short_name="",
            region_code="11",
            covered_territories=["75", "77", "78", "91", "92", "93", "94", "95"],
        )
        legal_entity = factory.Trait(
            kind=Organisation.Kind.LEGAL_ENTITY,
            short_name="",
            finess=factory.Sequence(lambda n: f"75{n:07d}"),
            territory_code="75",
        )
        establishment = factory.Trait(
            kind=Organisation.Kind.ESTABLISHMENT,
            short_name="",
            finess=factory.Sequence(lambda n: f"75{n:07d}"),
            territory_code="75",
        )


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    user = factory.SubFactory(UserFactory)
    organisation = factory.SubFactory(OrganisationFactory)
    role = Role.REQUESTER


def dgos() -> Organisation:
    """The one DGOS of a test: the cast's, or created on first use by a survey factory."""
    return Organisation.objects.get_or_create(
        kind=Organisation.Kind.NATIONAL,
        short_name="DGOS",
        defaults={"name": "Direction générale de l'offre de soins"},
    )[0]
