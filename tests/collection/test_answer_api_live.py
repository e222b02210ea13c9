"""A script of an establishment's system, as it would run: plain ``urllib`` over HTTP against
the live server, authenticated by an API key, reads its assignments and submits its values."""

import json
import urllib.error
import urllib.request

from django.urls import reverse

from accounts.models import Organisation
from collection.models import Value
from surveys.models import Assignment
from tests.collection.answering import assignment, campaign, dictionary, key_for, unit_of


def call(url, raw_key, body=None, **headers):
    request = urllib.request.Request(  # noqa: S310 (the local live server)
        url,
        data=None if body is None else json.dumps(body).encode(),
        method="GET" if body is None else "POST",
        headers={
            "Authorization": f"Bearer {raw_key}",
            "Content-Type": "application/json",
            **headers,
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
            return response.status, json.loads(response.read()), dict(response.headers)
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read()), dict(error.headers)


def test_a_script_submits_with_an_api_key(live_server, cast):
    survey = campaign(owner=Organisation.objects.get(short_name="DGOS"), definitions=dictionary())
    owed = assignment(survey, unit_of(cast.paris_hospital))
    key, raw = key_for(cast.hospital_respondent)
    base = live_server.url

    status, listing, _ = call(base + reverse("api:assignment_list"), raw)
    assert status == 200 and [r["id"] for r in listing["results"]] == [owed.pk]
    status, form, _ = call(base + reverse("api:assignment_detail", args=[owed.pk]), raw)
    codes = [q["code"] for q in form["questions"]]

    url = base + reverse("api:assignment_answer", args=[owed.pk])
    status, refused, _ = call(url, raw, {"valeurs": dict.fromkeys(codes, "beaucoup")})
    assert status == 422 and {e["source"] for e in refused["erreurs"]} == {
        f"valeurs.{code}" for code in codes
    }
    body = {"valeurs": {"lits_rea_ouverts": 24, "lits_rea_occupes": 19}}
    status, done, _ = call(url, raw, body, **{"Idempotency-Key": "dpi-2026-11-29"})
    assert status == 200 and done["statut"] == "submitted"
    status, again, headers = call(url, raw, body, **{"Idempotency-Key": "dpi-2026-11-29"})
    assert (status, again, headers.get("Idempotent-Replayed")) == (200, done, "true")

    owed.refresh_from_db()
    assert owed.status == Assignment.Status.SUBMITTED and owed.revision == 1
    assert set(Value.objects.values_list("code", "data", "api_key")) == {
        ("lits_rea_ouverts", "24", key.pk),
        ("lits_rea_occupes", "19", key.pk),
    }
