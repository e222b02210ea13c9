"""Access to the survey builder: requesters (and viewers) of the survey's owner organisation.

The draft survey below belongs to the DGOS: its national requester edits it, the ARS agents
(requesters of another organisation) get 404 as if it did not exist, respondents, the curator
and the outsider get 403 (wrong role). Actions are POSTs: a GET is refused with 405.
"""

from surveys.models import Section, SurveyVersion
from tests.access_matrix.common import REQUESTERS, everyone, only
from tests.surveys.factories import (
    QuestionFactory,
    SectionFactory,
    SurveyFactory,
    SurveyVersionFactory,
)


def _draft(c) -> SurveyVersion:
    dgos = c.national_requester.memberships.get().organisation
    version = SurveyVersion.objects.filter(survey__owner=dgos, status="draft").first()
    return version or SurveyVersionFactory(
        survey=SurveyFactory(owner=dgos), status=SurveyVersion.Status.DRAFT
    )


def _section(c) -> Section:
    version = _draft(c)
    return version.sections.first() or SectionFactory(version=version)


def _question(c):
    section = _section(c)
    return section.questions.first() or QuestionFactory(section=section)


OWNER_ONLY = only(["national_requester"], otherwise=403) | {
    "ars_idf_agent": 404,
    "ars_guadeloupe_agent": 404,
}
POST_ONLY = {**everyone(405), "anonymous": 302}

EXPECTED = {
    "surveys:builder_survey_list": (None, only(REQUESTERS)),
    "surveys:builder_survey_create": (None, only(REQUESTERS)),
    "surveys:builder_survey_detail": (lambda c: {"pk": _draft(c).survey_id}, OWNER_ONLY),
    "surveys:builder_version_new": (lambda c: {"pk": _draft(c).survey_id}, POST_ONLY),
    "surveys:builder_version_edit": (lambda c: {"pk": _draft(c).pk}, OWNER_ONLY),
    "surveys:builder_version_preview": (
        lambda c: {"pk": _question(c).version_id},
        OWNER_ONLY,
    ),
    "surveys:builder_section_add": (lambda c: {"pk": _draft(c).pk}, POST_ONLY),
    "surveys:builder_section_edit": (lambda c: {"pk": _section(c).pk}, OWNER_ONLY),
    "surveys:builder_section_delete": (lambda c: {"pk": _section(c).pk}, POST_ONLY),
    "surveys:builder_section_move": (lambda c: {"pk": _section(c).pk}, POST_ONLY),
    "surveys:builder_question_add": (lambda c: {"pk": _section(c).pk}, OWNER_ONLY),
    "surveys:builder_question_edit": (lambda c: {"pk": _question(c).pk}, OWNER_ONLY),
    "surveys:builder_question_delete": (lambda c: {"pk": _question(c).pk}, POST_ONLY),
    "surveys:builder_question_move": (lambda c: {"pk": _question(c).pk}, POST_ONLY),
    # htmx search of the dictionary: any requester (the dictionary is public anyway).
    "surveys:builder_definition_search": (None, only(REQUESTERS)),
}
