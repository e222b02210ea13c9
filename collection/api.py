"""REST API for establishments' systems: assignments and answers, under ``/api/v1/``.

A system calls with its organisation's API key (``Authorization: Bearer rs_…``); a person may
call with their session. Either way, what is visible is the respondent's scope
(``collection.selectors.answerable_assignments``): an assignment outside it answers 404, as one
that does not exist.

Answers go through ``collection.values.submit``, the write path of the web form and the
spreadsheet: same engine, same verdicts. Errors come back as structured JSON
(``{"erreurs": [{"demande", "code", "gravite", "message", "source"}]}``), ``source`` naming the
field of the request (``valeurs.lits``, ``demandes[2].valeurs.lits``).

Batches (``POST /api/v1/reponses/``) are all-or-nothing: every assignment is checked, and
either all are written in one transaction (200) or none is and every error comes back (422).

``Idempotency-Key``: with an API key, a retry with the same key and the same body replays the
stored answer; the same key with another body is refused (422). A session user's browser does
not retry: the header is refused with a session, rather than silently ignored.
"""

import hashlib
import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from django.contrib.auth.decorators import login_not_required
from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.http import Http404
from django.urls import path
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics, permissions, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.authentication import api_key_of
from accounts.models import ApiKey, Role, User
from accounts.scoping import has_role
from collection import reuse, selectors, values
from collection import serializers as s
from collection.models import Channel, IdempotencyRecord
from referentials.validation import Issue, Severity
from surveys.models import Assignment, Campaign
from surveys.schema import VersionSchema, version_schema

TAGS = ["Réponses"]
IDEMPOTENCY_HEADER = "Idempotency-Key"
IDEMPOTENCY_MAX_LENGTH = 200


class IsRespondent(permissions.BasePermission):
    """An API key, or a person who answers for at least one unit."""

    message = "Cette API est réservée aux répondants (clé d'API ou compte d'établissement)."

    def has_permission(self, request: Request, view: APIView) -> bool:
        if api_key_of(request) is not None:
            return True
        return bool(request.user and has_role(request.user, Role.RESPONDENT))


def _caller(request: Request) -> tuple[User | None, ApiKey | None]:
    """Who answers: (the person, or None) and (the key, or None)."""
    key = api_key_of(request)
    if key is not None:
        return None, key
    return request.user, None  # type: ignore[return-value]


def _visible(request: Request) -> QuerySet[Assignment]:
    user, key = _caller(request)
    return selectors.answerable_assignments(user=user, key=key)


def _open_assignment(request: Request, pk: int) -> Assignment:
    """An assignment of an open campaign in the caller's scope, or 404."""
    assignment = _visible(request).filter(pk=pk, campaign__status=Campaign.Status.OPEN).first()
    if assignment is None:
        raise Http404("Demande introuvable.")
    return assignment


# --- Shaping ----------------------------------------------------------------------------------


def _assignment_data(assignment: Assignment, *, now: Any) -> dict[str, Any]:
    owner = assignment.campaign.owner
    unit = assignment.unit
    return {
        "id": assignment.pk,
        "campagne": {
            "id": assignment.campaign_id,
            "titre": assignment.campaign.title,
            "demandeur": owner.short_name or owner.name,
        },
        "enquete": assignment.version.title,
        "periode": {
            "cle": assignment.period.key,
            "debut": assignment.period.start,
            "fin": assignment.period.end,
        },
        "unite": {
            "type": unit.kind,
            "libelle": unit.label,
            "finess": unit.finess,
            "identifiant_national": unit.national_id,
        },
        "echeance": assignment.due_at,
        "statut": assignment.status,
        "en_retard": selectors.overdue_days(assignment, now=now) is not None,
        "revision": assignment.revision,
    }


def _issue(issue: Issue, *, assignment_id: int | None, blocking_hint: bool = False) -> dict:
    message = issue.message
    if blocking_hint and issue.severity is Severity.WARNING:
        message += f" Justifiez-la dans « commentaires.{issue.code} » ou corrigez la valeur."
    return {
        "demande": assignment_id,
        "code": issue.code,
        "gravite": issue.severity.value,
        "message": message,
        "source": issue.source,
    }


