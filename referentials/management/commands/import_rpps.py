import json
import sys
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from referentials.importers.rpps import import_rpps
from referentials.models import ImportRun

PHASES = {"lecture": ("Lecture du fichier", "o"), "fusion": ("Mise à jour de l'annuaire", " pers.")}


class ProgressBars:
    """One tqdm bar per phase, on stderr, only when a terminal watches."""

    def __init__(self) -> None:
        self.phase = ""
        self.bar: Any = None

    def __call__(self, phase: str, done: int, total: int) -> None:
        from tqdm import tqdm

        if phase != self.phase:
            self.close()
            label, unit = PHASES.get(phase, (phase, ""))
            self.phase = phase
            self.bar = tqdm(
                total=total, desc=label, unit=unit, unit_scale=True, file=sys.stderr, leave=True
            )
        self.bar.update(done - self.bar.n)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None


class Command(BaseCommand):
    help = (
        "Importe l'extraction RPPS « PS_LibreAcces_Personne_activite » (séparateur |, UTF-8 "
        "avec ou sans BOM, 52 ou 56 colonnes) dans l'annuaire des professionnels de santé."
    )

    def add_arguments(self, parser):
        parser.add_argument("path", type=Path, help="Chemin du fichier RPPS.")
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="Simule l'import et affiche le bilan sans rien modifier.",
        )
        parser.add_argument(
            "--force",
            action="store_true",
            help="Accepte un fichier qui fermerait une grande part de l'annuaire.",
        )
        parser.add_argument(
            "--json", action="store_true", help="Affiche le bilan en JSON sur la sortie standard."
        )

    def handle(self, *args, **options):
        path: Path = options["path"]
        if not path.is_file():
            raise CommandError(f"Fichier introuvable : {path}")
        bars = ProgressBars() if sys.stderr.isatty() else None
        try:
            run = import_rpps(
                path=path, dry_run=options["dry_run"], force=options["force"], progress=bars
            )
        finally:
            if bars is not None:
                bars.close()
        if options["json"]:
            self.stdout.write(json.dumps(summary(run), ensure_ascii=False, indent=2))
        else:
            self.write_text(run)
        if run.status not in {ImportRun.Status.SUCCEEDED, ImportRun.Status.DRY_RUN}:
            raise CommandError(f"Import {run.get_status_display().lower()}.")

    def write_text(self, run: ImportRun) -> None:
        style = (
            self.style.SUCCESS
            if run.status in {ImportRun.Status.SUCCEEDED, ImportRun.Status.DRY_RUN}
            else self.style.ERROR
        )
        self.stdout.write(style(f"{run.get_status_display()} — {run.message}"))
        for rejected in run.rejected_lines[:20]:
            field = f", champ « {rejected['field']} »" if rejected["field"] else ""
            self.stdout.write(f"  ligne {rejected['line']}{field} : {rejected['reason']}")
        more = run.counts.get("rejected", 0) - min(len(run.rejected_lines), 20)
        if more > 0:
            self.stdout.write(f"  … et {more} autres lignes rejetées (voir l'import n° {run.pk}).")


def summary(run: ImportRun) -> dict:
    return {
        "id": run.pk,
        "source": run.source,
        "file": run.file_name,
        "checksum": run.checksum,
        "extract_date": run.extract_date.isoformat() if run.extract_date else None,
        "status": run.status,
        "dry_run": run.dry_run,
        "forced": run.forced,
        "counts": run.counts,
        "rejected_lines": run.rejected_lines,
        "message": run.message,
    }
