"""Pages of the survey builder (requesters write, viewers read), under /enquetes/questionnaires/.

Only members (requesters or viewers) of a survey's owner organisation see it (404 otherwise);
requesters of that organisation edit its draft version. A frozen version is shown read-only with
« Créer une nouvelle version ». Views guard, parse a form, call one ``surveys.builder`` service
and redirect; the service's French errors are shown on the page.
"""

from typing import Any, cast

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.decorators import role_required
from accounts.models import Membership, Role, User
from referentials.models import VALUE_TYPE_LABELS, Definition
from referentials.validation import ValueType
from surveys import builder, selectors_builder
from surveys.forms_builder import QuestionForm, SectionForm, SurveyForm, VersionForm
from surveys.models import Question, Section, Survey, SurveyVersion
from surveys.rendering import preview_context
from surveys.schema import version_schema

NOT_FOUND = "Questionnaire introuvable ou hors de votre organisation."
FROZEN = (
    "Cette version est figée (envoyée) : elle ne se modifie plus. Créez une nouvelle version "
    "pour modifier le questionnaire."
)


def _user(request: HttpRequest) -> User:
    # Every view here is behind role_required: the user is logged in.
    return cast(User, request.user)


def _access(request: HttpRequest, survey: Survey) -> bool:
    """Whether the user may edit ``survey``; 404 unless they are a member of its owner."""
    roles = set(
        Membership.objects.filter(
            user_id=_user(request).pk,
            organisation_id=survey.owner_id,
            organisation__is_active=True,
            role__in=[Role.REQUESTER, Role.VIEWER],
        ).values_list("role", flat=True)
    )
    if not roles:
        raise Http404(NOT_FOUND)
    return Role.REQUESTER in roles


def _version(request: HttpRequest, pk: int) -> tuple[SurveyVersion, bool]:
    """The version and whether the user may edit it now (a requester, and a draft)."""
    version = SurveyVersion.objects.select_related("survey", "survey__owner").filter(pk=pk).first()
    if version is None:
        raise Http404(NOT_FOUND)
    writer = _access(request, version.survey)
    return version, writer and not version.is_frozen


def _editable_version(request: HttpRequest, version: SurveyVersion, editable: bool) -> None:
    if not editable:
        if version.is_frozen:
            raise PermissionDenied(FROZEN)
        raise PermissionDenied("Seuls les demandeurs de l'organisation modifient ce questionnaire.")


def _section(request: HttpRequest, pk: int) -> tuple[Section, bool]:
    section = Section.objects.select_related("version__survey__owner").filter(pk=pk).first()
    if section is None:
        raise Http404(NOT_FOUND)
    writer = _access(request, section.version.survey)
    return section, writer and not section.version.is_frozen


def _question(request: HttpRequest, pk: int) -> tuple[Question, bool]:
    question = (
        Question.objects.select_related("version__survey__owner", "section", "definition")
        .filter(pk=pk)
        .first()
    )
    if question is None:
        raise Http404(NOT_FOUND)
    writer = _access(request, question.version.survey)
    return question, writer and not question.version.is_frozen


def _editor_url(version: SurveyVersion) -> str:
    return reverse("surveys:builder_version_edit", kwargs={"pk": version.pk})


# --- Surveys ------------------------------------------------------------------------------------


@require_GET
@role_required(Role.REQUESTER, Role.VIEWER)
def survey_list(request: HttpRequest) -> HttpResponse:
    surveys = selectors_builder.surveys_visible_to(request.user).prefetch_related("versions")
    rows = []
    for survey in surveys:
        versions = sorted(survey.versions.all(), key=lambda v: -v.number)
        rows.append({"survey": survey, "latest": versions[0] if versions else None})
    return render(
        request,
        "surveys/builder/survey_list.html",
        {
            "title": "Questionnaires",
            "rows": rows,
            "can_create": selectors_builder.requester_organisations(request.user).exists(),
        },
    )


