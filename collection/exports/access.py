"""Who may export a campaign, and which of its rows: the follow-up's rule, once.

Reading a campaign's values is reading its follow-up and results, so the rule is
``collection.followup.access_for``:

| who | exports |
| --- | --- |
| a requester or viewer of the campaign's owner | every row of the campaign |
| a requester or viewer of another national directorate (campaign sent) | every row |
| an ARS's requester or viewer, the sent campaign having units in its territories | those rows |
| anyone else | nothing: 403 without a requesting role (respondents), 404 otherwise |

Open data (aggregates meant for publication) is for the first two lines only (``whole``).
"""

from dataclasses import dataclass

from django.core.exceptions import PermissionDenied
from django.http import Http404

from accounts.models import Role, User
from accounts.scoping import Scope, has_role
from collection.followup import access_for
from surveys.models import Campaign

EXPORT_ROLES = (Role.REQUESTER, Role.VIEWER)
NOT_FOUND = "Campagne introuvable ou hors de votre périmètre."


@dataclass(frozen=True)
class ExportAccess:
    campaign: Campaign
    user: User
    # The rows the user may export (``scope.units_q("unit__")``): nationwide for the whole.
    scope: Scope
    # The owner's members and national directorates: the whole campaign and its open data.
    whole: bool


def can_export(user: User) -> bool:
    return has_role(user, *EXPORT_ROLES)


def export_access(*, user: User, campaign: Campaign) -> ExportAccess | None:
    """What ``user`` may export of ``campaign``, or None when nothing."""
    if not can_export(user):
        return None
    access = access_for(campaign=campaign, user=user)
    if access is None:
        return None
    if access.scope is None:
        return ExportAccess(campaign=campaign, user=user, scope=Scope(nationwide=True), whole=True)
    return ExportAccess(campaign=campaign, user=user, scope=access.scope, whole=False)


def campaign_export_access(*, user: User, pk: int) -> ExportAccess:
    """Fetch and check in one call: 403 without a requesting role, 404 outside the scope."""
    if not can_export(user):
        raise PermissionDenied("Les exports sont réservés aux demandeurs et aux lecteurs.")
    campaign = Campaign.objects.select_related("owner", "survey", "version").filter(pk=pk).first()
    access = export_access(user=user, campaign=campaign) if campaign is not None else None
    if access is None:
        raise Http404(NOT_FOUND)
    return access
