"""Settings come from the environment, and fail fast where security depends on them."""

import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PRODUCTION = {
    "DJANGO_SECRET_KEY": "k7-Qz0vN9xR2mLw8TgYb4HcJfD1sPaE6uVi3oKnZyXq5BtMr-Wj8Ls2Fh",
    "DJANGO_ALLOWED_HOSTS": "recueil.sante.gouv.fr",
    "DATABASE_URL": "postgres://recueil@db.internal:5432/recueil",
    "REDIS_URL": "redis://cache.internal:6379/0",
}
DJANGO_VARIABLES = {
    "DJANGO_SECRET_KEY",
    "DJANGO_ALLOWED_HOSTS",
    "DJANGO_DEBUG",
    "DJANGO_SECURE",
    "DATABASE_URL",
    "REDIS_URL",
    "EMAIL_HOST",
    "EMAIL_BACKEND",
}


def run_python(code: str, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if k not in DJANGO_VARIABLES}
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={**clean, "DJANGO_SETTINGS_MODULE": "config.settings", **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def show(*names: str) -> str:
    return "from django.conf import settings; " + "; ".join(
        f"print({name!r}, repr(settings.{name}))" for name in names
    )


def test_production_refuses_to_start_without_a_secret_key():
    result = run_python(show("DEBUG"), DJANGO_ALLOWED_HOSTS="recueil.sante.gouv.fr")
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY est obligatoire hors mode DEBUG" in result.stderr


def test_production_refuses_to_start_without_allowed_hosts():
    result = run_python(show("DEBUG"), DJANGO_SECRET_KEY=PRODUCTION["DJANGO_SECRET_KEY"])
    assert result.returncode != 0
    assert "DJANGO_ALLOWED_HOSTS est obligatoire" in result.stderr


def test_a_malformed_boolean_is_an_error_not_a_guess():
    result = run_python(show("DEBUG"), DJANGO_DEBUG="peut-être")
    assert result.returncode != 0
    assert "valeur booléenne attendue" in result.stderr


def test_embedded_default_is_sqlite_eager_celery_and_console_mail():
    result = run_python(
        show("DATABASES['default']['ENGINE']", "CELERY_TASK_ALWAYS_EAGER", "EMAIL_BACKEND")
        + "; from django.core.cache import caches; print(type(caches['default']).__name__)",
        DJANGO_DEBUG="1",
    )
    assert result.returncode == 0, result.stderr
    assert "'django.db.backends.sqlite3'" in result.stdout
    assert "CELERY_TASK_ALWAYS_EAGER True" in result.stdout
    assert "console.EmailBackend" in result.stdout
    assert "LocMemCache" in result.stdout


def test_redis_url_drives_the_broker_and_the_cache():
    result = run_python(
        show("CELERY_BROKER_URL", "CELERY_TASK_ALWAYS_EAGER", "CACHES['default']['BACKEND']"),
        **PRODUCTION,
    )
    assert result.returncode == 0, result.stderr
    assert "CELERY_BROKER_URL 'redis://cache.internal:6379/0'" in result.stdout
    assert "CELERY_TASK_ALWAYS_EAGER False" in result.stdout
    assert "RedisCache" in result.stdout


def test_production_sends_mail_over_smtp_when_a_host_is_given():
    result = run_python(
        show("EMAIL_BACKEND", "EMAIL_HOST", "EMAIL_PORT"),
        **PRODUCTION,
        EMAIL_HOST="smtp.sante.gouv.fr",
        EMAIL_PORT="587",
    )
    assert result.returncode == 0, result.stderr
    assert "smtp.EmailBackend" in result.stdout
    assert "EMAIL_PORT 587" in result.stdout


def test_deploy_check_is_clean_with_production_settings():
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env={**{k: v for k, v in os.environ.items() if k not in DJANGO_VARIABLES}, **PRODUCTION},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_production_cookies_are_secure_and_hsts_is_on():
    result = run_python(
        show(
            "SESSION_COOKIE_SECURE",
            "CSRF_COOKIE_SECURE",
            "SECURE_SSL_REDIRECT",
            "SECURE_HSTS_SECONDS",
        ),
        **PRODUCTION,
    )
    assert result.returncode == 0, result.stderr
    assert "SESSION_COOKIE_SECURE True" in result.stdout
    assert "CSRF_COOKIE_SECURE True" in result.stdout
    assert "SECURE_SSL_REDIRECT True" in result.stdout
    assert "SECURE_HSTS_SECONDS 31536000" in result.stdout


def test_pages_carry_a_content_security_policy(client, db):
    response = client.get("/comptes/connexion/")
    policy = response.headers["Content-Security-Policy"]
    assert "default-src 'self'" in policy
    assert "frame-ancestors 'none'" in policy
    assert "'unsafe-inline'" not in policy
    # The DSFR scripts carry the nonce the header announces.
    nonce = re.search(r"'nonce-([^']+)'", policy).group(1)
    assert f'nonce="{nonce}"' in response.content.decode()


def test_manage_py_says_what_is_missing_instead_of_a_traceback():
    result = subprocess.run(
        [sys.executable, "manage.py", "migrate"],
        cwd=ROOT,
        env={k: v for k, v in os.environ.items() if k not in DJANGO_VARIABLES},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 2
    assert "Configuration incomplète : DJANGO_SECRET_KEY est obligatoire" in result.stderr
    assert "DJANGO_DEBUG=1" in result.stderr
    assert "Traceback" not in result.stderr
