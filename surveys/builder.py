"""The survey builder: every change to a survey, its versions, sections and questions.

A survey is edited through its draft version. A frozen version (sent by a campaign) never
changes: editing a sent survey starts a new draft version copying the last one, and answers keep
pointing to the version they answered. Questions are bound to a published dictionary
definition (the code is the definition's) or ad hoc (own label, type, bounds, choices; a code
slugged from the label that no definition uses). Display conditions are compiled against the
version's questions at every save, so that a condition never names a code that is not there.

Every service takes the acting ``user``, checks they are a requester of the survey's owner
organisation, runs in one transaction and records an audit event. Errors are French and collected
into one ``BuilderError`` whose ``messages`` say where.
"""

import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import models, transaction
from django.db.models import Max
from django.utils import timezone

from accounts.models import Organisation, Role, User
from accounts.services import audit_record
from referentials.expressions import ExpressionError, compile_expression
from referentials.models import Definition, DictionaryStatus
from referentials.validation import EXPRESSION_TYPES, ValueType
from surveys.campaigns import overlap_reset
from surveys.models import Campaign, LegalBasis, Question, Section, Survey, SurveyVersion
from surveys.selectors_builder import can_edit, draft_version, latest_version, organisation_ids

CODE_PATTERN = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
CHOICE_TYPES = (ValueType.SINGLE_CHOICE, ValueType.MULTIPLE_CHOICE)
NUMBER_TYPES = (ValueType.INTEGER, ValueType.DECIMAL, ValueType.PERCENTAGE)


class BuilderError(Exception):
    """Refused changes, one French message per problem, each saying where."""

    def __init__(self, messages: list[str] | str) -> None:
        self.messages = [messages] if isinstance(messages, str) else list(messages)
        super().__init__(" ; ".join(self.messages))


# --- Codes ---------------------------------------------------------------------------------------


def slugify_code(label: str) -> str:
    """A question code from a label: « Lits de réa ouverts » -> ``lits_de_rea_ouverts``."""
    text = unicodedata.normalize("NFKD", label).encode("ascii", "ignore").decode().lower()
    code = re.sub(r"[^a-z0-9]+", "_", text).strip("_")
    if not code:
        code = "question"
    if not code[0].isalpha():
        code = f"q_{code}"
    return code[:64].rstrip("_")


# --- Checks -------------------------------------------------------------------------------------


def _require_writer(user: User, survey: Survey) -> None:
    if not can_edit(user, survey):
        raise BuilderError(
            f"Seuls les demandeurs de « {survey.owner} » modifient ce questionnaire."
        )


def _require_draft(version: SurveyVersion) -> None:
    """Refuse to touch a frozen version, as the database says now (locked until commit, so
    that a campaign cannot freeze it in the middle of an edit)."""
    status = (
        SurveyVersion.objects.select_for_update()
        .filter(pk=version.pk)
        .values_list("status", flat=True)
        .first()
    )
    if status is not None:
        version.status = status
    if version.is_frozen:
        raise BuilderError(
            f"La version {version.number} est figée (envoyée) : elle ne se modifie plus. "
            "Créez une nouvelle version pour modifier le questionnaire."
        )


def _require_metadata(
    *, title: str, purpose: str, legal_basis: str, legal_reference: str, where: str = ""
) -> list[str]:
    prefix = f"{where} : " if where else ""
    errors = []
    if not (title or "").strip():
        errors.append(f"{prefix}le titre est obligatoire.")
    elif len(title) > 200:
        errors.append(f"{prefix}le titre dépasse 200 caractères.")
    if not (purpose or "").strip():
        errors.append(f"{prefix}la finalité est obligatoire : dites à quoi serviront les données.")
    if legal_basis not in LegalBasis.values:
        errors.append(
            f"{prefix}base légale « {legal_basis} » inconnue ; choisissez parmi : "
            + ", ".join(LegalBasis.values)
            + "."
        )
    if len(legal_reference or "") > 300:
        errors.append(f"{prefix}le texte de référence dépasse 300 caractères.")
    return errors


