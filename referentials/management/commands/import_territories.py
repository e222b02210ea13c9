import json

from django.core.management.base import BaseCommand, CommandError

from referentials.importers.territories import import_territories
from referentials.models import ImportRun


class Command(BaseCommand):
    help = (
        "Charge (ou met à jour) les régions, départements, collectivités d'outre-mer et communes "
        "INSEE livrés avec le service, puis les territoires couverts par chaque ARS."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--json", action="store_true", help="Affiche le bilan en JSON sur la sortie standard."
        )

    def handle(self, *args, **options):
        try:
            run = import_territories()
        except Exception as error:
            raise CommandError(f"Import des territoires en échec : {error}") from error
        if options["json"]:
            summary = {
                "id": run.pk,
                "source": run.source,
                "status": run.status,
                "checksum": run.checksum,
                "counts": run.counts,
                "message": run.message,
            }
            self.stdout.write(json.dumps(summary, ensure_ascii=False, indent=2))
            return
        counts = run.counts
        for label, key, e in (
            ("Régions", "regions", "e"),
            ("Territoires", "territories", ""),
            ("Communes", "communes", "e"),
        ):
            part = counts[key]
            self.stdout.write(
                f"{label} : {part['created']} créé{e}s, {part['updated']} mis{e}s à jour, "
                f"{part['unchanged']} inchangé{e}s."
            )
        self.stdout.write(self.style.SUCCESS(run.message))
        if run.status != ImportRun.Status.SUCCEEDED:
            raise CommandError(run.message)
