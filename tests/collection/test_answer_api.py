"""The answering API: list, form schema, one answer, a batch; errors located; idempotent."""

import json

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from accounts import api_keys
from accounts.models import Organisation
from collection.models import Channel, IdempotencyRecord, Value, ValueRevision
from collection.values import submit
from surveys.models import Assignment, Campaign
from tests.collection.answering import assignment, campaign, dictionary, key_for, unit_of

pytestmark = pytest.mark.django_db


@pytest.fixture
def survey(cast):
    open_beds, occupied = dictionary()
    return campaign(
        owner=Organisation.objects.get(short_name="DGOS"), definitions=[open_beds, occupied]
    )


@pytest.fixture
def hospital(cast, survey):
    return assignment(survey, unit_of(cast.paris_hospital))


@pytest.fixture
def cayenne(cast, survey):
    return [
        assignment(survey, unit_of(cast.cayenne_hospital)),
        assignment(survey, unit_of(cast.cayenne_ehpad)),
    ]


@pytest.fixture
def hospital_key(cast):
    return key_for(cast.hospital_respondent)


def api(raw=None):
    client = APIClient()
    if raw:
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    return client


def post(client, url, body, **headers):
    return client.post(url, json.dumps(body), content_type="application/json", **headers)


def answer_url(a):
    return reverse("api:assignment_answer", args=[a.pk])


# --- Reading ----------------------------------------------------------------------------------


def test_a_key_lists_its_organisation_assignments_only(cast, hospital, cayenne, hospital_key):
    _key, raw = hospital_key
    response = api(raw).get(reverse("api:assignment_list"))
    assert response.status_code == 200
    results = response.json()["results"]
    assert [r["id"] for r in results] == [hospital.pk]
    assert results[0]["campagne"]["demandeur"] == "DGOS"
    assert results[0]["unite"]["finess"] == cast.paris_hospital.finess
    _key, raw = key_for(cast.legal_entity_respondent)
    ids = {r["id"] for r in api(raw).get(reverse("api:assignment_list")).json()["results"]}
    assert ids == {a.pk for a in cayenne}


def test_the_list_filters_by_finess_status_campaign_and_period(cast, cayenne):
    _key, raw = key_for(cast.legal_entity_respondent)
    client = api(raw)
    url = reverse("api:assignment_list")
    by_site = client.get(url, {"finess": cast.cayenne_ehpad.finess}).json()["results"]
    assert [r["id"] for r in by_site] == [cayenne[1].pk]
    Assignment.objects.filter(pk=cayenne[0].pk).update(status=Assignment.Status.SUBMITTED)
    submitted = client.get(url, {"statut": "submitted"}).json()["results"]
    assert [r["id"] for r in submitted] == [cayenne[0].pk]
    assert client.get(url, {"campagne": cayenne[0].campaign_id}).json()["count"] == 2
    assert client.get(url, {"periode": cayenne[0].period.key}).json()["count"] == 2
    assert client.get(url, {"periode": "2001-01-01"}).json()["count"] == 0
    bad = client.get(url, {"periode": "hier"})
    assert bad.status_code == 400 and "periode" in bad.json()


def test_closed_campaigns_are_not_listed(cast, hospital, hospital_key):
    Campaign.objects.filter(pk=hospital.campaign_id).update(status=Campaign.Status.CLOSED)
    _key, raw = hospital_key
    assert api(raw).get(reverse("api:assignment_list")).json()["count"] == 0
    detail = api(raw).get(reverse("api:assignment_detail", args=[hospital.pk]))
    assert detail.status_code == 404


