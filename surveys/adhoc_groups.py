"""Ad-hoc questions that keep coming back: groups of close labels, for curators.

An ad-hoc question (a ``Question`` without a definition) is asked only by its survey: its
values never serve another campaign, and the overlap analysis never sees it. When several
surveys ask the same thing in their own words, or ask in their own words what the dictionary
already defines, curators should know:

- **grouping**: labels are normalised as the dictionary's search does (``referentials.search.
  normalise``: accents, case, punctuation), stripped of the builder's stop words (« nombre »,
  « de »...: ``surveys.selectors_builder.STOP_WORDS``) and compared with rapidfuzz's
  ``token_sort_ratio`` (typos and word order tolerated); two labels at ``GROUP_AT`` or more
  fall in the same group (and groups chain: A close to B, B close to C);
- a question counts once per survey (its latest version), with the campaigns that sent it;
- **closest definitions**: the published definitions whose label or synonyms score at least
  ``SHOW_AT`` against the group's label, best first, with the figure;
- **verdict**: « à rebrancher sur <définition> » when the best definition scores
  ``REBIND_AT`` or more, else « candidate à une nouvelle définition »;
- a group is shown when it spans at least two surveys, or when one question is close enough to
  a definition to be rebound.

Reads only: what to do (create the definition, ask the survey's owner to rebind) stays with
curators and requesters.
"""

from collections import defaultdict
from dataclasses import dataclass, field

from rapidfuzz import fuzz, process

from referentials.models import Definition, DictionaryStatus
from referentials.search import normalise
from surveys.models import Campaign, Question, SurveyVersion
from surveys.selectors_builder import STOP_WORDS

GROUP_AT = 85
REBIND_AT = 85
SHOW_AT = 70
CANDIDATES = 3


@dataclass
class AdHocQuestion:
    question_id: int
    survey_id: int
    title: str  # the survey's, as its latest version says
    owner: str
    label: str
    code: str
    version_number: int
    version_is_draft: bool
    campaigns: list[tuple[int, str]]  # (id, title) of the campaigns asking it


@dataclass
class DefinitionMatch:
    definition_id: int
    code: str
    label: str
    similarity: int  # 0-100


@dataclass
class AdHocGroup:
    label: str  # the most frequent label of the group
    questions: list[AdHocQuestion]
    matches: list[DefinitionMatch] = field(default_factory=list)

    @property
    def rebind_to(self) -> DefinitionMatch | None:
        """The definition these questions should be bound to, if one is close enough."""
        if self.matches and self.matches[0].similarity >= REBIND_AT:
            return self.matches[0]
        return None

    @property
    def survey_count(self) -> int:
        return len({q.survey_id for q in self.questions})

    @property
    def verdict(self) -> str:
        match = self.rebind_to
        if match is not None:
            return f"à rebrancher sur « {match.label} » ({match.code})"
        return "candidate à une nouvelle définition"


def _latest_questions() -> list[AdHocQuestion]:
    """Ad-hoc questions with a label, once per (survey, code): the latest version's."""
    rows = (
        Question.objects.filter(definition__isnull=True)
        .exclude(label="")
        .select_related("version", "version__survey__owner")
        .order_by("version__survey_id", "code", "-version__number")
    )
    latest: dict[tuple[int, str], Question] = {}
    for question in rows:
        latest.setdefault((question.version.survey_id, question.code), question)
    titles = dict(
        SurveyVersion.objects.filter(survey_id__in={s for s, _ in latest})
        .order_by("survey_id", "number")
        .values_list("survey_id", "title")
    )  # the last number wins: the latest title
    campaigns: dict[tuple[int, str], list[tuple[int, str]]] = defaultdict(list)
    asked = Question.objects.filter(
        definition__isnull=True, version__survey_id__in={s for s, _ in latest}
    ).values_list("version_id", "version__survey_id", "code")
    versions: dict[int, set[tuple[int, str]]] = defaultdict(set)
    for version_id, survey_id, code in asked:
        versions[version_id].add((survey_id, code))
    for pk, title, version_id in (
        Campaign.objects.filter(version_id__in=list(versions))
        .order_by("pk")
        .values_list("pk", "title", "version_id")
    ):
        for key in versions[version_id]:
            campaigns[key].append((pk, title))
    return [
        AdHocQuestion(
            question_id=question.pk,
            survey_id=survey_id,
            title=titles.get(survey_id, question.version.title),
            owner=str(question.version.survey.owner),
            label=question.label,
            code=code,
            version_number=question.version.number,
            version_is_draft=not question.version.is_frozen,
            campaigns=campaigns[(survey_id, code)],
        )
        for (survey_id, code), question in latest.items()
    ]


def _key(label: str) -> str:
    """What a label is about: its normalised words, without the builder's stop words."""
    words = normalise(label).split()
    significant = [w for w in words if w.lower() not in STOP_WORDS]
    return " ".join(significant or words)


def _groups_of(labels: list[str]) -> list[list[int]]:
    """Indexes of ``labels`` (normalised) grouped by closeness, chaining (union-find)."""
    parent = list(range(len(labels)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for i, label in enumerate(labels):
        for _, _, j in process.extract(
            label, labels, scorer=fuzz.token_sort_ratio, score_cutoff=GROUP_AT, limit=None
        ):
            if j > i:
                parent[root(j)] = root(i)
    members: dict[int, list[int]] = defaultdict(list)
    for i in range(len(labels)):
        members[root(i)].append(i)
    return list(members.values())


def _matches(label: str, definitions: list[Definition]) -> list[DefinitionMatch]:
    """The published definitions closest to ``label``, best first."""
    wanted = _key(label)
    found = []
    for definition in definitions:
        texts = [definition.label, *(str(s) for s in definition.synonyms or [])]
        score = max(fuzz.token_sort_ratio(wanted, _key(text)) for text in texts)
        if score >= SHOW_AT:
            found.append(
                DefinitionMatch(definition.pk, definition.code, definition.label, round(score))
            )
    found.sort(key=lambda m: (-m.similarity, m.label))
    return found[:CANDIDATES]


def adhoc_groups() -> list[AdHocGroup]:
    """Groups of close ad-hoc questions worth a curator's look, the largest first."""
    questions = _latest_questions()
    by_label: dict[str, list[AdHocQuestion]] = defaultdict(list)
    for question in questions:
        by_label[_key(question.label)].append(question)
    labels = sorted(by_label)
    definitions = list(
        Definition.objects.filter(status=DictionaryStatus.PUBLISHED).only(
            "pk", "code", "label", "synonyms"
        )
    )
    groups = []
    for indexes in _groups_of(labels):
        members = [q for i in indexes for q in by_label[labels[i]]]
        counts: dict[str, int] = defaultdict(int)
        for question in members:
            counts[question.label] += 1
        label = max(sorted(counts), key=lambda text: counts[text])
        group = AdHocGroup(
            label=label,
            questions=sorted(members, key=lambda q: (q.owner, q.title, q.code)),
            matches=_matches(label, definitions),
        )
        if group.survey_count >= 2 or group.rebind_to is not None:
            groups.append(group)
    groups.sort(key=lambda g: (-g.survey_count, -len(g.questions), g.label))
    return groups