def _error(
    message: str, *, assignment_id: int | None = None, code: str = "", source: str = ""
) -> dict:
    return {
        "demande": assignment_id,
        "code": code,
        "gravite": Severity.ERROR.value,
        "message": message,
        "source": source,
    }


def _input_errors(detail: Any, *, prefix: str = "", assignment_id: int | None = None) -> list[dict]:
    """DRF's nested validation errors as our flat, located list."""
    found: list[dict] = []

    def walk(node: Any, where: str) -> None:
        if isinstance(node, Mapping):
            for key, child in node.items():
                name = "" if key == "non_field_errors" else str(key)
                walk(child, f"{where}.{name}" if where and name else (name or where))
        elif isinstance(node, list) and node and not all(isinstance(x, str) for x in node):
            for index, child in enumerate(node):
                if child:
                    walk(child, f"{where}[{index}]")
        else:
            for message in node if isinstance(node, list) else [node]:
                found.append(_error(str(message), assignment_id=assignment_id, source=where))

    walk(detail, prefix)
    return found


# --- Listing and reading ----------------------------------------------------------------------


@extend_schema(
    summary="Mes demandes",
    description="Les demandes des campagnes ouvertes adressées aux unités pour lesquelles vous "
    "répondez (avec une clé d'API : celles de son organisation), par échéance.",
    parameters=[s.AssignmentFilterInput],
    tags=TAGS,
)
class AssignmentListApi(generics.ListAPIView):
    serializer_class = s.AssignmentOutput
    permission_classes = [IsRespondent]

    def get_queryset(self) -> QuerySet[Assignment]:
        filters = s.AssignmentFilterInput(data=self.request.query_params)
        filters.is_valid(raise_exception=True)
        data = filters.validated_data
        assignments = _visible(self.request).filter(campaign__status=Campaign.Status.OPEN)
        if "statut" in data:
            assignments = assignments.filter(selectors.status_q(data["statut"], now=timezone.now()))
        if "campagne" in data:
            assignments = assignments.filter(campaign_id=data["campagne"])
        if "periode" in data:
            assignments = assignments.filter(period__key=data["periode"])
        if "finess" in data:
            assignments = assignments.filter(unit__finess=data["finess"].upper())
        return assignments.order_by("due_at", "pk")

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        page = self.paginate_queryset(self.get_queryset())
        now = timezone.now()
        return self.get_paginated_response([_assignment_data(a, now=now) for a in page or []])


ID_PARAMETER = OpenApiParameter(
    "id", OpenApiTypes.INT, OpenApiParameter.PATH, description="Identifiant de la demande."
)


class AssignmentDetailApi(APIView):
    permission_classes = [IsRespondent]

    @extend_schema(
        summary="Formulaire d'une demande",
        description="Les questions (code, type, unité, bornes, choix, aide), les règles en jeu, "
        "les valeurs déjà connues pour la période avec leur provenance et celles de la période "
        "précédente. 404 si la demande n'existe pas ou n'est pas dans votre périmètre.",
        parameters=[ID_PARAMETER],
        responses={200: s.AssignmentDetailOutput},
        tags=TAGS,
    )
    def get(self, request: Request, pk: int) -> Response:
        assignment = _open_assignment(request, pk)
        schema = version_schema(assignment.version)
        period = values.period_of_assignment(assignment)
        stored = values.stored_values(
            unit_id=assignment.unit_id, schema=schema, period_key=period.key
        )
        previous = values.stored_values(
            unit_id=assignment.unit_id, schema=schema, period_key=period.previous().key
        )
        sections = {section.id: section.title for section in schema.sections}
        by_code = schema.by_code
        served = reuse.served_for(assignment, schema=schema)  # not asked: never send them
        data = _assignment_data(assignment, now=timezone.now())
        data["questions"] = [
            {
                "code": q.code,
                "libelle": q.label,
                "section": sections.get(q.section_id, ""),
                "type": q.spec.type.value,
                "unite": q.spec.unit,
                "minimum": values.to_data(q.spec.minimum),
                "maximum": values.to_data(q.spec.maximum),
                "decimales": q.spec.decimals,
                "choix": [{"code": code, "libelle": label} for code, label in q.choices],
                "obligatoire": q.required and q.code not in served,
                "aide": q.help_text,
                "condition": q.condition_source,
                "servie": q.code in served,
                "valeur_servie": _served_data(assignment.pk, served.get(q.code)),
            }
            for q in schema.questions
        ]
        data["regles"] = [
            {
                "code": rule.code,
                "expression": rule.expression.source,
                "message": rule.message,
                "gravite": rule.severity.value,
            }
            for rule in schema.rules
        ]
        data["valeurs_connues"] = {
            code: {
                "valeur": value.data,
                "affichage": values.display(by_code[code].spec, value.data),
                "commentaire": value.comment,
                "provenance": values.provenance(value),
            }
            for code, value in stored.items()
            if code in by_code
        }
        data["periode_precedente"] = {
            code: value.data for code, value in previous.items() if code in by_code
        }
        return Response(data)


