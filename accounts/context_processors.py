from django.conf import settings
from django.http import HttpRequest
from django.urls import reverse

from accounts.models import Role
from accounts.scoping import roles_of

# What django-dsfr's base template reads from SITE_CONFIG, given here without a database row.
SITE_CONFIG = {
    "site_title": settings.SITE_NAME,
    "site_tagline": "Enquêtes et recueil de données des établissements de santé et médico-sociaux",
    "mourning": False,
    "notice_title": "",
    "notice_description": "",
    "footer_description": (
        "Un seul outil pour les demandes de données des administrations sanitaires : une "
        "question déjà posée à un établissement pour une période ne l'est jamais deux fois."
    ),
}


def site(request: HttpRequest) -> dict[str, object]:
    roles = roles_of(request.user)
    nav: list[dict[str, str]] = []
    if roles & {Role.REQUESTER, Role.VIEWER}:
        nav.append({"label": "Campagnes", "url": reverse("surveys:campaign_list")})
        nav.append({"label": "Questionnaires", "url": reverse("surveys:builder_survey_list")})
        nav.append({"label": "Registre", "url": reverse("surveys:register")})
    if Role.RESPONDENT in roles:
        nav.append({"label": "Boîte de réception", "url": reverse("collection:inbox")})
        nav.append({"label": "Mes données", "url": reverse("collection:my_data")})
    if roles:
        nav.append({"label": "Charge de collecte", "url": reverse("collection:burden")})
    if roles:
        nav.append({"label": "Annuaire", "url": reverse("referentials:establishment_list")})
    if Role.CURATOR in roles:
        nav.append({"label": "Propositions", "url": reverse("referentials:curation_proposal_list")})
        nav.append({"label": "Rattachements RPPS", "url": reverse("referentials:claim_list")})
        nav.append({"label": "Questions ad hoc", "url": reverse("surveys:adhoc_candidates")})
    # The glossary is public: a common language is for everyone, logged in or not.
    nav.append({"label": "Glossaire", "url": reverse("glossary:definition_list")})
    if roles:
        nav.append({"label": "Invitations", "url": reverse("accounts:invitation_list")})
    if Role.RESPONDENT in roles:
        nav.append({"label": "Clés d'API", "url": reverse("accounts:api_key_list")})
    current = request.path
    for item in nav:
        item["current"] = "page" if current.startswith(item["url"]) else ""
    return {
        "SITE_CONFIG": SITE_CONFIG,
        "main_nav": nav,
        "skiplinks": [
            {"link": "#content", "label": "Contenu"},
            {"link": "#main-navigation", "label": "Menu"},
        ],
    }
