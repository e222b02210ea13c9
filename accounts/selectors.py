from django.db.models import QuerySet

from accounts.models import Invitation, Membership, Organisation, Role, User
from accounts.scoping import has_role, roles_of


def memberships_of(*, user: User) -> QuerySet[Membership]:
    return (
        Membership.objects.filter(user=user)
        .select_related("organisation")
        .order_by("organisation__kind", "organisation__name", "role")
    )


def invitations_visible_to(*, user: User) -> QuerySet[Invitation]:
    """Invitations a user sent, and, for a curator, those into organisations of their scope."""
    mine = Invitation.objects.filter(invited_by=user)
    if has_role(user, Role.CURATOR):
        in_scope = Organisation.objects.visible_to(user)
        mine = mine | Invitation.objects.filter(organisation__in=in_scope)
    return mine.select_related("organisation", "invited_by").order_by("-created_at")


def home_url_name(*, user: User) -> str | None:
    """Where each role starts: requesters on their campaigns, respondents in their inbox."""
    # The same roles the pages check (active organisations only), or "/" would send a member of
    # a deactivated organisation to a page that refuses them.
    roles = roles_of(user)
    if roles & {Role.REQUESTER, Role.VIEWER}:
        return "surveys:campaign_list"
    if Role.RESPONDENT in roles:
        return "collection:inbox"
    if Role.CURATOR in roles:
        return "referentials:establishment_list"
    return None


def account_exists(*, email: str) -> bool:
    return User.objects.filter(email=email).exists()