@dataclass
class QuestionInput:
    """What a question is made of, before checks (from a form, a JSON document or a copy)."""

    definition: Definition | None = None
    code: str = ""
    label: str = ""
    value_type: str = ""
    choices: list[dict[str, str]] = field(default_factory=list)
    unit: str = ""
    minimum: Decimal | None = None
    maximum: Decimal | None = None
    decimals: int | None = None
    required: bool = False
    help_text: str = ""
    condition: str = ""


def definition_refusal(definition: Definition) -> str | None:
    """Why ``definition`` cannot be asked (French), or None if it is published."""
    if definition.status == DictionaryStatus.PUBLISHED:
        return None
    if definition.status == DictionaryStatus.DEPRECATED:
        if definition.replaced_by is not None:
            return (
                f"la définition « {definition.code} » est dépréciée : utilisez "
                f"« {definition.replaced_by.code} » ({definition.replaced_by.label}) à la place."
            )
        return f"la définition « {definition.code} » est dépréciée."
    return f"la définition « {definition.code} » n'est pas publiée."


def _clean(
    data: QuestionInput, *, taken_codes: set[str], definition_codes: set[str] | None = None
) -> tuple[dict[str, Any], list[str]]:
    """The question's fields as stored, and the problems (without the condition's)."""
    errors: list[str] = []
    common = {
        "required": bool(data.required),
        "help_text": (data.help_text or "").strip(),
        "condition": (data.condition or "").strip(),
    }
    if data.definition is not None:
        refusal = definition_refusal(data.definition)
        if refusal:
            errors.append(refusal)
        code = data.definition.code
        if code in taken_codes:
            errors.append(f"la définition « {code} » est déjà posée dans cette version.")
        fields = {
            "definition": data.definition,
            "code": code,
            "label": "",
            "value_type": "",
            "choices": [],
            "unit": "",
            "minimum": None,
            "maximum": None,
            "decimals": None,
        }
        return {**fields, **common}, errors

    label = (data.label or "").strip()
    if not label:
        errors.append("le libellé d'une question libre est obligatoire.")
    elif len(label) > 300:
        errors.append("le libellé dépasse 300 caractères.")
    code = (data.code or "").strip() or _free_code(slugify_code(label), taken_codes)
    if not CODE_PATTERN.match(code):
        errors.append(
            f"code « {code} » invalide : une lettre minuscule puis des minuscules, chiffres ou "
            "« _ », 64 caractères au plus."
        )
    elif code in taken_codes:
        errors.append(f"le code « {code} » est déjà celui d'une autre question de la version.")
    else:
        if definition_codes is None:
            definition_codes = set(
                Definition.objects.filter(code=code).values_list("code", flat=True)
            )
        if code in definition_codes:
            errors.append(
                f"le code « {code} » est celui d'une définition du dictionnaire : liez la "
                "question à cette définition ou choisissez un autre code."
            )
    value_type = data.value_type
    if value_type not in ValueType.__members__.values():
        errors.append(f"type de valeur « {value_type or '(vide)'} » inconnu.")
        value_type = ""
    choices: list[dict[str, str]] = []
    if value_type in CHOICE_TYPES:
        seen: set[str] = set()
        for index, choice in enumerate(data.choices or []):
            choice_code = str(choice.get("code", "")).strip()
            choice_label = str(choice.get("label", "")).strip() or choice_code
            if not choice_code:
                errors.append(f"choix n° {index + 1} sans code.")
                continue
            if choice_code in seen:
                errors.append(f"le choix « {choice_code} » est en double.")
            seen.add(choice_code)
            choices.append({"code": choice_code, "label": choice_label})
        if len(choices) < 2:
            errors.append("une question à choix propose au moins deux choix.")
    elif data.choices:
        errors.append("seules les questions à choix ont des choix.")
    numeric = value_type in NUMBER_TYPES
    if not numeric and (data.minimum is not None or data.maximum is not None):
        errors.append("minimum et maximum ne s'appliquent qu'aux nombres.")
    if data.minimum is not None and data.maximum is not None and data.minimum > data.maximum:
        errors.append(f"le minimum ({data.minimum}) dépasse le maximum ({data.maximum}).")
    decimals = data.decimals
    if decimals is not None and value_type not in (ValueType.DECIMAL, ValueType.PERCENTAGE):
        errors.append("le nombre de décimales ne s'applique qu'aux nombres décimaux.")
    if decimals is not None and not 0 <= decimals <= 6:
        errors.append("le nombre de décimales va de 0 à 6.")
    fields = {
        "definition": None,
        "code": code,
        "label": label,
        "value_type": value_type,
        "choices": choices,
        "unit": (data.unit or "").strip() if numeric else "",
        "minimum": data.minimum if numeric else None,
        "maximum": data.maximum if numeric else None,
        "decimals": decimals,
    }
    return {**fields, **common}, errors


