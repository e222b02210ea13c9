#!/usr/bin/env python
import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    from django.conf import settings
    from django.core.exceptions import ImproperlyConfigured
    from django.core.management import execute_from_command_line

    try:
        settings.INSTALLED_APPS  # noqa: B018 - load the settings now, to report them plainly
    except ImproperlyConfigured as error:
        # Without this, Django buries the message under an "apps aren't loaded" traceback.
        sys.stderr.write(
            f"Configuration incomplète : {error}\n"
            "Sur un poste de développement, lancez les commandes avec DJANGO_DEBUG=1 "
            "(comme le fait le Makefile) ; voir docs/configuration.md.\n"
        )
        sys.exit(2)
    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