def _served_data(assignment_id: int, served: reuse.Served | None) -> dict[str, Any] | None:
    if served is None:
        return None
    return {
        "etat": "disponible" if served.available else "en_attente",
        "valeur": served.data,
        "affichage": served.text,
        "provenance": served.provenance,
        "correction": reuse.served_url(assignment_id, served.code),
    }


# --- Answering --------------------------------------------------------------------------------


@dataclass
class Item:
    index: int | None  # position in a batch, None for a single submission
    assignment_id: int
    answers: dict[str, Any]
    comments: dict[str, str]
    revision: int | None

    @property
    def prefix(self) -> str:
        return "" if self.index is None else f"demandes[{self.index}]."


class Refused(Exception):
    def __init__(self, status_code: int, body: dict[str, Any]) -> None:
        self.status_code, self.body = status_code, body


def _submit_all(request: Request, items: list[Item]) -> tuple[int, dict[str, Any]]:
    """Submit every item in one transaction; all are written, or none and every error told."""
    user, key = _caller(request)
    visible = {
        a.pk: a
        for a in _visible(request).filter(
            pk__in=[item.assignment_id for item in items], campaign__status=Campaign.Status.OPEN
        )
    }
    schemas: dict[int, VersionSchema] = {}
    results: list[dict[str, Any]] = []
    errors: list[dict[str, Any]] = []
    conflict: dict[str, Any] | None = None
    seen: set[int] = set()
    try:
        with transaction.atomic():
            for item in items:
                assignment = visible.get(item.assignment_id)
                if assignment is None:
                    errors.append(
                        _error(
                            f"Demande {item.assignment_id} introuvable, close ou hors de votre "
                            "périmètre.",
                            assignment_id=item.assignment_id,
                            source=f"{item.prefix}demande" if item.index is not None else "",
                        )
                    )
                    continue
                if item.assignment_id in seen:
                    errors.append(
                        _error(
                            f"La demande {item.assignment_id} figure deux fois dans le lot : "
                            "regroupez ses valeurs.",
                            assignment_id=item.assignment_id,
                            source=f"{item.prefix}demande",
                        )
                    )
                    continue
                seen.add(item.assignment_id)
                schema = schemas.get(assignment.version_id)
                if schema is None:
                    schema = schemas[assignment.version_id] = version_schema(assignment.version)
                sources = {
                    code: f"{item.prefix}valeurs.{code}" for code in [*schema.codes, *item.answers]
                }
                try:
                    outcome = values.submit(
                        assignment,
                        item.answers,
                        channel=Channel.API,
                        user=user,
                        api_key=key,
                        comments=item.comments,
                        sources=sources,
                        expected_revision=item.revision,
                        schema=schema,
                    )
                except values.SubmissionRefused as error:
                    errors.append(_error(str(error), assignment_id=assignment.pk))
                    continue
                if outcome.conflict is not None:
                    conflict = {
                        "demande": assignment.pk,
                        "revision_attendue": outcome.conflict.expected_revision,
                        "revision_actuelle": outcome.conflict.current_revision,
                        "differences": {
                            code: {"enregistree": theirs, "envoyee": mine}
                            for code, (theirs, mine) in outcome.conflict.differences.items()
                        },
                    }
                    errors.append(
                        _error(
                            f"La demande {assignment.pk} a été modifiée depuis votre lecture "
                            f"(révision {outcome.conflict.current_revision}, vous aviez "
                            f"{outcome.conflict.expected_revision}) : relisez-la puis renvoyez.",
                            assignment_id=assignment.pk,
                            source=f"{item.prefix}revision",
                        )
                    )
                    continue
                if outcome.blocking:
                    errors.extend(
                        _issue(issue, assignment_id=assignment.pk, blocking_hint=True)
                        for issue in outcome.blocking
                    )
                    continue
                results.append(
                    {
                        "demande": assignment.pk,
                        "statut": assignment.status,
                        "revision": assignment.revision,
                        "creees": outcome.created,
                        "modifiees": outcome.changed,
                        "inchangees": outcome.unchanged,
                        "avertissements": [
                            _issue(issue, assignment_id=assignment.pk)
                            for issue in outcome.verdict.warnings
                        ],
                    }
                )
            if errors:
                raise Refused(
                    status.HTTP_409_CONFLICT
                    if conflict is not None and len(errors) == 1
                    else status.HTTP_422_UNPROCESSABLE_ENTITY,
                    {"erreurs": errors, **({"conflit": conflict} if conflict else {})},
                )
    except Refused as refused:  # the transaction is rolled back: nothing of the batch stays
        return refused.status_code, refused.body
    return status.HTTP_200_OK, {"demandes": results}