def _free_code(base: str, taken: set[str]) -> str:
    code, n = base, 2
    while code in taken or Definition.objects.filter(code=code).exists():
        suffix = f"_{n}"
        code, n = f"{base[: 64 - len(suffix)]}{suffix}", n + 1
    return code


def _expression_type(fields: Mapping[str, Any]) -> str:
    definition = fields["definition"]
    value_type = definition.value_type if definition is not None else fields["value_type"]
    return EXPRESSION_TYPES[ValueType(value_type)]


def _condition_error(condition: str, *, code: str, types: Mapping[str, str]) -> str | None:
    if not condition:
        return None
    others = {c: t for c, t in types.items() if c != code}
    try:
        compile_expression(condition, types=others)
    except ExpressionError as error:
        return f"condition d'affichage « {condition} » refusée : {error}"
    return None


def _version_types(version: SurveyVersion) -> dict[str, str]:
    types = {}
    for question in version.questions.select_related("definition"):
        value_type = question.definition.value_type if question.definition else question.value_type
        types[question.code] = EXPRESSION_TYPES[ValueType(value_type)]
    return types


def _check_all_conditions(version: SurveyVersion, *, without: Iterable[str] = ()) -> None:
    """After a change of codes or types (or before deleting the questions ``without``): every
    condition of the version must still hold."""
    gone = set(without)
    types = {c: t for c, t in _version_types(version).items() if c not in gone}
    errors = []
    for question in version.questions.exclude(condition="").exclude(code__in=gone):
        error = _condition_error(question.condition, code=question.code, types=types)
        if error:
            errors.append(f"question « {question.code} » : {error}")
    if errors:
        raise BuilderError(errors)


def _touch(version: SurveyVersion) -> None:
    SurveyVersion.objects.filter(pk=version.pk).update(updated_at=timezone.now())


def _asked_changed(version: SurveyVersion, user: User) -> None:
    """The questions of a draft version changed: a draft campaign asking it forgets its overlap
    choice, made on what it asked before (``surveys.campaigns.overlap_reset``)."""
    for campaign in Campaign.objects.select_for_update().filter(
        version=version, status=Campaign.Status.DRAFT
    ):
        overlap_reset(campaign=campaign, user=user)


# --- Surveys and versions -----------------------------------------------------------------------


@transaction.atomic
def survey_create(
    *,
    owner: Organisation,
    title: str,
    purpose: str,
    legal_basis: str,
    legal_reference: str = "",
    user: User,
) -> Survey:
    """A new survey with its first draft version and a first section « Questions »."""
    errors = _require_metadata(
        title=title, purpose=purpose, legal_basis=legal_basis, legal_reference=legal_reference
    )
    if owner.pk not in organisation_ids(user, [Role.REQUESTER]):
        errors.insert(0, f"Vous n'êtes pas demandeur de « {owner} ».")
    if errors:
        raise BuilderError(errors)
    survey = _survey_create(
        owner=owner,
        title=title,
        purpose=purpose,
        legal_basis=legal_basis,
        legal_reference=legal_reference,
        user=user,
    )
    Section.objects.create(version=survey.versions.get(), title="Questions", order=1)
    return survey


