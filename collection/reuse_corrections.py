"""Correcting a value served to other campaigns, and telling the campaigns that read it.

A served value is shared: the campaign that wrote it and every campaign that reuses it read
the same row. A correction is one revision of that row (``values.value_correct``); the
requesters of those campaigns are told, once per person and per day.
"""

from typing import Any

from django.db import transaction
from django.urls import reverse

from accounts.models import Membership, Role, User
from collection import values
from collection.models import Channel, Value
from notifications.services import Recipient, notify
from referentials.validation import DefinitionSpec
from surveys.models import Assignment, AudienceMember, Campaign, CampaignReuse

TEMPLATE = "collection/emails/value_corrected"


def readers_of(value: Value) -> list[Campaign]:
    """The campaigns that read this value: the one that wrote it, and those that reuse its
    definition for a unit of their audience (from that campaign or from the store)."""
    if value.definition_id is None:
        reusing: list[int] = []
    else:
        reusing = list(
            CampaignReuse.objects.filter(
                definition_id=value.definition_id,
                campaign__in=AudienceMember.objects.filter(unit_id=value.unit_id).values(
                    "campaign_id"
                ),
            ).values_list("campaign_id", flat=True)
        )
    ids = set(reusing) | ({value.campaign_id} if value.campaign_id else set())
    return list(Campaign.objects.filter(pk__in=ids).select_related("owner").order_by("pk"))


def _shown(spec: DefinitionSpec | None, data: Any) -> str:
    if data is None:
        return "(vide)"
    return values.display(spec, data) if spec is not None else str(data)


def served_value_correct(
    *,
    value: Value,
    raw: str,
    comment: str,
    user: User,
    label: str,
    assignment: Assignment | None = None,
) -> Value:
    """Correct a shared value and notify the requesters of every campaign that reads it.

    ``assignment``: the corrector's request the value is served to; it must still take answers,
    and the value's own period must not be locked (``values.value_correct`` refuses, in French).
    """
    with transaction.atomic():
        corrected = values.value_correct(
            value=value,
            raw=raw,
            comment=comment,
            user=user,
            channel=Channel.FORM,
            assignment=assignment,
        )
        campaigns = readers_of(corrected)
        spec = values.value_spec(corrected)
        owners = {c.owner_id for c in campaigns}
        requesters = (
            Membership.objects.filter(
                organisation_id__in=owners, role=Role.REQUESTER, user__is_active=True
            )
            .exclude(user=user)
            .select_related("user")
            .order_by("user__email")
        )
        recipients = list({m.user_id: Recipient(user=m.user) for m in requesters}.values())
        if recipients:
            notify(
                kind="value_corrected",
                recipients=recipients,
                subject=f"Valeur corrigée : {label} — {corrected.unit.label}",
                template=TEMPLATE,
                context={
                    "label": label,
                    "unit": corrected.unit.label,
                    "period": corrected.period_key,
                    "old": _shown(spec, value.data),
                    "new": _shown(spec, corrected.data),
                    "comment": corrected.comment,
                    "who": user.get_full_name() or user.email,
                    "campaigns": [c.title for c in campaigns],
                },
                link=reverse("collection:value_history", kwargs={"pk": corrected.pk}),
                about={"value": corrected.pk, "campaigns": [c.pk for c in campaigns]},
                # Once per recipient and per day for this value, however often it is corrected.
                dedup_subject=f"value-corrected-{corrected.pk}",
            )
    return corrected