@require_http_methods(["GET", "POST"])
@role_required(Role.REQUESTER)
def survey_create(request: HttpRequest) -> HttpResponse:
    organisations = selectors_builder.requester_organisations(request.user)
    form = SurveyForm(request.POST or None, organisations=organisations)
    errors: list[str] = []
    if request.method == "POST" and form.is_valid():
        try:
            survey = builder.survey_create(
                owner=form.cleaned_data["owner"],
                title=form.cleaned_data["title"],
                purpose=form.cleaned_data["purpose"],
                legal_basis=form.cleaned_data["legal_basis"],
                legal_reference=form.cleaned_data["legal_reference"],
                user=_user(request),
            )
        except builder.BuilderError as error:
            errors = error.messages
        else:
            messages.success(request, "Questionnaire créé : ajoutez ses questions.")
            return redirect(_editor_url(survey.versions.get()))
    return render(
        request,
        "surveys/builder/survey_create.html",
        {"title": "Nouveau questionnaire", "form": form, "errors": errors},
    )


@require_GET
@role_required(Role.REQUESTER, Role.VIEWER)
def survey_detail(request: HttpRequest, pk: int) -> HttpResponse:
    survey = Survey.objects.select_related("owner").filter(pk=pk).first()
    if survey is None:
        raise Http404(NOT_FOUND)
    writer = _access(request, survey)
    versions = list(survey.versions.order_by("-number").select_related("created_by", "frozen_by"))
    latest = versions[0] if versions else None
    return render(
        request,
        "surveys/builder/survey_detail.html",
        {
            "title": str(survey),
            "survey": survey,
            "versions": versions,
            "latest": latest,
            "writer": writer,
            "needs_new_version": writer and latest is not None and latest.is_frozen,
        },
    )


@require_POST
@role_required(Role.REQUESTER)
def version_new(request: HttpRequest, pk: int) -> HttpResponse:
    survey = Survey.objects.select_related("owner").filter(pk=pk).first()
    if survey is None:
        raise Http404(NOT_FOUND)
    if not _access(request, survey):
        raise PermissionDenied("Seuls les demandeurs de l'organisation modifient ce questionnaire.")
    try:
        version = builder.new_version(survey=survey, user=_user(request))
    except builder.BuilderError as error:
        for message in error.messages:
            messages.error(request, message)
        return redirect("surveys:builder_survey_detail", pk=survey.pk)
    messages.success(request, f"Version {version.number} créée : vous pouvez la modifier.")
    return redirect(_editor_url(version))


# --- The editor ---------------------------------------------------------------------------------


def _editor_context(version: SurveyVersion, editable: bool, **extra: Any) -> dict[str, Any]:
    questions = list(selectors_builder.version_questions(version))
    for question in questions:
        value_type = question.definition.value_type if question.definition else question.value_type
        question.type_label = VALUE_TYPE_LABELS.get(ValueType(value_type), value_type)  # type: ignore[attr-defined]
    sections = []
    for section in version.sections.order_by("order", "pk"):
        sections.append(
            {"section": section, "questions": [q for q in questions if q.section_id == section.pk]}
        )
    context: dict[str, Any] = {
        "title": f"{version.title} (version {version.number})",
        "version": version,
        "survey": version.survey,
        "editable": editable,
        "sections": sections,
        "question_count": len(questions),
        "metadata_form": VersionForm.for_version(version),
        "section_form": SectionForm(),
        "errors": [],
        "can_create_version": False,
    }
    context.update(extra)
    return context


@require_http_methods(["GET", "POST"])
@role_required(Role.REQUESTER, Role.VIEWER)
def version_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """The editor of a version; POST saves its title, purpose and legal basis."""
    version, editable = _version(request, pk)
    writer = _access(request, version.survey)
    extra: dict[str, Any] = {
        "can_create_version": writer
        and version.is_frozen
        and selectors_builder.draft_version(version.survey) is None
    }
    if request.method == "POST":
        _editable_version(request, version, editable)
        form = VersionForm(request.POST)
        extra["metadata_form"] = form
        if form.is_valid():
            try:
                builder.version_update(version=version, user=_user(request), **form.cleaned_data)
            except builder.BuilderError as error:
                extra["errors"] = error.messages
            else:
                messages.success(request, "Présentation du questionnaire enregistrée.")
                return redirect(_editor_url(version))
    return render(
        request, "surveys/builder/version_edit.html", _editor_context(version, editable, **extra)
    )