def _survey_create(
    *,
    owner: Organisation,
    title: str,
    purpose: str,
    legal_basis: str,
    legal_reference: str,
    user: User,
) -> Survey:
    survey = Survey.objects.create(owner=owner, created_by=user)
    SurveyVersion.objects.create(
        survey=survey,
        number=1,
        title=title.strip(),
        purpose=purpose.strip(),
        legal_basis=legal_basis,
        legal_reference=(legal_reference or "").strip(),
        created_by=user,
    )
    audit_record(actor=user, action="survey.create", target=survey, details={"title": title})
    return survey


@transaction.atomic
def version_update(
    *,
    version: SurveyVersion,
    title: str,
    purpose: str,
    legal_basis: str,
    legal_reference: str = "",
    user: User,
) -> SurveyVersion:
    _require_writer(user, version.survey)
    _require_draft(version)
    errors = _require_metadata(
        title=title, purpose=purpose, legal_basis=legal_basis, legal_reference=legal_reference
    )
    if errors:
        raise BuilderError(errors)
    version.title = title.strip()
    version.purpose = purpose.strip()
    version.legal_basis = legal_basis
    version.legal_reference = (legal_reference or "").strip()
    version.save()
    audit_record(actor=user, action="survey_version.update", target=version)
    return version


@transaction.atomic
def freeze_version(*, version: SurveyVersion, user: User | None) -> SurveyVersion:
    """Freeze ``version`` (a campaign sends it): it will never change again. Idempotent."""
    version = SurveyVersion.objects.select_for_update().get(pk=version.pk)
    if version.is_frozen:
        return version
    if not version.questions.exists():
        raise BuilderError(
            f"La version {version.number} n'a aucune question : ajoutez-en avant de l'envoyer."
        )
    version.status = SurveyVersion.Status.FROZEN
    version.frozen_at = timezone.now()
    version.frozen_by = user
    version.save(update_fields=["status", "frozen_at", "frozen_by", "updated_at"])
    audit_record(actor=user, action="survey_version.freeze", target=version)
    return version


@transaction.atomic
def new_version(
    *, survey: Survey, user: User, source: SurveyVersion | None = None
) -> SurveyVersion:
    """The draft to edit: a copy of ``source`` (by default the latest version: sections,
    questions) numbered after the latest.

    If a draft exists already it is returned: a survey has one draft at a time.
    """
    _require_writer(user, survey)
    Survey.objects.select_for_update().filter(pk=survey.pk).first()
    draft = draft_version(survey)
    if draft is not None:
        return draft
    newest = latest_version(survey)
    latest = newest if source is None else source
    if newest is None or latest is None:
        raise BuilderError("Ce questionnaire n'a aucune version à copier.")
    if latest.survey_id != survey.pk:
        raise BuilderError("Cette version appartient à un autre questionnaire.")
    copy = SurveyVersion.objects.create(
        survey=survey,
        number=newest.number + 1,
        title=latest.title,
        purpose=latest.purpose,
        legal_basis=latest.legal_basis,
        legal_reference=latest.legal_reference,
        created_by=user,
    )
    sections = {}
    for section in latest.sections.order_by("order", "pk"):
        sections[section.pk] = Section.objects.create(
            version=copy, title=section.title, description=section.description, order=section.order
        )
    Question.objects.bulk_create(
        Question(
            version=copy,
            section=sections[q.section_id],
            order=q.order,
            code=q.code,
            definition_id=q.definition_id,
            label=q.label,
            value_type=q.value_type,
            choices=q.choices,
            unit=q.unit,
            minimum=q.minimum,
            maximum=q.maximum,
            decimals=q.decimals,
            required=q.required,
            help_text=q.help_text,
            condition=q.condition,
        )
        for q in latest.questions.order_by("pk")
    )
    audit_record(
        actor=user,
        action="survey_version.create",
        target=copy,
        details={"copied_from": latest.number},
    )
    return copy