def test_the_form_schema_gives_questions_rules_known_and_previous_values(
    cast, survey, hospital, hospital_key
):
    previous_day = hospital.period.start.fromordinal(hospital.period.start.toordinal() - 1)
    earlier = assignment(survey, hospital.unit, day=previous_day)
    submit(earlier, {"lits_rea_ouverts": "20", "lits_rea_occupes": "8"}, channel=Channel.FORM)
    submit(
        hospital,
        {"lits_rea_ouverts": "21", "lits_rea_occupes": "9"},
        channel=Channel.FORM,
        user=cast.hospital_respondent,
    )
    _key, raw = hospital_key
    data = api(raw).get(reverse("api:assignment_detail", args=[hospital.pk])).json()
    codes = [q["code"] for q in data["questions"]]
    assert codes == ["lits_rea_ouverts", "lits_rea_occupes"]
    first = data["questions"][0]
    assert (first["type"], first["unite"], first["minimum"], first["maximum"]) == (
        "integer",
        "lits",
        "0",
        "500",
    )
    assert first["obligatoire"] is True and first["aide"]
    assert data["regles"] == [
        {
            "code": "rea_occupes_ouverts",
            "expression": "lits_rea_occupes <= lits_rea_ouverts",
            "message": "Les lits occupés ne peuvent dépasser les lits ouverts.",
            "gravite": "error",
        }
    ]
    known = data["valeurs_connues"]["lits_rea_ouverts"]
    assert known["valeur"] == "21" and known["provenance"].startswith("Déclaré le")
    assert data["periode_precedente"] == {"lits_rea_ouverts": "20", "lits_rea_occupes": "8"}


def test_an_assignment_outside_the_scope_is_not_found(cast, hospital, cayenne):
    _key, raw = key_for(cast.ehpad_respondent)
    client = api(raw)
    assert client.get(reverse("api:assignment_detail", args=[hospital.pk])).status_code == 404
    response = post(client, answer_url(hospital), {"valeurs": {"lits_rea_ouverts": 3}})
    assert response.status_code == 404
    # Its own site's, yes; its sister site's (same legal entity), no.
    assert client.get(reverse("api:assignment_detail", args=[cayenne[1].pk])).status_code == 200
    assert client.get(reverse("api:assignment_detail", args=[cayenne[0].pk])).status_code == 404
    assert not Value.objects.exists()


# --- Answering one ----------------------------------------------------------------------------


def test_submitting_one_writes_values_with_the_key_as_provenance(cast, hospital, hospital_key):
    key, raw = hospital_key
    response = post(
        api(raw),
        answer_url(hospital),
        {"valeurs": {"lits_rea_ouverts": 20, "lits_rea_occupes": "12"}},
    )
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["statut"] == "submitted" and sorted(body["creees"]) == [
        "lits_rea_occupes",
        "lits_rea_ouverts",
    ]
    value = Value.objects.get(code="lits_rea_occupes")
    assert (value.data, value.channel, value.api_key, value.changed_by) == ("12", "api", key, None)
    hospital.refresh_from_db()
    assert hospital.status == Assignment.Status.SUBMITTED


def test_a_session_respondent_may_answer_too(cast, hospital):
    client = APIClient()
    client.force_authenticate(cast.hospital_respondent)
    response = post(
        client, answer_url(hospital), {"valeurs": {"lits_rea_ouverts": 20, "lits_rea_occupes": 2}}
    )
    assert response.status_code == 200
    assert Value.objects.get(code="lits_rea_ouverts").changed_by == cast.hospital_respondent


def test_errors_are_structured_located_in_french_and_write_nothing(hospital, hospital_key):
    _key, raw = hospital_key
    response = post(
        api(raw),
        answer_url(hospital),
        {"valeurs": {"lits_rea_ouverts": "douze", "lits_rea_occupes": 600, "inconnu": 1}},
    )
    assert response.status_code == 422
    errors = {(e["code"], e["source"]): e for e in response.json()["erreurs"]}
    assert set(errors) == {
        ("inconnu", "valeurs.inconnu"),
        ("lits_rea_ouverts", "valeurs.lits_rea_ouverts"),
        ("lits_rea_occupes", "valeurs.lits_rea_occupes"),
    }
    assert (
        "n'est pas un nombre" in errors[("lits_rea_ouverts", "valeurs.lits_rea_ouverts")]["message"]
    )
    assert (
        "dépasse le maximum" in errors[("lits_rea_occupes", "valeurs.lits_rea_occupes")]["message"]
    )
    assert all(e["demande"] == hospital.pk and e["gravite"] == "error" for e in errors.values())
    assert not Value.objects.exists()