def _request_hash(request: Request) -> str:
    body = json.dumps(request.data, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(f"{request.method} {request.path}\n{body}".encode()).hexdigest()


def _idempotent(request: Request, handler: Callable[[], tuple[int, dict[str, Any]]]) -> Response:
    """Run ``handler`` once per Idempotency-Key; replay its answer on a retry."""
    idempotency_key = request.headers.get(IDEMPOTENCY_HEADER, "").strip()
    if not idempotency_key:
        code, body = handler()
        return Response(body, status=code)
    key = api_key_of(request)
    if key is None:
        return Response(
            {
                "erreurs": [
                    _error(
                        "L'en-tête Idempotency-Key n'est pris en compte qu'avec une clé d'API : "
                        "retirez-le ou appelez avec votre clé.",
                        source=IDEMPOTENCY_HEADER,
                    )
                ]
            },
            status=status.HTTP_422_UNPROCESSABLE_ENTITY,
        )
    if len(idempotency_key) > IDEMPOTENCY_MAX_LENGTH:
        return Response(
            {
                "erreurs": [
                    _error(
                        f"Clé d'idempotence trop longue : {IDEMPOTENCY_MAX_LENGTH} caractères "
                        "au plus.",
                        source=IDEMPOTENCY_HEADER,
                    )
                ]
            },
            status=status.HTTP_422_UNPROCESSABLE_ENTITY,
        )
    digest = _request_hash(request)
    record = IdempotencyRecord.objects.filter(api_key=key, key=idempotency_key).first()
    if record is None:
        try:
            with transaction.atomic():
                code, body = handler()
                record = IdempotencyRecord.objects.create(
                    api_key=key,
                    key=idempotency_key,
                    request_hash=digest,
                    status_code=code,
                    response=json.loads(json.dumps(body, default=str)),
                )
            return Response(body, status=code)
        except IntegrityError:
            # The same key ran concurrently and won: this attempt was rolled back; replay it.
            found = IdempotencyRecord.objects.filter(api_key=key, key=idempotency_key).first()
            if found is None:
                raise  # not an idempotency race: a real integrity error
            record = found
    if record.request_hash != digest:
        return Response(
            {
                "erreurs": [
                    _error(
                        "Clé d'idempotence déjà utilisée pour une autre requête : utilisez une "
                        "nouvelle clé pour un nouvel envoi.",
                        source=IDEMPOTENCY_HEADER,
                    )
                ]
            },
            status=status.HTTP_422_UNPROCESSABLE_ENTITY,
        )
    response = Response(record.response, status=record.status_code)
    response["Idempotent-Replayed"] = "true"
    return response


IDEMPOTENCY_PARAMETER = OpenApiParameter(
    IDEMPOTENCY_HEADER,
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    required=False,
    description="Avec une clé d'API : un renvoi avec la même clé et le même corps rejoue la "
    "réponse enregistrée, sans rien réécrire ; la même clé avec un autre corps est refusée.",
)
ERROR_RESPONSES = {
    400: s.AnswerErrorsOutput,
    409: s.AnswerErrorsOutput,
    422: s.AnswerErrorsOutput,
}


def _items(
    raw: Iterable[Mapping[str, Any]], *, batch: bool, assignment_id: int | None = None
) -> list[Item]:
    return [
        Item(
            index=index if batch else None,
            assignment_id=int(entry["demande"]) if batch else int(assignment_id or 0),
            answers=dict(entry["valeurs"]),
            comments=dict(entry.get("commentaires") or {}),
            revision=entry.get("revision"),
        )
        for index, entry in enumerate(raw)
    ]


class AssignmentAnswerApi(APIView):
    permission_classes = [IsRespondent]

    @extend_schema(
        summary="Répondre à une demande",
        description="Envoie les valeurs d'une demande, contrôlées comme dans le formulaire. "
        "Les codes absents gardent leur valeur ; chaque avertissement demande un commentaire. "
        "Rien n'est écrit en cas d'erreur (422, chaque erreur localisée dans « source »).",
        parameters=[ID_PARAMETER, IDEMPOTENCY_PARAMETER],
        request=s.AnswersInput,
        responses={200: s.SubmissionOutput, **ERROR_RESPONSES},
        tags=TAGS,
    )
    def post(self, request: Request, pk: int) -> Response:
        _open_assignment(request, pk)  # 404 before anything else, replays included
        body = s.AnswersInput(data=request.data)
        if not body.is_valid():
            return Response(
                {"erreurs": _input_errors(body.errors, assignment_id=pk)},
                status=status.HTTP_400_BAD_REQUEST,
            )
        items = _items([body.validated_data], batch=False, assignment_id=pk)

        def handler() -> tuple[int, dict[str, Any]]:
            code, result = _submit_all(request, items)
            return code, (result["demandes"][0] if code == status.HTTP_200_OK else result)

        return _idempotent(request, handler)


class BatchAnswerApi(APIView):
    permission_classes = [IsRespondent]

    @extend_schema(
        summary="Répondre à plusieurs demandes",
        description="Un lot de réponses, tout ou rien : chaque demande est contrôlée ; si "
        "l'une est refusée, aucune n'est écrite et toutes les erreurs sont renvoyées (422), "
        "localisées (« demandes[3].valeurs.lits »).",
        parameters=[IDEMPOTENCY_PARAMETER],
        request=s.BatchInput,
        responses={200: s.BatchOutput, **ERROR_RESPONSES},
        tags=TAGS,
    )
    def post(self, request: Request) -> Response:
        body = s.BatchInput(data=request.data)
        if not body.is_valid():
            return Response(
                {"erreurs": _input_errors(body.errors)}, status=status.HTTP_400_BAD_REQUEST
            )
        items = _items(body.validated_data["demandes"], batch=True)
        return _idempotent(request, lambda: _submit_all(request, items))


urlpatterns = [
    path(
        "demandes/",
        login_not_required(AssignmentListApi.as_view()),
        name="assignment_list",
    ),
    path(
        "demandes/<int:pk>/",
        login_not_required(AssignmentDetailApi.as_view()),
        name="assignment_detail",
    ),
    path(
        "demandes/<int:pk>/reponses/",
        login_not_required(AssignmentAnswerApi.as_view()),
        name="assignment_answer",
    ),
    path("reponses/", login_not_required(BatchAnswerApi.as_view()), name="batch_answer"),
]