# --- Sections -----------------------------------------------------------------------------------


def _renumber_sections(version: SurveyVersion) -> list[Section]:
    sections = list(version.sections.order_by("order", "pk"))
    for index, section in enumerate(sections, start=1):
        section.order = index
    Section.objects.bulk_update(sections, ["order"])
    return sections


@transaction.atomic
def section_add(
    *, version: SurveyVersion, title: str, description: str = "", user: User
) -> Section:
    _require_writer(user, version.survey)
    _require_draft(version)
    if not (title or "").strip():
        raise BuilderError("Le titre de la section est obligatoire.")
    last = version.sections.aggregate(m=Max("order"))["m"] or 0
    section = Section.objects.create(
        version=version,
        title=title.strip(),
        description=(description or "").strip(),
        order=last + 1,
    )
    _touch(version)
    audit_record(actor=user, action="section.create", target=section, details={"title": title})
    return section


@transaction.atomic
def section_update(*, section: Section, title: str, description: str = "", user: User) -> Section:
    _require_writer(user, section.version.survey)
    _require_draft(section.version)
    if not (title or "").strip():
        raise BuilderError("Le titre de la section est obligatoire.")
    section.title = title.strip()
    section.description = (description or "").strip()
    section.save()
    _touch(section.version)
    audit_record(actor=user, action="section.update", target=section, details={"title": title})
    return section


@transaction.atomic
def section_delete(*, section: Section, user: User) -> None:
    """Delete a section and its questions (refused if a remaining condition names them)."""
    version = section.version
    _require_writer(user, version.survey)
    _require_draft(version)
    codes = list(section.questions.values_list("code", flat=True))
    audit_record(
        actor=user,
        action="section.delete",
        target=section,
        details={"title": section.title, "codes": codes},
    )
    _check_all_conditions(version, without=codes)
    section.delete()
    _renumber_sections(version)
    _touch(version)
    _asked_changed(version, user)


@transaction.atomic
def section_move(*, section: Section, direction: str, user: User) -> Section:
    """Move ``section`` one place ``"up"`` or ``"down"``."""
    version = section.version
    _require_writer(user, version.survey)
    _require_draft(version)
    if direction not in ("up", "down"):
        raise BuilderError(f"Sens de déplacement « {direction} » inconnu (up ou down).")
    sections = _renumber_sections(version)
    index = next(i for i, s in enumerate(sections) if s.pk == section.pk)
    other = index - 1 if direction == "up" else index + 1
    if 0 <= other < len(sections):
        sections[index].order, sections[other].order = sections[other].order, sections[index].order
        Section.objects.bulk_update([sections[index], sections[other]], ["order"])
        _touch(version)
        audit_record(
            actor=user, action="section.move", target=section, details={"direction": direction}
        )
    section.refresh_from_db()
    return section


# --- Questions ----------------------------------------------------------------------------------


def _question_save(
    *,
    version: SurveyVersion,
    section: Section,
    data: QuestionInput,
    question: Question | None,
) -> Question:
    if section.version_id != version.pk:
        raise BuilderError("Cette section n'appartient pas à la version modifiée.")
    taken = set(version.questions.values_list("code", flat=True))
    if question is not None:
        taken.discard(question.code)
    fields, errors = _clean(data, taken_codes=taken)
    if not errors:
        types = _version_types(version)
        if question is not None:
            types.pop(question.code, None)
        types[fields["code"]] = _expression_type(fields)
        error = _condition_error(fields["condition"], code=fields["code"], types=types)
        if error:
            errors.append(error)
        # The other questions' conditions may name this question's former code or type.
        others = version.questions.exclude(condition="")
        if question is not None:
            others = others.exclude(pk=question.pk)
        for other in others:
            error = _condition_error(other.condition, code=other.code, types=types)
            if error:
                errors.append(f"question « {other.code} » : {error}")
    if errors:
        raise BuilderError(errors)
    if question is None:
        last = section.questions.aggregate(m=Max("order"))["m"] or 0
        question = Question(version=version, section=section, order=last + 1)
    for name, value in fields.items():
        setattr(question, name, value)
    question.save()
    _touch(version)
    return question


