"""Importers of the directory's sources: one entry point for a recorded ``ImportRun``.

``run_import`` is what the admin's Celery task calls with a run whose file was uploaded
(``ImportRun.stored_file``); the management commands call each importer directly.
"""

from pathlib import Path

from referentials.models import ImportRun


def run_import(*, import_run: ImportRun) -> ImportRun:
    """Run the import of ``import_run.stored_file`` according to ``import_run.source``."""
    source = import_run.source
    if source in {ImportRun.Source.FINESS_ETALAB, ImportRun.Source.FINESS_PLUS}:
        from referentials.importers.finess import import_finess

        return import_finess(
            path=Path(import_run.stored_file.path),
            started_by=import_run.started_by,
            dry_run=import_run.dry_run,
            force=import_run.forced,
            import_run=import_run,
        )
    if source == ImportRun.Source.RPPS:
        # Imported here: the RPPS importer is written separately and may land later; the
        # FINESS imports must not depend on it being there.
        from referentials.importers.rpps import import_rpps

        return import_rpps(
            path=Path(import_run.stored_file.path),
            started_by=import_run.started_by,
            dry_run=import_run.dry_run,
            force=import_run.forced,
            import_run=import_run,
        )
    if source == ImportRun.Source.TERRITORIES:
        # Same: the territories importer lives in its own module, imported only when needed.
        # It loads the geography shipped with the project (no uploaded file) into a run of its
        # own, whose outcome is copied onto the run the admin is watching.
        from referentials.importers.territories import import_territories

        done = import_territories(started_by=import_run.started_by)
        for name in ("status", "checksum", "counts", "message", "finished_at", "extract_date"):
            setattr(import_run, name, getattr(done, name))
        import_run.save()
        return import_run
    raise ValueError(f"source d'import inconnue : « {source} »")
