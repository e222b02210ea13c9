"""The surveys and campaigns API: create a survey from JSON, list what is yours, the register,
open and close campaigns."""

import datetime as dt
import json

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.models import Organisation, Role
from surveys.models import Campaign, CampaignEvent, Survey
from tests.accounts.factories import MembershipFactory, UserFactory
from tests.conftest import client_for
from tests.referentials.factories_dictionary import DefinitionFactory
from tests.surveys.factories import (
    CampaignFactory,
    QuestionFactory,
    SectionFactory,
    SurveyFactory,
    SurveyVersionFactory,
)

DOCUMENT = {
    "title": "Capacités de réanimation",
    "purpose": "Suivre les lits de réanimation pendant l'épidémie.",
    "legal_basis": "public_interest",
    "sections": [
        {
            "title": "Lits",
            "questions": [
                {"definition": "lits_rea_installes", "required": True},
                {"code": "commentaire_lits", "label": "Commentaire", "value_type": "text"},
            ],
        }
    ],
}


@pytest.fixture
def dgos(cast):
    return Organisation.objects.get(memberships__user=cast.national_requester)


@pytest.fixture
def beds(db):
    return DefinitionFactory(code="lits_rea_installes", label="Lits de réanimation installés")


def _post(user, data, url=None):
    return client_for(user).post(
        url or reverse("api:survey_list"), json.dumps(data), content_type="application/json"
    )


# --- Creating a survey from JSON --------------------------------------------------------------


def test_a_requester_creates_a_survey_from_json_for_their_organisation(cast, dgos, beds):
    response = _post(cast.national_requester, DOCUMENT)
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["owner"] == dgos.pk
    [version] = body["versions"]
    assert (version["number"], version["status"], version["title"]) == (
        1,
        "draft",
        "Capacités de réanimation",
    )
    [section] = version["sections"]
    assert [(q["code"], q["definition"], q["label"]) for q in section["questions"]] == [
        ("lits_rea_installes", "lits_rea_installes", "Lits de réanimation installés"),
        ("commentaire_lits", None, "Commentaire"),
    ]
    assert section["questions"][0]["required"] is True
    assert Survey.objects.get(pk=body["id"]).owner == dgos


def test_every_error_of_the_document_is_said_with_where_and_nothing_is_written(cast, beds):
    document = {
        **DOCUMENT,
        "title": "",
        "sections": [
            {"title": "Lits", "questions": [{"definition": "inconnue"}, {"definition": "lits"}]}
        ],
    }
    response = _post(cast.national_requester, document)
    assert response.status_code == 400
    errors = response.json()["erreurs"]
    assert "sections[0].questions[0] : définition « inconnue » inconnue." in errors
    assert "sections[0].questions[1] : définition « lits » inconnue." in errors
    assert any("titre" in e.lower() for e in errors)
    assert not Survey.objects.exists()


def test_a_body_that_is_not_an_object_is_refused(cast):
    response = _post(cast.national_requester, ["pas", "un", "objet"])
    assert response.status_code == 400
    assert response.json() == {"erreurs": ["Le document doit être un objet JSON."]}


def test_the_owner_must_be_one_of_the_callers_requester_organisations(cast, dgos, beds):
    ars = Organisation.objects.get(name="ARS Île-de-France")
    response = _post(cast.national_requester, {**DOCUMENT, "owner": ars.pk})
    assert response.status_code == 400
    assert response.json() == {
        "erreurs": [f"owner : vous n'êtes pas demandeur de l'organisation n° {ars.pk}."]
    }
    response = _post(cast.national_requester, {**DOCUMENT, "owner": "DGOS"})
    assert response.status_code == 400
    assert response.json()["erreurs"] == [
        "owner : « owner » doit être l'identifiant (entier) d'une organisation."
    ]
    assert _post(cast.national_requester, {**DOCUMENT, "owner": dgos.pk}).status_code == 201


def test_a_requester_of_two_organisations_says_which(cast, dgos, beds):
    ars = Organisation.objects.get(name="ARS Île-de-France")
    MembershipFactory(user=cast.national_requester, organisation=ars, role=Role.REQUESTER)
    response = _post(cast.national_requester, DOCUMENT)
    assert response.status_code == 400
    assert "owner : précisez l'organisation propriétaire parmi" in response.json()["erreurs"][0]
    created = _post(cast.national_requester, {**DOCUMENT, "owner": ars.pk})
    assert created.status_code == 201
    assert created.json()["owner"] == ars.pk


