import pytest
from django.conf import settings
from django.db import connection
from django.urls import reverse


def test_healthz_reports_database_cache_and_broker(client, db):
    response = client.get(reverse("healthz"))
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["checks"]["database"] == {"status": "ok", "detail": connection.vendor}
    assert body["checks"]["cache"]["status"] == "ok"
    if settings.CELERY_TASK_ALWAYS_EAGER:
        assert body["checks"]["broker"]["detail"].startswith("eager")
    else:
        assert body["checks"]["broker"] == {"status": "ok", "detail": "redis"}


@pytest.mark.django_db
def test_healthz_answers_503_and_names_the_failing_part(client, settings):
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",  # nothing listens on port 1
        }
    }
    response = client.get(reverse("healthz"))
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "error"
    assert body["checks"]["cache"]["status"] == "error"
    assert "ConnectionError" in body["checks"]["cache"]["detail"]
    assert body["checks"]["database"]["status"] == "ok"
