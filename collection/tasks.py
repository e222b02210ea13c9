"""Celery tasks of the collection: a task is an interface, it takes ids and calls one service."""

from celery import shared_task

from collection.exports import services as exports


@shared_task(name="collection.tasks.build_export")
def build_export(export_id: int) -> None:
    """Build a large export's file and tell its requester (see ``export_build``)."""
    exports.export_build(export_id=export_id)


@shared_task(name="collection.tasks.purge_exports")
def purge_exports() -> int:
    """Every day (beat): delete the files of exports past their retention."""
    return exports.export_purge()
