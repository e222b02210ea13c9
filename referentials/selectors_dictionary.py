"""Reads of the dictionary: the public glossary, and finding the definition one means.

The glossary is public (a common language is public): nothing here depends on the user. Drafts
are not part of it; published and deprecated definitions are, a deprecated one pointing to its
replacement.
"""

from dataclasses import dataclass
from typing import Any

from django.db.models import F, Prefetch, QuerySet
from django.http import Http404
from rapidfuzz import fuzz

from referentials.expressions import referenced_codes
from referentials.models import (
    CodeListItem,
    Definition,
    DefinitionRevision,
    DictionaryStatus,
    Indicator,
    Rule,
)
from referentials.search import normalise

PUBLIC_STATUSES = (DictionaryStatus.PUBLISHED, DictionaryStatus.DEPRECATED)
# A query word matches a word of a label when they are this close (0-100, rapidfuzz ratio):
# "reanimtion" and "reanimation" score 95, "rea" and "reanimation" count as a prefix.
WORD_THRESHOLD = 80
# A definition found only in its doctrine ranks after every close label or synonym.
DOCTRINE_SCORE = 60.0
# Label words weigh more than the code's and the synonyms'.
SECONDARY_WEIGHT = 0.95


def glossary_definitions() -> QuerySet[Definition]:
    return Definition.objects.filter(status__in=PUBLIC_STATUSES)


def _word_score(query_word: str, words: list[str]) -> float:
    best = 0.0
    for word in words:
        if word.startswith(query_word):
            return 100.0
        best = max(best, fuzz.ratio(query_word, word))
    return best


def _field_score(query_words: list[str], text: str) -> float:
    words = normalise(text).split()
    if not words:
        return 0.0
    scores = [_word_score(query_word, words) for query_word in query_words]
    if min(scores) < WORD_THRESHOLD:
        return 0.0  # every word typed must be (nearly) there
    return sum(scores) / len(scores)


def definition_score(definition: Definition, query: str) -> float:
    """How close ``definition`` is to what was typed, 0 (not at all) to 100 (exact words).

    Accents, case and punctuation are ignored; each typed word may carry a typo or be the start
    of a word. Labels count most, then the code and the synonyms; the doctrine only by plain
    (normalised) inclusion of the whole query.
    """
    normalised = normalise(query)
    query_words = normalised.split()
    if not query_words:
        return 100.0
    score = _field_score(query_words, definition.label)
    for text in [definition.code.replace("_", " "), *(definition.synonyms or [])]:
        score = max(score, SECONDARY_WEIGHT * _field_score(query_words, str(text)))
    if score == 0 and normalised in (definition.search_text or ""):
        score = DOCTRINE_SCORE
    return score


def definition_search(
    *,
    query: str = "",
    theme: str = "",
    value_type: str = "",
    status: str = "",
    queryset: QuerySet[Definition] | None = None,
    limit: int | None = None,
) -> list[Definition]:
    """Definitions matching the filters, the closest to ``query`` first (then by label).

    Scored in Python with rapidfuzz over the rows the filters leave: the dictionary holds
    hundreds of definitions, not millions. The survey builder will use it to steer ad-hoc
    questions to shared definitions (``queryset`` lets it search drafts too).
    """
    definitions = glossary_definitions() if queryset is None else queryset
    if theme:
        definitions = definitions.filter(themes__code=theme)
    if value_type:
        definitions = definitions.filter(value_type=value_type)
    if status:
        definitions = definitions.filter(status=status)
    rows = list(definitions.distinct().order_by("label").prefetch_related("themes"))
    if not normalise(query):
        return rows[:limit] if limit else rows
    scored = [(definition_score(d, query), d) for d in rows]
    ranked = [d for score, d in sorted(scored, key=lambda pair: -pair[0]) if score > 0]
    return ranked[:limit] if limit else ranked


# Campaign statuses as ``surveys.models.Campaign`` spells them (referentials may not import
# surveys): the glossary is public, so it names only campaigns the register shows everyone.
USAGE_STATUS_LABELS = {"scheduled": "programmée", "open": "ouverte", "closed": "clôturée"}


def definition_usages(definition: Definition) -> list[dict[str, Any]]:
    """The campaigns whose survey asks ``definition``: who asks it, in which survey, since when.

    Read through the reverse relation ``definition.questions`` (a question's version, the
    campaigns sending that version, their owner), as plain values: one query, and no import of
    ``surveys``. Drafts are left out: the glossary is public, a draft is its owner's business.
    """
    rows = (
        definition.questions.filter(version__campaigns__status__in=list(USAGE_STATUS_LABELS))
        .values(
            campaign_id=F("version__campaigns__pk"),
            campaign_title=F("version__campaigns__title"),
            campaign_status=F("version__campaigns__status"),
            start_date=F("version__campaigns__start_date"),
            owner_name=F("version__campaigns__owner__name"),
            owner_short_name=F("version__campaigns__owner__short_name"),
            survey_title=F("version__title"),
        )
        .order_by("-start_date", "campaign_title", "campaign_id")
        .distinct()
    )
    return [
        {
            **row,
            "owner": row["owner_short_name"] or row["owner_name"],
            "status_label": USAGE_STATUS_LABELS[row["campaign_status"]],
        }
        for row in rows
    ]


def rules_using(definition: Definition) -> list[Rule]:
    return [
        rule
        for rule in Rule.objects.exclude(status=DictionaryStatus.DRAFT).order_by("code")
        if definition.code in referenced_codes(rule.expression) | referenced_codes(rule.condition)
    ]


def indicators_using(definition: Definition) -> list[Indicator]:
    return [
        indicator
        for indicator in Indicator.objects.exclude(status=DictionaryStatus.DRAFT).order_by("code")
        if definition.code in referenced_codes(indicator.expression)
    ]


@dataclass
class DefinitionPage:
    definition: Definition
    items: list[CodeListItem]
    rules: list[Rule]
    indicators: list[Indicator]
    revisions: list[DefinitionRevision]
    replaces: list[Definition]
    usages: list[dict[str, Any]]


def definition_page(*, code: str) -> DefinitionPage:
    """Everything the glossary shows of one definition; 404 for a draft or an unknown code."""
    definition = (
        glossary_definitions()
        .select_related("code_list", "replaced_by", "owner")
        .prefetch_related(
            "themes",
            Prefetch(
                "revisions",
                queryset=DefinitionRevision.objects.select_related("changed_by").order_by(
                    "-version", "-id"
                ),
            ),
        )
        .filter(code=code)
        .first()
    )
    if definition is None:
        raise Http404("Aucune définition publiée ne porte ce code.")
    return DefinitionPage(
        definition=definition,
        items=list(definition.code_list.items.all()) if definition.code_list else [],
        rules=rules_using(definition),
        indicators=indicators_using(definition),
        revisions=list(definition.revisions.all()),
        replaces=list(glossary_definitions().filter(replaced_by=definition)),
        usages=definition_usages(definition),
    )
