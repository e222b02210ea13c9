"""Exports: streamed at once when small, built by a Celery task when large.

``export_create`` records an ``Export`` row either way (who exported what, when, how many
rows: the log requesters and data protection officers ask for). Up to
``EXPORT_SYNC_MAX_ROWS`` rows, the row is ``ready`` without a file and the caller streams the
chunks it returns; beyond, the row is ``queued`` and ``collection.tasks.build_export`` runs
``export_build`` after commit: the file goes to ``MEDIA_ROOT/exports/<year>/<month>/``, the row
becomes ``ready`` (or ``failed``) with its expiry, and the requester is notified
(``export_ready``). ``export_purge`` (beat) deletes the files past their expiry.
"""

import datetime as dt
import logging
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from typing import IO, Any

from django.conf import settings
from django.core.files import File
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from accounts.services import audit_record
from collection.exports.access import export_access
from collection.exports.late import late_table
from collection.exports.rows import ExportRefused, Table, long_table, wide_table
from collection.exports.writers import (
    CSV_CONTENT_TYPE,
    XLSX_CONTENT_TYPE,
    XLSX_MAX_ROWS,
    table_csv,
    write_csv,
    write_xlsx,
)
from collection.models import Export
from notifications.services import Recipient, notify
from surveys.models import Campaign

logger = logging.getLogger(__name__)
READ_SIZE = 64 * 1024

__all__ = ["ExportRefused", "ExportResult", "export_build", "export_create", "export_purge"]


@dataclass
class ExportResult:
    export: Export
    # The file's bytes when streamed at once; None when a task builds it.
    chunks: Iterator[bytes] | None
    filename: str
    content_type: str


def content_type(format: str) -> str:
    return XLSX_CONTENT_TYPE if format == Export.Format.XLSX else CSV_CONTENT_TYPE


def _filename(table: Table, export: Export) -> str:
    return f"{table.name}-{timezone.localtime(export.created_at):%Y%m%d-%H%M}.{export.format}"


def _file_chunks(handle: IO[bytes]) -> Iterator[bytes]:
    """A temporary file's bytes, closed (and so deleted) once read."""
    with handle:
        handle.seek(0)
        while chunk := handle.read(READ_SIZE):
            yield chunk


def _table(*, campaign: Campaign, kind: str, params: dict[str, Any], user: User) -> Table:
    access = export_access(user=user, campaign=campaign)
    if access is None:
        raise ExportRefused("Vous ne pouvez pas exporter les données de cette campagne.")
    period_keys = [str(key) for key in params.get("periods", [])]
    match kind:
        case Export.Kind.VALUES_LONG:
            return long_table(access, period_keys=period_keys)
        case Export.Kind.VALUES_WIDE:
            return wide_table(access, period_keys=period_keys)
        case Export.Kind.LATE:
            if len(period_keys) > 1:
                raise ExportRefused(
                    "La liste des retards s'exporte pour une période ou pour toutes : "
                    "cochez une seule période, ou aucune."
                )
            return late_table(access, period_key=period_keys[0] if period_keys else None)
    raise ExportRefused("Ce contenu ne s'exporte pas ici.")


def export_create(
    *, campaign: Campaign, kind: str, format: str, params: dict[str, Any], user: User
) -> ExportResult:
    """Stream the export at once (small) or queue it (large); the ``Export`` row either way.

    Raises ``ExportRefused`` (French message) for what cannot be exported.
    """
    if format not in Export.Format.values:
        raise ExportRefused("Choisissez le format CSV ou XLSX.")
    table = _table(campaign=campaign, kind=kind, params=params, user=user)
    count = table.count()
    if format == Export.Format.XLSX and count > XLSX_MAX_ROWS:
        raise ExportRefused(
            f"{count} lignes dépassent ce qu'une feuille XLSX peut contenir "
            f"({XLSX_MAX_ROWS} lignes) : choisissez le format CSV ou moins de périodes."
        )
    streamed = count <= settings.EXPORT_SYNC_MAX_ROWS
    now = timezone.now()
    with transaction.atomic():
        export = Export.objects.create(
            kind=kind,
            format=format,
            campaign=campaign,
            params=params,
            requested_by=user,
            status=Export.Status.READY if streamed else Export.Status.QUEUED,
            row_count=count,
            created_at=now,
            finished_at=now if streamed else None,
        )
        audit_record(
            actor=user,
            action="export.create",
            target=export,
            details={"kind": kind, "format": format, "rows": count, "streamed": streamed},
        )
        if not streamed:
            from collection.tasks import build_export

            transaction.on_commit(lambda: build_export.delay(export.pk))
    chunks: Iterator[bytes] | None = None
    if streamed:
        if format == Export.Format.XLSX:
            # A zip cannot be streamed as it is written: build it in a temporary file first.
            handle = tempfile.TemporaryFile()  # noqa: SIM115 - closed by _file_chunks
            write_xlsx(table, handle)
            chunks = _file_chunks(handle)
        else:
            chunks, _counted = table_csv(table)
    return ExportResult(
        export=export,
        chunks=chunks,
        filename=_filename(table, export),
        content_type=content_type(format),
    )