@transaction.atomic
def question_add(
    *,
    version: SurveyVersion,
    section: Section,
    definition: Definition | None = None,
    code: str = "",
    label: str = "",
    value_type: str = "",
    choices: list[dict[str, str]] | None = None,
    unit: str = "",
    minimum: Decimal | None = None,
    maximum: Decimal | None = None,
    decimals: int | None = None,
    required: bool = False,
    help_text: str = "",
    condition: str = "",
    user: User,
) -> Question:
    """Add a question at the end of ``section``: bound to ``definition``, or ad hoc."""
    _require_writer(user, version.survey)
    _require_draft(version)
    data = QuestionInput(
        definition=definition,
        code=code,
        label=label,
        value_type=value_type,
        choices=choices or [],
        unit=unit,
        minimum=minimum,
        maximum=maximum,
        decimals=decimals,
        required=required,
        help_text=help_text,
        condition=condition,
    )
    question = _question_save(version=version, section=section, data=data, question=None)
    _asked_changed(version, user)
    audit_record(
        actor=user,
        action="question.create",
        target=question,
        details={"code": question.code, "bound": definition is not None},
    )
    return question


@transaction.atomic
def question_update(
    *,
    question: Question,
    definition: Definition | None = None,
    code: str = "",
    label: str = "",
    value_type: str = "",
    choices: list[dict[str, str]] | None = None,
    unit: str = "",
    minimum: Decimal | None = None,
    maximum: Decimal | None = None,
    decimals: int | None = None,
    required: bool = False,
    help_text: str = "",
    condition: str = "",
    user: User,
) -> Question:
    """Replace what ``question`` is (same arguments as ``question_add``); it keeps its place."""
    version = question.version
    _require_writer(user, version.survey)
    _require_draft(version)
    before = question.code
    data = QuestionInput(
        definition=definition,
        code=code,
        label=label,
        value_type=value_type,
        choices=choices or [],
        unit=unit,
        minimum=minimum,
        maximum=maximum,
        decimals=decimals,
        required=required,
        help_text=help_text,
        condition=condition,
    )
    question = _question_save(
        version=version, section=question.section, data=data, question=question
    )
    _asked_changed(version, user)
    audit_record(
        actor=user,
        action="question.update",
        target=question,
        details={"code": question.code, "previous_code": before},
    )
    return question


@transaction.atomic
def question_delete(*, question: Question, user: User) -> None:
    """Delete ``question`` (refused if another question's condition names it)."""
    version = question.version
    _require_writer(user, version.survey)
    _require_draft(version)
    _check_all_conditions(version, without=[question.code])
    audit_record(
        actor=user, action="question.delete", target=question, details={"code": question.code}
    )
    question.delete()
    _touch(version)
    _asked_changed(version, user)


@transaction.atomic
def question_move(
    *,
    question: Question,
    direction: str | None = None,
    position: int | None = None,
    section: Section | None = None,
    user: User,
) -> Question:
    """Move ``question`` one place ``"up"``/``"down"`` (past the edge of its section, into the
    previous or next section), or to ``position`` (1-based) in ``section`` (default its own)."""
    version = question.version
    _require_writer(user, version.survey)
    _require_draft(version)
    sections = _renumber_sections(version)
    target = section or question.section
    if target.version_id != version.pk:
        raise BuilderError("Cette section n'appartient pas à la version modifiée.")
    if direction is not None:
        if direction not in ("up", "down"):
            raise BuilderError(f"Sens de déplacement « {direction} » inconnu (up ou down).")
        siblings = list(target.questions.order_by("order", "pk"))
        index = next(i for i, q in enumerate(siblings) if q.pk == question.pk)
        section_index = next(i for i, s in enumerate(sections) if s.pk == target.pk)
        if direction == "up" and index == 0:
            if section_index == 0:
                return question
            target, position = sections[section_index - 1], None
        elif direction == "down" and index == len(siblings) - 1:
            if section_index == len(sections) - 1:
                return question
            target, position = sections[section_index + 1], 1
        else:
            position = index + (0 if direction == "up" else 2)
    others = [q for q in target.questions.order_by("order", "pk") if q.pk != question.pk]
    place = len(others) if position is None else max(0, min(position - 1, len(others)))
    others.insert(place, question)
    question.section = target
    for index, item in enumerate(others, start=1):
        item.order = index
        item.section = target
    Question.objects.bulk_update(others, ["order", "section"])
    _touch(version)
    audit_record(
        actor=user,
        action="question.move",
        target=question,
        details={"section": target.pk, "position": place + 1},
    )
    return question


