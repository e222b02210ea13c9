from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from referentials.dictionary import SEED_PATH, DictionaryError, dictionary_load_seed


class Command(BaseCommand):
    help = (
        "Charge le dictionnaire des définitions partagées (par défaut le dictionnaire de "
        "référence). Sans effet sur ce qui est déjà à jour ; refuse tout changement de sens "
        "d'une définition publiée, sans rien enregistrer."
    )

    def add_arguments(self, parser):
        parser.add_argument("path", nargs="?", default=str(SEED_PATH), help="fichier JSON")

    def handle(self, *args, **options):
        try:
            counts = dictionary_load_seed(path=Path(options["path"]))
        except DictionaryError as error:
            raise CommandError("Dictionnaire refusé : " + " ".join(error.messages)) from None
        self.stdout.write(
            self.style.SUCCESS(
                f"Dictionnaire : {counts['definitions']} définitions, {counts['rules']} règles, "
                f"{counts['indicators']} indicateurs, {counts['code_lists']} listes de codes, "
                f"{counts['themes']} thèmes."
            )
        )