def _notify(export: Export) -> None:
    ready = export.status == Export.Status.READY
    campaign = export.campaign.title if export.campaign else ""
    intro = (
        f"Votre export « {export.get_kind_display()} » de la campagne « {campaign} » est prêt "
        f"({export.row_count} lignes, format {export.get_format_display()}). Il reste "
        f"disponible jusqu'au {timezone.localtime(export.expires_at):%d/%m/%Y à %H:%M}."
        if ready and export.expires_at
        else f"Votre export « {export.get_kind_display()} » de la campagne « {campaign} » n'a "
        "pas pu être préparé. Relancez-le depuis la page de la campagne ; si l'échec se "
        "répète, écrivez à l'assistance en indiquant le numéro de l'export "
        f"({export.pk})."
    )
    notify(
        kind="export_ready",
        recipients=[Recipient(user=export.requested_by)],
        subject="Votre export est prêt" if ready else "Votre export n'a pas pu être préparé",
        template="collection/emails/export_ready",
        context={"intro": intro, "ready": ready, "action_label": "Voir mes exports"},
        dedup_subject=f"export-{export.pk}-{export.status}",
        link=reverse("collection:export_list"),
        about={"export": export.pk},
    )


def export_build(*, export_id: int, now: dt.datetime | None = None) -> Export | None:
    """Build a queued export's file (the task's work); None when it was not queued any more.

    The row is claimed (queued -> running) in one conditional update, so that a task run
    twice builds once. The file is written outside any transaction; the row then becomes
    ready, or failed with the error, and the requester is told either way.
    """
    claimed = Export.objects.filter(pk=export_id, status=Export.Status.QUEUED).update(
        status=Export.Status.RUNNING
    )
    if not claimed:
        return None
    export = Export.objects.select_related("campaign", "requested_by").get(pk=export_id)
    try:
        if export.campaign is None:
            raise ExportRefused("La campagne de cet export a été supprimée.")
        table = _table(
            campaign=export.campaign,
            kind=export.kind,
            params=export.params,
            user=export.requested_by,
        )
        with tempfile.TemporaryFile() as handle:
            writer = write_xlsx if export.format == Export.Format.XLSX else write_csv
            count = writer(table, handle)
            handle.seek(0)
            export.file.save(_filename(table, export), File(handle), save=False)
    except Exception as error:
        logger.exception("Export %s failed", export_id)
        export.status = Export.Status.FAILED
        export.error = str(error) if isinstance(error, ExportRefused) else type(error).__name__
    else:
        export.status = Export.Status.READY
        export.row_count = count
    export.finished_at = now or timezone.now()
    if export.status == Export.Status.READY:
        export.expires_at = export.finished_at + dt.timedelta(days=settings.EXPORT_RETENTION_DAYS)
    with transaction.atomic():
        export.save(
            update_fields=["status", "file", "row_count", "error", "finished_at", "expires_at"]
        )
        _notify(export)
    return export


def export_purge(*, now: dt.datetime | None = None) -> int:
    """Delete the files of exports past their expiry and mark them expired; how many."""
    now = now or timezone.now()
    purged = 0
    for export in Export.objects.filter(status=Export.Status.READY, expires_at__lte=now):
        if export.file:
            export.file.delete(save=False)
        Export.objects.filter(pk=export.pk).update(status=Export.Status.EXPIRED, file="")
        purged += 1
    return purged


def open_data_record(*, campaign: Campaign, part: str, user: User) -> Export:
    """Log a download of a campaign's open data (``part``: « donnees » or « dictionnaire »)."""
    now = timezone.now()
    with transaction.atomic():
        export = Export.objects.create(
            kind=Export.Kind.OPEN_DATA,
            format=Export.Format.CSV,
            campaign=campaign,
            params={"part": part},
            requested_by=user,
            status=Export.Status.READY,
            created_at=now,
            finished_at=now,
        )
        audit_record(actor=user, action="export.open_data", target=export, details={"part": part})
    return export
