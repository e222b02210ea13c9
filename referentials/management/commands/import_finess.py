import json
import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser

from referentials.importers.finess import import_finess
from referentials.models import ImportRun

EXIT_REFUSED = 2
EXIT_FAILED = 1


class Command(BaseCommand):
    help = (
        "Importe des fichiers FINESS dans l'annuaire : extractions etalab 501/502/507 (CSV) ou "
        "FiNESS+ (JSON, éventuellement .json.gz). Plusieurs fichiers d'une même extraction "
        "(501 et 502/507) peuvent être importés en une fois."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("paths", nargs="+", type=Path, metavar="PATH")
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="tout calculer et afficher ce qui changerait, sans rien enregistrer",
        )
        parser.add_argument(
            "--force",
            action="store_true",
            help="importer même si le fichier fermerait une part anormale de l'annuaire",
        )
        parser.add_argument(
            "--json", action="store_true", help="afficher le résumé en JSON sur la sortie"
        )

    def handle(self, *args, **options) -> None:
        for path in options["paths"]:
            if not path.is_file():
                raise CommandError(f"Fichier introuvable : {path}")
        bar = None
        if sys.stderr.isatty():
            from tqdm import tqdm

            bar = tqdm(unit=" lignes", unit_scale=True, desc="Lecture", file=sys.stderr)
        try:
            run = import_finess(
                path=options["paths"],
                dry_run=options["dry_run"],
                force=options["force"],
                progress=bar.update if bar is not None else None,
            )
        finally:
            if bar is not None:
                bar.close()
        if options["json"]:
            self.stdout.write(json.dumps(summary(run), ensure_ascii=False, indent=2))
        else:
            self._write_report(run)
        if run.status == ImportRun.Status.REFUSED:
            raise CommandError(run.message, returncode=EXIT_REFUSED)
        if run.status == ImportRun.Status.FAILED:
            raise CommandError(run.message, returncode=EXIT_FAILED)

    def _write_report(self, run: ImportRun) -> None:
        ok = run.status in {ImportRun.Status.SUCCEEDED, ImportRun.Status.DRY_RUN}
        style = self.style.SUCCESS if ok else self.style.ERROR
        self.stdout.write(style(f"{run.get_status_display()} — {run.message}"))
        if run.extract_date:
            self.stdout.write(
                f"Extraction du {run.extract_date:%d/%m/%Y}, empreinte {run.checksum}"
            )
        rejected = [line for line in run.rejected_lines if line.get("rejected")]
        if rejected:
            self.stdout.write(f"Lignes rejetées ({run.counts.get('rejected', len(rejected))}) :")
            for line in rejected[:20]:
                self.stdout.write(
                    f"  {line['file']}, ligne {line['line']}"
                    + (f", champ « {line['field']} »" if line["field"] else "")
                    + f" : {line['reason']}"
                )
            if len(rejected) > 20:
                self.stdout.write("  … (liste complète avec --json ou dans l'administration)")
        for disagreement in run.disagreements[:20]:
            self.stdout.write(
                f"Désaccord {disagreement['finess']} {disagreement['field']} : corrigé en "
                f"« {disagreement['corrected_value']} », la source dit maintenant "
                f"« {disagreement['new_source_value']} »."
            )


def summary(run: ImportRun) -> dict[str, object]:
    return {
        "id": run.pk,
        "source": run.source,
        "files": run.file_name,
        "status": run.status,
        "message": run.message,
        "checksum": run.checksum,
        "extract_date": run.extract_date.isoformat() if run.extract_date else None,
        "dry_run": run.dry_run,
        "forced": run.forced,
        "counts": run.counts,
        "rejected_lines": run.rejected_lines,
        "disagreements": run.disagreements,
    }
