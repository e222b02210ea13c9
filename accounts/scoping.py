"""The one place that says what a user may see and act on.

A user's memberships decide their scope:

* a national directorate (DGOS, DREES, SpF...) sees every territory;
* a regional health agency sees the territories it covers (ARS Guadeloupe: 971, 977, 978);
* a legal entity (FINESS EJ) sees the establishments it runs;
* an establishment (FINESS ET) sees itself;
* a health professional whose RPPS identity a curator verified (``ProfessionalClaim``) answers
  for themself: they see their own reporting unit, nothing else.

Domain apps never filter by hand: their managers call ``scope_for(user)`` and turn the scope
into a ``Q`` over their own field names (``Scope.establishments_q``), so that this module knows
no domain model and the rule lives here once.
"""

from collections.abc import Iterable
from dataclasses import dataclass, field

from django.contrib.auth.models import AnonymousUser
from django.db.models import Q

from accounts.models import ApiKey, Membership, Organisation, ProfessionalClaim, Role, User

AnyUser = User | AnonymousUser

REQUESTING_ROLES = frozenset({Role.REQUESTER, Role.VIEWER, Role.CURATOR})


@dataclass(frozen=True)
class Scope:
    nationwide: bool = False
    territory_codes: frozenset[str] = field(default_factory=frozenset)
    legal_entity_finess: frozenset[str] = field(default_factory=frozenset)
    establishment_finess: frozenset[str] = field(default_factory=frozenset)
    organisation_ids: frozenset[int] = field(default_factory=frozenset)
    # RPPS national identifiers of the professionals this scope answers for (themself).
    professional_ids: frozenset[str] = field(default_factory=frozenset)

    @property
    def is_empty(self) -> bool:
        return not (
            self.nationwide
            or self.territory_codes
            or self.legal_entity_finess
            or self.establishment_finess
            or self.professional_ids
        )

    def establishments_q(
        self,
        *,
        territory: str = "territory_code",
        legal_entity: str = "legal_entity__finess",
        finess: str = "finess",
    ) -> Q:
        """A filter over reporting units named by the caller's own field paths.

        ``Establishment.objects.filter(scope.establishments_q())`` and, from a value,
        ``Value.objects.filter(scope.establishments_q(territory="establishment__territory_code",
        ...))``.
        """
        if self.nationwide:
            return Q()
        q = Q(pk__in=[])  # matches nothing: an empty scope sees nothing, never everything
        if self.territory_codes:
            q |= Q(**{f"{territory}__in": sorted(self.territory_codes)})
        if self.legal_entity_finess:
            q |= Q(**{f"{legal_entity}__in": sorted(self.legal_entity_finess)})
        if self.establishment_finess:
            q |= Q(**{f"{finess}__in": sorted(self.establishment_finess)})
        return q

    def units_q(self, prefix: str = "") -> Q:
        """A filter over reporting units (``referentials.ReportingUnit``), establishments and
        professionals alike, from ``prefix`` (``"unit__"`` from an assignment or a value)."""
        q = self.establishments_q(
            territory=f"{prefix}territory_code",
            legal_entity=f"{prefix}legal_entity_finess",
            finess=f"{prefix}finess",
        )
        if self.professional_ids and not self.nationwide:
            q |= Q(**{f"{prefix}national_id__in": sorted(self.professional_ids)})
        return q

    def organisations_q(self) -> Q:
        """Organisations this scope may see: itself, and the EJ/ET organisations inside it."""
        if self.nationwide:
            return Q()
        q = Q(pk__in=sorted(self.organisation_ids))
        establishment_kinds = [Organisation.Kind.LEGAL_ENTITY, Organisation.Kind.ESTABLISHMENT]
        if self.territory_codes:
            q |= Q(kind__in=establishment_kinds, territory_code__in=sorted(self.territory_codes))
        if self.legal_entity_finess:
            q |= Q(
                kind=Organisation.Kind.ESTABLISHMENT,
                legal_entity_finess__in=sorted(self.legal_entity_finess),
            )
        return q

    def covers_territory(self, code: str) -> bool:
        return self.nationwide or code in self.territory_codes


def _memberships(user: User) -> list[Membership]:
    cached: list[Membership] | None = getattr(user, "_memberships_cache", None)
    if cached is None:
        cached = list(
            Membership.objects.filter(user=user, organisation__is_active=True).select_related(
                "organisation"
            )
        )
        user._memberships_cache = cached  # type: ignore[attr-defined]
    return cached