# --- A whole survey from a JSON document --------------------------------------------------------


def _check_length(
    value: str, model: type[models.Model], name: str, where: str, errors: list[str]
) -> list[str]:
    """The column's length, checked before writing: PostgreSQL would refuse it with a 500."""
    limit = getattr(model._meta.get_field(name), "max_length", None)
    if limit is not None and len(value) > limit:
        message = f"{where} : « {name} » trop long ({len(value)} caractères, {limit} au plus)."
        errors.append(message)
        return [message]
    return []


def _decimal(raw: Any, where: str, name: str, errors: list[str]) -> Decimal | None:
    if raw is None or raw == "":
        return None
    try:
        number = Decimal(str(raw).replace(",", "."))
    except InvalidOperation:
        errors.append(f"{where} : {name} « {raw} » n'est pas un nombre.")
        return None
    # What the question's bound columns hold exactly: 16 digits, 4 decimals.
    if not number.is_finite() or abs(number) >= Decimal(10) ** 16 or number != round(number, 4):
        errors.append(
            f"{where} : {name} « {raw} » hors des bornes possibles (nombre fini, moins de 10^16, "
            "au plus 4 décimales)."
        )
        return None
    return number


def _question_input(
    raw: Any, where: str, definitions: Mapping[str, Definition], errors: list[str]
) -> QuestionInput | None:
    if not isinstance(raw, dict):
        errors.append(f"{where} : une question est un objet JSON.")
        return None
    data = QuestionInput(
        required=bool(raw.get("required", False)),
        help_text=str(raw.get("help_text") or ""),
        condition=str(raw.get("condition") or ""),
    )
    if raw.get("definition"):
        code = str(raw["definition"])
        definition = definitions.get(code)
        if definition is None:
            errors.append(f"{where} : définition « {code} » inconnue.")
            return None
        data.definition = definition
        return data
    choices = raw.get("choices") or []
    if not isinstance(choices, list) or not all(isinstance(c, dict | str) for c in choices):
        errors.append(f'{where} : « choices » est une liste de {{"code", "label"}}.')
        choices = []
    data.choices = [
        c if isinstance(c, dict) else {"code": slugify_code(c), "label": c} for c in choices
    ]
    data.code = str(raw.get("code") or "")
    data.label = str(raw.get("label") or "")
    data.value_type = str(raw.get("value_type") or "")
    data.unit = str(raw.get("unit") or "")
    data.minimum = _decimal(raw.get("minimum"), where, "minimum", errors)
    data.maximum = _decimal(raw.get("maximum"), where, "maximum", errors)
    decimals = raw.get("decimals")
    if decimals not in (None, ""):
        try:
            data.decimals = int(decimals)
        except (TypeError, ValueError):
            errors.append(f"{where} : décimales « {decimals} » n'est pas un entier.")
    return data


