import logging

from celery import shared_task
from django.utils import timezone

from referentials import importers
from referentials.models import ImportRun

logger = logging.getLogger(__name__)


@shared_task
def import_file_run(import_run_id: int) -> None:
    """Run the import of a file uploaded through the admin (see ``curation.import_run_start``)."""
    run = ImportRun.objects.get(pk=import_run_id)
    try:
        importers.run_import(import_run=run)
    except Exception as error:
        # The importer records its own refusals and failures; this is for the unexpected, so
        # that the admin page, which refreshes while an import runs, does not wait forever.
        logger.exception("Import %s: unexpected failure", import_run_id)
        ImportRun.objects.filter(pk=import_run_id, status=ImportRun.Status.RUNNING).update(
            status=ImportRun.Status.FAILED,
            message=f"Échec inattendu : {error}",
            finished_at=timezone.now(),
        )