def test_a_viewer_reads_but_does_not_create(cast, dgos, beds):
    viewer = UserFactory(email="lecteur@sante.gouv.fr")
    MembershipFactory(user=viewer, organisation=dgos, role=Role.VIEWER)
    response = _post(viewer, DOCUMENT)
    assert response.status_code == 403
    assert response.json() == {"detail": "Seuls les demandeurs créent des questionnaires."}
    assert client_for(viewer).get(reverse("api:survey_list")).status_code == 200


@pytest.mark.parametrize("role", ["anonymous", "hospital_respondent", "professional", "curator"])
def test_others_may_not_create(cast, beds, role):
    response = _post(cast.user(role), DOCUMENT)
    assert response.status_code == 403
    assert "detail" in response.json()
    assert not Survey.objects.exists()


# --- Reading surveys ----------------------------------------------------------------------------


def _survey(owner, title, definition):
    version = SurveyVersionFactory(survey=SurveyFactory(owner=owner), title=title)
    QuestionFactory(section=SectionFactory(version=version), definition=definition)
    return version.survey


def test_surveys_are_listed_for_their_organisation_only(cast, dgos, beds):
    ars = Organisation.objects.get(name="ARS Île-de-France")
    mine = _survey(dgos, "Lits DGOS", beds)
    theirs = _survey(ars, "Lits IDF", beds)
    body = client_for(cast.national_requester).get(reverse("api:survey_list")).json()
    assert [s["id"] for s in body["results"]] == [mine.pk]
    assert body["results"][0]["versions"][0]["sections"][0]["questions"][0]["code"] == (
        "lits_rea_installes"
    )
    detail = client_for(cast.ars_idf_agent).get(reverse("api:survey_detail", args=[theirs.pk]))
    assert detail.status_code == 200
    assert detail.json()["versions"][0]["title"] == "Lits IDF"
    outside = client_for(cast.ars_idf_agent).get(reverse("api:survey_detail", args=[mine.pk]))
    assert outside.status_code == 404


def test_the_survey_list_reads_in_a_bounded_number_of_queries(
    cast, dgos, beds, django_assert_max_num_queries
):
    client = client_for(cast.national_requester)
    for n in range(20):
        _survey(dgos, f"Enquête {n}", beds)
    with django_assert_max_num_queries(10):
        response = client.get(reverse("api:survey_list"))
    assert response.json()["count"] == 20


# --- The campaigns of the register ---------------------------------------------------------------


@pytest.fixture
def dgos_open(cast, dgos, beds):
    version = SurveyVersionFactory(survey=SurveyFactory(owner=dgos), title="Lits")
    QuestionFactory(section=SectionFactory(version=version), definition=beds)
    QuestionFactory(section=SectionFactory(version=version))
    return CampaignFactory(
        version=version,
        title="Lits de réanimation",
        frequency="once",
        period_kind="day",
        audience_size=12,
        audience_filters={"finess": [cast.paris_hospital.finess]},
    )


def test_every_requester_sees_the_register_with_its_burden(cast, dgos_open):
    body = client_for(cast.ars_guadeloupe_agent).get(reverse("api:campaign_list")).json()
    [row] = body["results"]
    assert row["id"] == dgos_open.pk
    assert row["owner_name"] == "DGOS"
    assert row["is_own"] is False
    assert row["definitions"] == [
        {"code": "lits_rea_installes", "label": "Lits de réanimation installés"}
    ]
    assert (row["question_count"], row["ad_hoc_count"]) == (2, 1)
    # Once, not opened yet: one planned period of 12 establishments x 2 questions.
    assert (row["cells_per_period"], row["planned_periods"], row["cells_total"]) == (24, 1, 24)


def test_campaigns_filter_by_status_and_owner_and_drafts_stay_home(cast, dgos, dgos_open):
    ars = Organisation.objects.get(name="ARS Île-de-France")
    CampaignFactory(
        version=SurveyVersionFactory(survey=SurveyFactory(owner=ars)),
        title="Brouillon IDF",
        status=Campaign.Status.DRAFT,
    )
    idf = client_for(cast.ars_idf_agent)
    assert [
        r["title"]
        for r in idf.get(reverse("api:campaign_list"), {"status": "draft"}).json()["results"]
    ] == ["Brouillon IDF"]
    assert [
        r["title"]
        for r in idf.get(reverse("api:campaign_list"), {"owner": dgos.pk}).json()["results"]
    ] == ["Lits de réanimation"]
    national = client_for(cast.national_requester).get(reverse("api:campaign_list")).json()
    assert [r["title"] for r in national["results"]] == ["Lits de réanimation"]
    bad = idf.get(reverse("api:campaign_list"), {"status": "ouverte"})
    assert bad.status_code == 400
    assert bad.json() == {
        "status": ["Paramètre « status » invalide : draft, scheduled, open ou closed."]
    }


