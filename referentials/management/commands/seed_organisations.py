from django.core.management.base import BaseCommand

from referentials.services import organisations_seed


class Command(BaseCommand):
    help = "Crée ou met à jour les directions nationales et les 18 agences régionales de santé."

    def handle(self, *args, **options):
        created = organisations_seed()
        self.stdout.write(
            f"Directions nationales créées : {created['national']}, "
            f"ARS créées : {created['ars']} (les existantes sont mises à jour)."
        )