@require_http_methods(["GET", "POST"])
@role_required(Role.REQUESTER, Role.VIEWER)
def version_preview(request: HttpRequest, pk: int) -> HttpResponse:
    """The form exactly as respondents will see it; a POST (htmx) re-checks it as one types."""
    version, editable = _version(request, pk)
    schema = version_schema(version)
    live_url = reverse("surveys:builder_version_preview", kwargs={"pk": version.pk})
    if request.method == "POST":
        return render(
            request,
            "surveys/_questions.html",
            {"questions": preview_context(schema, request.POST), "live_url": live_url},
        )
    return render(
        request,
        "surveys/builder/version_preview.html",
        {
            "title": f"Aperçu — {version.title}",
            "version": version,
            "editable": editable,
            "questions": preview_context(schema),
            "live_url": live_url,
        },
    )


# --- Sections -----------------------------------------------------------------------------------


def _report(request: HttpRequest, error: builder.BuilderError) -> None:
    for message in error.messages:
        messages.error(request, message)


@require_POST
@role_required(Role.REQUESTER)
def section_add(request: HttpRequest, pk: int) -> HttpResponse:
    version, editable = _version(request, pk)
    _editable_version(request, version, editable)
    form = SectionForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Le titre de la section est obligatoire.")
        return redirect(_editor_url(version))
    try:
        section = builder.section_add(version=version, user=_user(request), **form.cleaned_data)
    except builder.BuilderError as error:
        _report(request, error)
        return redirect(_editor_url(version))
    messages.success(request, f"Section « {section.title} » ajoutée.")
    return redirect(f"{_editor_url(version)}#section-{section.pk}")


@require_http_methods(["GET", "POST"])
@role_required(Role.REQUESTER)
def section_edit(request: HttpRequest, pk: int) -> HttpResponse:
    section, editable = _section(request, pk)
    _editable_version(request, section.version, editable)
    form = SectionForm(
        request.POST or None,
        initial={"title": section.title, "description": section.description},
    )
    errors: list[str] = []
    if request.method == "POST" and form.is_valid():
        try:
            builder.section_update(section=section, user=_user(request), **form.cleaned_data)
        except builder.BuilderError as error:
            errors = error.messages
        else:
            messages.success(request, "Section enregistrée.")
            return redirect(f"{_editor_url(section.version)}#section-{section.pk}")
    return render(
        request,
        "surveys/builder/section_edit.html",
        {
            "title": f"Section « {section.title} »",
            "section": section,
            "version": section.version,
            "form": form,
            "errors": errors,
        },
    )


@require_POST
@role_required(Role.REQUESTER)
def section_delete(request: HttpRequest, pk: int) -> HttpResponse:
    section, editable = _section(request, pk)
    version = section.version
    _editable_version(request, version, editable)
    try:
        builder.section_delete(section=section, user=_user(request))
    except builder.BuilderError as error:
        _report(request, error)
    else:
        messages.success(request, f"Section « {section.title} » supprimée avec ses questions.")
    return redirect(_editor_url(version))


@require_POST
@role_required(Role.REQUESTER)
def section_move(request: HttpRequest, pk: int) -> HttpResponse:
    section, editable = _section(request, pk)
    _editable_version(request, section.version, editable)
    try:
        builder.section_move(
            section=section, direction=request.POST.get("direction", ""), user=_user(request)
        )
    except builder.BuilderError as error:
        _report(request, error)
    return redirect(f"{_editor_url(section.version)}#section-{section.pk}")


# --- Questions ----------------------------------------------------------------------------------


def _picked_definition(request: HttpRequest, form: QuestionForm) -> Definition | None:
    """The definition shown as chosen: posted, or picked in the search (``?definition=``)."""
    code = ""
    if form.is_bound:
        code = str(form.data.get("definition") or "")
    else:
        code = str(form.initial.get("definition") or "")
    if not code:
        return None
    return Definition.objects.select_related("replaced_by").filter(code=code).first()


def _question_page(
    request: HttpRequest,
    *,
    form: QuestionForm,
    section: Section,
    question: Question | None,
    errors: list[str],
) -> HttpResponse:
    definition = _picked_definition(request, form)
    refusal = builder.definition_refusal(definition) if definition is not None else None
    return render(
        request,
        "surveys/builder/question_form.html",
        {
            "title": "Modifier la question" if question else "Ajouter une question",
            "form": form,
            "section": section,
            "version": section.version,
            "question": question,
            "definition": definition,
            "refusal": refusal,
            "errors": errors,
            "search_url": reverse("surveys:builder_definition_search"),
        },
    )


