"""Reads of the survey builder: which surveys a user sees, and the dictionary as one types.

Surveys belong to who asks: the members (requesters or viewers) of a survey's owner
organisation see it, a national directorate's requester sees their directorate's surveys and
not every survey. Requesters of the owner edit it (``surveys.builder`` checks it again).
"""

from collections.abc import Iterable

from django.db.models import Q, QuerySet

from accounts.models import Membership, Organisation, Role
from accounts.scoping import AnyUser
from referentials.models import Definition, DictionaryStatus
from referentials.search import normalise
from referentials.selectors_dictionary import definition_score, definition_search
from surveys.models import Question, Survey, SurveyVersion


def organisation_ids(user: AnyUser, roles: Iterable[str]) -> list[int]:
    if not user.is_authenticated:
        return []
    return list(
        Membership.objects.filter(
            user_id=user.pk, role__in=list(roles), organisation__is_active=True
        ).values_list("organisation_id", flat=True)
    )


def surveys_visible_to(user: AnyUser) -> QuerySet[Survey]:
    """Surveys of the organisations where ``user`` is a requester or a viewer.

    A national requester sees their own directorate's surveys, not every survey: surveys belong
    to who asks.
    """
    ids = organisation_ids(user, [Role.REQUESTER, Role.VIEWER])
    return Survey.objects.filter(owner_id__in=ids).select_related("owner")


def requester_organisations(user: AnyUser) -> QuerySet[Organisation]:
    """Organisations on whose behalf ``user`` may create surveys."""
    return Organisation.objects.filter(pk__in=organisation_ids(user, [Role.REQUESTER])).order_by(
        "name"
    )


def can_edit(user: AnyUser, survey: Survey) -> bool:
    return survey.owner_id in organisation_ids(user, [Role.REQUESTER])


def draft_version(survey: Survey) -> SurveyVersion | None:
    return survey.versions.filter(status=SurveyVersion.Status.DRAFT).first()


def latest_version(survey: Survey) -> SurveyVersion | None:
    return survey.versions.order_by("-number").first()


def version_questions(version: SurveyVersion) -> QuerySet[Question]:
    return version.questions.select_related("definition", "definition__replaced_by").order_by(
        "section__order", "section_id", "order", "pk"
    )


# Words too common to say what a label is about.
STOP_WORDS = frozenset(
    {"au", "aux", "avec", "dans", "de", "des", "du", "en", "et", "la", "le", "les", "leur"}
    | {"nombre", "ou", "par", "pour", "sur", "un", "une"}
)


def definitions_close_to(label: str, *, limit: int = 5) -> list[Definition]:
    """Published definitions closest to an ad-hoc label: ask them rather than a new code.

    Unlike the glossary's search, not every word must be there: « lits de réanimation armés »
    still finds « Lits de réanimation ouverts ». A definition is kept when at least half of the
    label's significant words (typos tolerated) are in it.
    """
    # normalise() upper-cases: the stop words are compared in lower case.
    words = [
        w for w in normalise(label or "").split() if len(w) > 2 and w.lower() not in STOP_WORDS
    ]
    if not words:
        return []
    scored = []
    for definition in Definition.objects.filter(status=DictionaryStatus.PUBLISHED):
        hits = [definition_score(definition, word) for word in words]
        matched = sum(1 for hit in hits if hit > 0)
        if matched * 2 >= len(words):
            scored.append((matched, sum(hits), definition))
    scored.sort(key=lambda row: (-row[0], -row[1], row[2].label))
    return [definition for _, _, definition in scored[:limit]]


def published_definitions_matching(query: str, *, limit: int = 8) -> list[Definition]:
    """What the builder's search offers: published definitions first, then deprecated ones
    (shown with their replacement, never bindable)."""
    if not (query or "").strip():
        return []
    return definition_search(
        query=query,
        queryset=Definition.objects.filter(
            Q(status=DictionaryStatus.PUBLISHED) | Q(status=DictionaryStatus.DEPRECATED)
        ).select_related("replaced_by"),
        limit=limit,
    )