@transaction.atomic
def survey_from_json(*, data: dict[str, Any], owner: Organisation, user: User) -> Survey:
    """Create a survey, its draft version, sections and questions from one JSON document.

    ``{"title", "purpose", "legal_basis", "legal_reference", "sections": [{"title",
    "description", "questions": [{"definition": "code"} | {"code", "label", "value_type",
    "choices", "unit", "minimum", "maximum", "decimals"}, with "required", "help_text",
    "condition"]}]}``. Every problem is collected and raised as one ``BuilderError`` whose
    messages say where (« sections[0].questions[2] : définition « xyz » inconnue. »); nothing
    is written unless the whole document is right.
    """
    if not isinstance(data, dict):
        raise BuilderError("Le document doit être un objet JSON.")
    errors = _require_metadata(
        title=str(data.get("title") or ""),
        purpose=str(data.get("purpose") or ""),
        legal_basis=str(data.get("legal_basis") or ""),
        legal_reference=str(data.get("legal_reference") or ""),
        where="questionnaire",
    )
    if owner.pk not in organisation_ids(user, [Role.REQUESTER]):
        errors.insert(0, f"Vous n'êtes pas demandeur de « {owner} ».")
    for name in ("title", "legal_reference"):
        _check_length(str(data.get(name) or ""), SurveyVersion, name, "questionnaire", errors)
    sections = data.get("sections")
    if not isinstance(sections, list) or not sections:
        errors.append("sections : au moins une section est attendue (une liste).")
        sections = []
    wanted = {
        str(q["definition"])
        for s in sections
        if isinstance(s, dict) and isinstance(s.get("questions"), list)
        for q in s["questions"]
        if isinstance(q, dict) and q.get("definition")
    }
    definitions = {
        d.code: d for d in Definition.objects.filter(code__in=wanted).select_related("replaced_by")
    }
    definition_codes = set(Definition.objects.values_list("code", flat=True))
    cleaned: list[tuple[int, str, list[tuple[str, dict[str, Any]]]]] = []
    taken: set[str] = set()
    for s_index, raw_section in enumerate(sections):
        where = f"sections[{s_index}]"
        if not isinstance(raw_section, dict):
            errors.append(f"{where} : une section est un objet JSON.")
            continue
        title = str(raw_section.get("title") or "").strip()
        if not title:
            errors.append(f"{where} : le titre de la section est obligatoire.")
        _check_length(title, Section, "title", where, errors)
        raw_questions = raw_section.get("questions") or []
        if not isinstance(raw_questions, list):
            errors.append(f"{where}.questions : une liste est attendue.")
            raw_questions = []
        questions = []
        for q_index, raw in enumerate(raw_questions):
            q_where = f"{where}.questions[{q_index}]"
            question = _question_input(raw, q_where, definitions, errors)
            if question is None:
                continue
            fields, problems = _clean(
                question, taken_codes=taken, definition_codes=definition_codes
            )
            errors.extend(f"{q_where} : {p}" for p in problems)
            for name in ("code", "label", "unit"):
                if not problems:
                    problems = _check_length(
                        str(fields.get(name) or ""), Question, name, q_where, errors
                    )
            if not problems:
                taken.add(fields["code"])
                questions.append((q_where, fields))
        cleaned.append((s_index, title, questions))
    types = {
        fields["code"]: _expression_type(fields)
        for _, _, questions in cleaned
        for _, fields in questions
    }
    for _, _, questions in cleaned:
        for q_where, fields in questions:
            error = _condition_error(fields["condition"], code=fields["code"], types=types)
            if error:
                errors.append(f"{q_where} : {error}")
    if errors:
        raise BuilderError(errors)
    survey = _survey_create(
        owner=owner,
        title=str(data["title"]),
        purpose=str(data["purpose"]),
        legal_basis=str(data["legal_basis"]),
        legal_reference=str(data.get("legal_reference") or ""),
        user=user,
    )
    version = survey.versions.get()
    for s_index, title, questions in cleaned:
        raw_section = sections[s_index]
        section = Section.objects.create(
            version=version,
            title=title,
            description=str(raw_section.get("description") or ""),
            order=s_index + 1,
        )
        Question.objects.bulk_create(
            Question(version=version, section=section, order=order, **fields)
            for order, (_, fields) in enumerate(questions, start=1)
        )
    audit_record(
        actor=user,
        action="survey.import_json",
        target=survey,
        details={"questions": len(types)},
    )
    return survey
