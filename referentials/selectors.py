from django.contrib.auth.models import AnonymousUser
from django.db.models import Q, QuerySet
from django.http import Http404

from accounts.models import User
from referentials.models import Establishment


def establishment_list(
    *, user: User | AnonymousUser, query: str = "", territory: str = ""
) -> QuerySet[Establishment]:
    establishments = Establishment.objects.visible_to(user).select_related("legal_entity")
    if query:
        establishments = establishments.filter(
            Q(name__icontains=query) | Q(finess=query) | Q(city__icontains=query)
        )
    if territory:
        establishments = establishments.filter(territory_code=territory)
    return establishments.order_by("territory_code", "name")


def establishment_access(*, user: User | AnonymousUser, finess: str) -> Establishment:
    """Fetch and check in one call: outside the user's scope is the same as not found."""
    establishment = (
        Establishment.objects.visible_to(user)
        .select_related("legal_entity")
        .filter(finess=finess)
        .first()
    )
    if establishment is None:
        raise Http404("Établissement introuvable ou hors de votre périmètre.")
    return establishment
