"""What the answering form posts, read into answers, justifications and the chosen action.

The questions are drawn by ``surveys.rendering`` (one control per question, named by its code;
the engine reads the raw text), so this is not a Django form: the engine is the validation.
The controls that are not answers start with « _ » (question codes start with a letter).
"""

from dataclasses import dataclass
from typing import Any

from collection.values import Conflict
from surveys.rendering import ACTION_FIELD, REVISION_FIELD, answers_from, comments_from
from surveys.schema import VersionSchema

CONFLICT_PREFIX = "_conflict_"  # "mine" or "theirs", per question in conflict
THEIRS_PREFIX = "_theirs_"  # the other person's value, carried through the page


@dataclass
class Posted:
    answers: dict[str, str]
    comments: dict[str, str]
    action: str  # "draft" or "submit"
    revision: int | None


@dataclass(frozen=True)
class ConflictChoice:
    """One answer both people changed: theirs (saved meanwhile) and this person's."""

    code: str
    label: str
    theirs: str
    mine: str

    @property
    def choice_name(self) -> str:
        return f"{CONFLICT_PREFIX}{self.code}"

    @property
    def theirs_name(self) -> str:
        return f"{THEIRS_PREFIX}{self.code}"


def parse_post(schema: VersionSchema, data: Any) -> Posted:
    """Answers and comments from a posted form; a conflict resolved to « theirs » takes the
    value saved meanwhile for that question."""
    answers = answers_from(schema, data)
    for code in schema.codes:
        if data.get(f"{CONFLICT_PREFIX}{code}") == "theirs":
            answers[code] = str(data.get(f"{THEIRS_PREFIX}{code}", ""))
    try:
        revision: int | None = int(data.get(REVISION_FIELD, ""))
    except ValueError:
        # A form that lost its revision cannot prove it saw the latest save: treat it as
        # stale, so that the person is shown both values instead of overwriting silently.
        revision = -1
    action = "draft" if data.get(ACTION_FIELD) == "draft" else "submit"
    return Posted(answers=answers, comments=comments_from(data), action=action, revision=revision)


def conflict_choices(schema: VersionSchema, conflict: Conflict) -> list[ConflictChoice]:
    by_code = schema.by_code
    return [
        ConflictChoice(code=code, label=by_code[code].label, theirs=theirs, mine=mine)
        for code, (theirs, mine) in conflict.differences.items()
        if code in by_code
    ]