def test_the_rule_and_a_missing_required_answer_block_as_in_the_form(hospital, hospital_key):
    _key, raw = hospital_key
    response = post(
        api(raw), answer_url(hospital), {"valeurs": {"lits_rea_ouverts": 5, "lits_rea_occupes": 9}}
    )
    assert response.status_code == 422
    (error,) = response.json()["erreurs"]
    assert error["code"] == "rea_occupes_ouverts"
    assert error["source"] == "valeurs.lits_rea_occupes"
    missing = post(api(raw), answer_url(hospital), {"valeurs": {"lits_rea_ouverts": 5}})
    assert missing.status_code == 422
    assert missing.json()["erreurs"][0]["message"].endswith("réponse obligatoire.")


def test_a_malformed_body_is_a_400_with_located_errors(hospital, hospital_key):
    _key, raw = hospital_key
    response = post(api(raw), answer_url(hospital), {"valeurs": [1, 2]})
    assert response.status_code == 400
    (error,) = response.json()["erreurs"]
    assert error["source"] == "valeurs" and "objet" in error["message"]


def test_an_exempted_assignment_refuses_answers(hospital, hospital_key):
    Assignment.objects.filter(pk=hospital.pk).update(status=Assignment.Status.EXEMPTED)
    _key, raw = hospital_key
    response = post(api(raw), answer_url(hospital), {"valeurs": {"lits_rea_ouverts": 1}})
    assert response.status_code == 422
    assert "dispense" in response.json()["erreurs"][0]["message"]


def test_a_stale_revision_is_a_conflict(hospital, hospital_key):
    _key, raw = hospital_key
    body = {"valeurs": {"lits_rea_ouverts": 5, "lits_rea_occupes": 1}, "revision": 0}
    assert post(api(raw), answer_url(hospital), body).status_code == 200
    response = post(api(raw), answer_url(hospital), {**body, "valeurs": {"lits_rea_ouverts": 7}})
    assert response.status_code == 409
    assert response.json()["conflit"]["revision_actuelle"] == 1


# --- Batches ----------------------------------------------------------------------------------


def test_a_batch_writes_every_assignment_in_one_call(cast, cayenne):
    _key, raw = key_for(cast.legal_entity_respondent)
    body = {
        "demandes": [
            {"demande": a.pk, "valeurs": {"lits_rea_ouverts": 10 + i, "lits_rea_occupes": i}}
            for i, a in enumerate(cayenne)
        ]
    }
    response = post(api(raw), reverse("api:batch_answer"), body)
    assert response.status_code == 200, response.json()
    assert [r["demande"] for r in response.json()["demandes"]] == [a.pk for a in cayenne]
    assert Value.objects.count() == 4


def test_a_batch_is_all_or_nothing_and_tells_every_error(cast, cayenne, hospital):
    _key, raw = key_for(cast.legal_entity_respondent)
    body = {
        "demandes": [
            {"demande": cayenne[0].pk, "valeurs": {"lits_rea_ouverts": 10, "lits_rea_occupes": 1}},
            {"demande": cayenne[1].pk, "valeurs": {"lits_rea_ouverts": -1, "lits_rea_occupes": 1}},
            {"demande": hospital.pk, "valeurs": {"lits_rea_ouverts": 1, "lits_rea_occupes": 1}},
        ]
    }
    response = post(api(raw), reverse("api:batch_answer"), body)
    assert response.status_code == 422
    errors = [(e["demande"], e["source"]) for e in response.json()["erreurs"]]
    assert (cayenne[1].pk, "demandes[1].valeurs.lits_rea_ouverts") in errors
    assert (hospital.pk, "demandes[2].demande") in errors  # outside the scope: not found
    assert not Value.objects.exists() and not ValueRevision.objects.exists()
    cayenne[0].refresh_from_db()
    assert cayenne[0].status == Assignment.Status.TODO


