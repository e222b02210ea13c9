"""Who answers for a reporting unit and is told about its requests, resolved from the
directory in bulk. It lives here, below ``surveys``, so that the campaign's sending page can
list the units nobody would be told about; ``collection.notices`` uses it for the digests,
reminders and escalations (and re-exports it).

- an establishment: its ACTIVE functional contacts (``FunctionalContact``), verified ones
  (``verified_on`` set) first. Unverified active contacts are used only for an establishment
  that has no verified active contact: the issue asks for verified addresses, but an
  establishment whose contacts nobody has verified yet must not miss a request (the curators
  see any refusal in the directory). Plus the respondents of its ``establishment``
  organisation (same FINESS ET) and, for a legal entity answering for its sites, the
  respondents of its ``legal_entity`` organisation (the unit's FINESS EJ);
- a professional: the user whose ``ProfessionalClaim`` on that ``national_id`` is verified.

One query per kind (units, contacts, memberships, claims), whatever the number of units.
"""

from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from django.db.models import Exists, F, OuterRef, Q, QuerySet

from accounts.models import Membership, Organisation, ProfessionalClaim, Role, User
from notifications.services import Recipient
from referentials.models import Establishment, FunctionalContact, ReportingUnit


def _contact_name(contact: dict[str, Any]) -> str:
    role = FunctionalContact.Role(contact["role"]).label
    return contact["label"] or f"{role} — {contact['establishment__name']}"


def recipients_for_units(unit_ids: Iterable[int]) -> dict[int, list[Recipient]]:
    """Every unit id of ``unit_ids`` -> its recipients (possibly an empty list), contacts
    before users, verified contacts before the others. Four queries in all."""
    units = list(
        ReportingUnit.objects.filter(pk__in=list(unit_ids)).values(
            "pk", "kind", "establishment_id", "finess", "legal_entity_finess", "national_id"
        )
    )
    result: dict[int, list[Recipient]] = {unit["pk"]: [] for unit in units}
    establishments = [u for u in units if u["kind"] == ReportingUnit.Kind.ESTABLISHMENT]
    professionals = [u for u in units if u["kind"] == ReportingUnit.Kind.PROFESSIONAL]

    contacts_by_establishment: dict[int, list[dict[str, Any]]] = defaultdict(list)
    if establishments:
        for contact in (
            FunctionalContact.objects.filter(
                establishment_id__in=[u["establishment_id"] for u in establishments],
                is_active=True,
            )
            .order_by("establishment_id", F("verified_on").desc(nulls_last=True), "role", "email")
            .values(
                "establishment_id", "email", "label", "role", "verified_on", "establishment__name"
            )
        ):
            contacts_by_establishment[contact["establishment_id"]].append(dict(contact))

    users_by_et: dict[str, list[User]] = defaultdict(list)
    users_by_ej: dict[str, list[User]] = defaultdict(list)
    et_finess = {u["finess"] for u in establishments if u["finess"]}
    ej_finess = {u["legal_entity_finess"] for u in establishments if u["legal_entity_finess"]}
    if et_finess or ej_finess:
        for membership in (
            Membership.objects.filter(
                Q(
                    organisation__kind=Organisation.Kind.ESTABLISHMENT,
                    organisation__finess__in=sorted(et_finess),
                )
                | Q(
                    organisation__kind=Organisation.Kind.LEGAL_ENTITY,
                    organisation__finess__in=sorted(ej_finess),
                ),
                role=Role.RESPONDENT,
                user__is_active=True,
                organisation__is_active=True,
            )
            .select_related("user", "organisation")
            .order_by("user__email")
        ):
            target = (
                users_by_et
                if membership.organisation.kind == Organisation.Kind.ESTABLISHMENT
                else users_by_ej
            )
            target[membership.organisation.finess].append(membership.user)

    claimants: dict[str, User] = {}
    if professionals:
        for claim in ProfessionalClaim.objects.filter(
            national_id__in=[u["national_id"] for u in professionals],
            status=ProfessionalClaim.Status.VERIFIED,
            user__is_active=True,
        ).select_related("user"):
            claimants[claim.national_id] = claim.user

    for unit in establishments:
        contacts = contacts_by_establishment.get(unit["establishment_id"], [])
        verified = [c for c in contacts if c["verified_on"] is not None]
        recipients = [
            Recipient(email=c["email"], name=_contact_name(c)) for c in (verified or contacts)
        ]
        seen_users: set[int] = set()
        for user in users_by_et.get(unit["finess"], []) + users_by_ej.get(
            unit["legal_entity_finess"], []
        ):
            if user.pk not in seen_users:
                seen_users.add(user.pk)
                recipients.append(Recipient(user=user))
        result[unit["pk"]] = recipients
    for unit in professionals:
        if (claimant := claimants.get(unit["national_id"])) is not None:
            result[unit["pk"]] = [Recipient(user=claimant)]
    return result


def units_without_recipients(unit_ids: Iterable[int]) -> list[ReportingUnit]:
    """The units of ``unit_ids`` that nobody would be told about (no active contact, no
    respondent, no verified claim), by label: listed to curators and before sending."""
    empty = [pk for pk, found in recipients_for_units(unit_ids).items() if not found]
    return list(ReportingUnit.objects.filter(pk__in=empty).order_by("label", "pk"))


def establishments_nobody_answers(
    establishments: QuerySet[Establishment],
) -> QuerySet[Establishment]:
    """``establishments`` narrowed to those nobody would be told about: no active functional
    contact, no active respondent of the establishment, none of its legal entity. Still a
    queryset (one query to count it, one to group it, one per page)."""
    respondents = Membership.objects.filter(
        role=Role.RESPONDENT, user__is_active=True, organisation__is_active=True
    )
    return establishments.filter(
        ~Exists(FunctionalContact.objects.filter(establishment=OuterRef("pk"), is_active=True)),
        ~Exists(
            respondents.filter(
                organisation__kind=Organisation.Kind.ESTABLISHMENT,
                organisation__finess=OuterRef("finess"),
            )
        ),
        ~Exists(
            respondents.filter(
                organisation__kind=Organisation.Kind.LEGAL_ENTITY,
                organisation__finess=OuterRef("legal_entity__finess"),
            )
        ),
    )


def establishments_without_recipients(
    establishments: QuerySet[Establishment], *, limit: int = 100
) -> tuple[int, list[Establishment]]:
    """Among ``establishments`` (a queryset: an audience before it is sent), those nobody
    would be told about (``establishments_nobody_answers``). Returns (how many, the first
    ``limit`` by name). Two queries."""
    queryset = establishments_nobody_answers(establishments.order_by())
    count = queryset.count()
    return count, list(queryset.order_by("name", "pk")[:limit]) if count else []
