"""Factories of the dictionary of shared definitions (rows written directly, for set-ups)."""

import factory

from referentials.dictionary import definition_search_text
from referentials.models import CodeList, CodeListItem, Definition, Indicator, Rule, Theme


class ThemeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Theme
        django_get_or_create = ["code"]

    code = factory.Sequence(lambda n: f"theme_{n}")
    label = factory.Sequence(lambda n: f"Thème {n}")


class CodeListFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CodeList
        django_get_or_create = ["code"]

    code = factory.Sequence(lambda n: f"liste_{n}")
    label = factory.Sequence(lambda n: f"Liste {n}")


class CodeListItemFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CodeListItem

    code_list = factory.SubFactory(CodeListFactory)
    code = factory.Sequence(lambda n: f"c{n}")
    label = factory.Sequence(lambda n: f"Choix {n}")


class DefinitionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Definition
        django_get_or_create = ["code"]

    code = factory.Sequence(lambda n: f"definition_{n}")
    label = factory.Sequence(lambda n: f"Définition {n}")
    doctrine = "Ce qui compte, ce qui ne compte pas."
    value_type = "integer"
    unit = "lits"
    minimum = 0
    synonyms = factory.LazyFunction(list)
    status = Definition.Status.PUBLISHED
    search_text = factory.LazyAttribute(lambda o: definition_search_text(o))

    class Params:
        draft = factory.Trait(status=Definition.Status.DRAFT)


class RuleFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Rule
        django_get_or_create = ["code"]

    code = factory.Sequence(lambda n: f"regle_{n}")
    expression = "True"
    message = "La règle n'est pas respectée."


class IndicatorFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Indicator

    code = factory.Sequence(lambda n: f"indicateur_{n}")
    label = factory.Sequence(lambda n: f"Indicateur {n}")
    expression = "1"