def test_a_campaign_of_the_register_in_detail(cast, dgos_open):
    response = client_for(cast.ars_idf_agent).get(
        reverse("api:campaign_detail", args=[dgos_open.pk])
    )
    assert response.status_code == 200
    assert response.json()["periods"] == []
    assert response.json()["cells_total"] == 24


# --- Opening and closing -------------------------------------------------------------------------


def test_only_a_requester_of_the_owner_closes_a_campaign(cast, dgos, dgos_open):
    url = reverse("api:campaign_close", args=[dgos_open.pk])
    refused = client_for(cast.ars_idf_agent).post(url)
    assert refused.status_code == 403
    assert "Seuls les demandeurs de l'organisation propriétaire" in refused.json()["detail"]
    viewer = UserFactory(email="lecteur@sante.gouv.fr")
    MembershipFactory(user=viewer, organisation=dgos, role=Role.VIEWER)
    assert client_for(viewer).post(url).status_code == 403
    assert client_for(cast.hospital_respondent).post(url).status_code == 403
    assert client_for(None).post(url).status_code == 403
    dgos_open.refresh_from_db()
    assert dgos_open.status == Campaign.Status.OPEN

    closed = client_for(cast.national_requester).post(url)
    assert closed.status_code == 200
    assert closed.json()["status"] == "closed"
    dgos_open.refresh_from_db()
    assert dgos_open.status == Campaign.Status.CLOSED
    assert CampaignEvent.objects.filter(campaign=dgos_open, to_status="closed").exists()

    again = client_for(cast.national_requester).post(url)
    assert again.status_code == 409
    assert again.json() == {"erreurs": ["Seule une campagne ouverte ou programmée se clôture."]}


def test_a_requester_of_the_owner_opens_a_draft(cast, dgos, beds):
    version = SurveyVersionFactory(survey=SurveyFactory(owner=dgos), title="Lits", status="draft")
    QuestionFactory(section=SectionFactory(version=version), definition=beds)
    draft = CampaignFactory(
        version=version,
        title="Lits à ouvrir",
        status=Campaign.Status.DRAFT,
        opened_at=None,
        frequency="once",
        period_kind="day",
        start_date=timezone.localdate(),
        due_time=dt.time(23, 59),
        audience_filters={"finess": [cast.paris_hospital.finess, cast.ain_hospital.finess]},
        overlap_choice="none",  # recorded after the overlap analysis (chevauchements/)
    )
    url = reverse("api:campaign_open", args=[draft.pk])
    # A draft is its owner's business: outside the owner organisation it is not found.
    assert client_for(cast.ars_idf_agent).post(url).status_code == 404
    response = client_for(cast.national_requester).post(url)
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["status"] == "open"
    assert body["audience_size"] == 2
    assert [p["key"] for p in body["periods"]] == [timezone.localdate().isoformat()]
    assert body["cells_total"] == 2
    again = client_for(cast.national_requester).post(url)
    assert again.status_code == 409
    assert again.json() == {"erreurs": ["La campagne est déjà ouverte ou clôturée."]}


def test_an_unknown_campaign_is_not_found(cast):
    response = client_for(cast.national_requester).post(reverse("api:campaign_open", args=[999]))
    assert response.status_code == 404


def test_the_endpoints_are_in_the_openapi_schema(cast):
    response = client_for(cast.national_requester).get(
        reverse("api:schema"), HTTP_ACCEPT="application/json"
    )
    assert response.status_code == 200
    text = response.content.decode()
    for path in [
        "/api/v1/questionnaires/",
        "/api/v1/questionnaires/{id}/",
        "/api/v1/campagnes/",
        "/api/v1/campagnes/{id}/",
        "/api/v1/campagnes/{id}/ouvrir/",
        "/api/v1/campagnes/{id}/cloturer/",
    ]:
        assert path in text
    assert "Créer un questionnaire depuis un document JSON" in text