# --- Idempotency ------------------------------------------------------------------------------


def test_a_retry_with_the_same_idempotency_key_replays_without_writing(hospital, hospital_key):
    _key, raw = hospital_key
    body = {"valeurs": {"lits_rea_ouverts": 20, "lits_rea_occupes": 12}}
    first = post(api(raw), answer_url(hospital), body, HTTP_IDEMPOTENCY_KEY="envoi-42")
    second = post(api(raw), answer_url(hospital), body, HTTP_IDEMPOTENCY_KEY="envoi-42")
    assert first.status_code == second.status_code == 200
    assert second.json() == first.json() and second["Idempotent-Replayed"] == "true"
    assert ValueRevision.objects.count() == 2  # written once
    hospital.refresh_from_db()
    assert hospital.revision == 1
    other = post(
        api(raw),
        answer_url(hospital),
        {"valeurs": {"lits_rea_ouverts": 21}},
        HTTP_IDEMPOTENCY_KEY="envoi-42",
    )
    assert other.status_code == 422
    assert other.json()["erreurs"][0]["message"].startswith(
        "Clé d'idempotence déjà utilisée pour une autre requête"
    )
    assert IdempotencyRecord.objects.count() == 1


def test_idempotency_keys_belong_to_one_api_key(cast, hospital, hospital_key):
    _key, raw = hospital_key
    body = {"valeurs": {"lits_rea_ouverts": 20, "lits_rea_occupes": 12}}
    post(api(raw), answer_url(hospital), body, HTTP_IDEMPOTENCY_KEY="k")
    _key2, raw2 = key_for(cast.hospital_respondent)
    replay = post(api(raw2), answer_url(hospital), body, HTTP_IDEMPOTENCY_KEY="k")
    assert replay.status_code == 200 and "Idempotent-Replayed" not in replay
    assert replay.json()["inchangees"] == ["lits_rea_ouverts", "lits_rea_occupes"]


def test_a_session_idempotency_key_is_refused_not_ignored(cast, hospital):
    client = APIClient()
    client.force_authenticate(cast.hospital_respondent)
    response = post(
        client, answer_url(hospital), {"valeurs": {"lits_rea_ouverts": 1}}, HTTP_IDEMPOTENCY_KEY="x"
    )
    assert response.status_code == 422 and "clé d'API" in response.json()["erreurs"][0]["message"]


# --- Keys -------------------------------------------------------------------------------------


def test_revoked_or_unknown_keys_and_other_roles_are_refused(cast, hospital, hospital_key):
    key, raw = hospital_key
    api_keys.api_key_revoke(key=key, user=cast.hospital_respondent)
    assert api(raw).get(reverse("api:assignment_list")).status_code == 403
    assert api("rs_00000000_inconnue").get(reverse("api:assignment_list")).status_code == 403
    assert api().get(reverse("api:assignment_list")).status_code == 403
    requester = APIClient()
    requester.force_authenticate(cast.national_requester)
    assert requester.get(reverse("api:assignment_list")).status_code == 403


def test_the_professional_answers_for_themself(cast, survey):
    from tests.collection.answering import professional_unit

    own = assignment(survey, professional_unit(cast.paris_doctor))
    client = APIClient()
    client.force_authenticate(cast.professional)
    assert [r["id"] for r in client.get(reverse("api:assignment_list")).json()["results"]] == [
        own.pk
    ]


def test_the_openapi_schema_documents_the_answering_api_and_key_auth(cast):
    client = APIClient()
    client.force_authenticate(cast.hospital_respondent)
    schema = client.get(reverse("api:schema"), {"format": "json"}).json()
    assert "/api/v1/demandes/{id}/reponses/" in schema["paths"]
    assert "/api/v1/reponses/" in schema["paths"]
    assert schema["components"]["securitySchemes"]["cleApi"]["scheme"] == "bearer"