def _field_label(form: QuestionForm, name: str) -> str:
    field = form.fields.get(name)
    return str(field.label) if field is not None and field.label else "Question"


def _save_question(
    request: HttpRequest, form: QuestionForm, *, section: Section, question: Question | None
) -> Question | list[str]:
    if not form.is_valid():
        return [
            f"{_field_label(form, name)} : {' '.join(str(m) for m in e)}"
            for name, e in form.errors.items()
        ]
    try:
        if question is None:
            return builder.question_add(
                version=section.version,
                section=section,
                user=_user(request),
                **form.service_kwargs(),
            )
        return builder.question_update(
            question=question, user=_user(request), **form.service_kwargs()
        )
    except builder.BuilderError as error:
        return error.messages


@require_http_methods(["GET", "POST"])
@role_required(Role.REQUESTER)
def question_add(request: HttpRequest, pk: int) -> HttpResponse:
    section, editable = _section(request, pk)
    _editable_version(request, section.version, editable)
    if request.method == "POST":
        form = QuestionForm(request.POST)
        saved = _save_question(request, form, section=section, question=None)
        if isinstance(saved, Question):
            messages.success(request, f"Question « {saved.code} » ajoutée.")
            return redirect(f"{_editor_url(section.version)}#question-{saved.pk}")
        return _question_page(request, form=form, section=section, question=None, errors=saved)
    form = QuestionForm(initial={"definition": request.GET.get("definition", "")})
    return _question_page(request, form=form, section=section, question=None, errors=[])


@require_http_methods(["GET", "POST"])
@role_required(Role.REQUESTER)
def question_edit(request: HttpRequest, pk: int) -> HttpResponse:
    question, editable = _question(request, pk)
    _editable_version(request, question.version, editable)
    if request.method == "POST":
        form = QuestionForm(request.POST)
        saved = _save_question(request, form, section=question.section, question=question)
        if isinstance(saved, Question):
            messages.success(request, f"Question « {saved.code} » enregistrée.")
            return redirect(f"{_editor_url(question.version)}#question-{saved.pk}")
        return _question_page(
            request, form=form, section=question.section, question=question, errors=saved
        )
    form = QuestionForm.for_question(question)
    if "definition" in request.GET:
        form.initial["definition"] = request.GET["definition"]
    return _question_page(
        request, form=form, section=question.section, question=question, errors=[]
    )


@require_POST
@role_required(Role.REQUESTER)
def question_delete(request: HttpRequest, pk: int) -> HttpResponse:
    question, editable = _question(request, pk)
    version = question.version
    _editable_version(request, version, editable)
    code = question.code
    try:
        builder.question_delete(question=question, user=_user(request))
    except builder.BuilderError as error:
        _report(request, error)
    else:
        messages.success(request, f"Question « {code} » supprimée.")
    return redirect(_editor_url(version))


@require_POST
@role_required(Role.REQUESTER)
def question_move(request: HttpRequest, pk: int) -> HttpResponse:
    question, editable = _question(request, pk)
    _editable_version(request, question.version, editable)
    try:
        builder.question_move(
            question=question, direction=request.POST.get("direction", ""), user=_user(request)
        )
    except builder.BuilderError as error:
        _report(request, error)
    return redirect(f"{_editor_url(question.version)}#question-{question.pk}")


# --- The dictionary, as one types ---------------------------------------------------------------


@require_GET
@role_required(Role.REQUESTER)
def definition_search(request: HttpRequest) -> HttpResponse:
    """htmx: definitions matching ``q`` (to bind), or close to an ad-hoc ``label`` (to steer)."""
    label = request.GET.get("label", "")
    similar = "label" in request.GET and "q" not in request.GET
    query = label if similar else request.GET.get("q", "")
    if similar:
        found = selectors_builder.definitions_close_to(query)
    else:
        found = selectors_builder.published_definitions_matching(query)
    rows = [{"definition": d, "refusal": builder.definition_refusal(d)} for d in found]
    return render(
        request,
        "surveys/builder/_definition_results.html",
        {"rows": rows, "query": query, "similar": similar},
    )