def verified_professional_ids(user: AnyUser) -> frozenset[str]:
    """RPPS national identifiers ``user`` answers for (a verified claim), cached per request."""
    if not user.is_authenticated:
        return frozenset()
    cached: frozenset[str] | None = getattr(user, "_professional_ids_cache", None)
    if cached is None:
        cached = frozenset(
            ProfessionalClaim.objects.filter(
                user=user, status=ProfessionalClaim.Status.VERIFIED
            ).values_list("national_id", flat=True)
        )
        user._professional_ids_cache = cached  # type: ignore[attr-defined]
    return cached


def scope_for(user: AnyUser, *, roles: Iterable[str] | None = None) -> Scope:
    """What ``user`` may see, through the memberships holding one of ``roles`` (all if None)."""
    if not user.is_authenticated or not user.is_active:
        return Scope()
    wanted = set(roles) if roles is not None else None
    organisations = [
        m.organisation for m in _memberships(user) if wanted is None or m.role in wanted
    ]
    professionals = (
        verified_professional_ids(user) if wanted is None or Role.RESPONDENT in wanted else None
    )
    return scope_for_organisations(organisations, professional_ids=professionals)


def scope_for_api_key(key: ApiKey) -> Scope:
    """What a system calling with ``key`` may see: its organisation's scope, as a respondent."""
    if not key.is_active or not key.organisation.is_active:
        return Scope()
    return scope_for_organisations([key.organisation])


def scope_for_organisations(
    organisations: Iterable[Organisation], *, professional_ids: Iterable[str] | None = None
) -> Scope:
    """The union of what members of ``organisations`` see (plus professionals' own units)."""
    nationwide = False
    territories: set[str] = set()
    legal_entities: set[str] = set()
    establishments: set[str] = set()
    organisation_ids: set[int] = set()
    for organisation in organisations:
        organisation_ids.add(organisation.pk)
        match organisation.kind:
            case Organisation.Kind.NATIONAL:
                nationwide = True
            case Organisation.Kind.REGIONAL_AGENCY:
                territories.update(organisation.covered_territories)
            case Organisation.Kind.LEGAL_ENTITY:
                legal_entities.add(organisation.finess)
            case Organisation.Kind.ESTABLISHMENT:
                establishments.add(organisation.finess)
    return Scope(
        nationwide=nationwide,
        territory_codes=frozenset(territories),
        legal_entity_finess=frozenset(legal_entities),
        establishment_finess=frozenset(establishments),
        organisation_ids=frozenset(organisation_ids),
        professional_ids=frozenset(professional_ids or ()),
    )


def roles_of(user: AnyUser) -> set[str]:
    """The roles ``user`` holds; a verified professional is a respondent (for themself)."""
    if not user.is_authenticated:
        return set()
    roles = {membership.role for membership in _memberships(user)}
    if verified_professional_ids(user):
        roles.add(Role.RESPONDENT)
    return roles


def has_role(user: AnyUser, *roles: str) -> bool:
    return bool(roles_of(user) & set(roles))


def can_invite(user: AnyUser, *, organisation: Organisation, role: str) -> bool:
    """Who may bring whom in.

    A curator invites anyone into an organisation of their scope; any other member invites
    colleagues into their own organisation, in a role they hold themselves.
    """
    if not user.is_authenticated:
        return False
    curator_scope = scope_for(user, roles=[Role.CURATOR])
    if (
        not curator_scope.is_empty
        and Organisation.objects.filter(
            curator_scope.organisations_q(), pk=organisation.pk
        ).exists()
    ):
        return True
    return any(m.organisation_id == organisation.pk and m.role == role for m in _memberships(user))


def invitable_organisations(user: AnyUser) -> "list[Organisation]":
    """Organisations ``user`` may invite someone into (for the invitation form)."""
    if not user.is_authenticated:
        return []
    curator_scope = scope_for(user, roles=[Role.CURATOR])
    own = Q(pk__in=[m.organisation_id for m in _memberships(user)])
    if curator_scope.nationwide:
        # A nationwide scope is an empty Q(), which ``own | Q()`` would silently drop.
        q = Q()
    elif not curator_scope.is_empty:
        q = own | curator_scope.organisations_q()
    else:
        q = own
    return list(Organisation.objects.filter(q, is_active=True).order_by("kind", "name"))
