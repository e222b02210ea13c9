"""The Celery application. Tasks are interfaces: ids in, one service call (see docs/)."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("recueil")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
