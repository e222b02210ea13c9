"""The late list of a campaign as an export table (rows from ``collection.followup``)."""

from collections.abc import Iterator

from django.utils import timezone

from collection.exports.access import ExportAccess
from collection.exports.cells import Cell
from collection.exports.rows import Table
from collection.followup import LateRow, late_assignments
from surveys.models import Assignment

LATE_HEADER = [
    "FINESS / RPPS",
    "Nom",
    "Département",
    "Région",
    "Catégorie",
    "Période",
    "Échéance",
    "Jours de retard",
    "État de la demande",
    "Contacts (courriel)",
    "Contacts (téléphone)",
    "Répondants",
]


def _row(late: LateRow, statuses: dict[str, str]) -> list[Cell]:
    return [
        late.identifier,
        late.name,
        late.department,
        late.region,
        late.category,
        late.period_key,
        timezone.localtime(late.due_at).replace(tzinfo=None),
        late.days_late,
        statuses.get(late.status, late.status),
        ", ".join(late.contact_emails),
        ", ".join(late.contact_phones),
        ", ".join(late.respondent_emails),
    ]


def late_table(access: ExportAccess, *, period_key: str | None) -> Table:
    """The late assignments the user may read (the follow-up applies the same scope)."""
    statuses = dict(Assignment.Status.choices)
    cache: list[LateRow] | None = None

    def late() -> list[LateRow]:
        nonlocal cache
        if cache is None:
            cache = late_assignments(
                campaign=access.campaign, user=access.user, period_key=period_key
            )
        return cache

    def rows() -> Iterator[list[Cell]]:
        for row in late():
            yield _row(row, statuses)

    return Table(
        header=LATE_HEADER,
        rows=rows,
        count=lambda: len(late()),
        name=f"retards-campagne-{access.campaign.pk}",
    )
