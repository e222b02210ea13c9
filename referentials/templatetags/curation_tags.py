"""``{% can_curate user establishment as allowed %}``: links only for those the views let in."""

from typing import Any

from django import template

from referentials import curation
from referentials.models import Establishment

register = template.Library()


@register.simple_tag
def can_curate(user: Any, establishment: Establishment) -> bool:
    return curation.can_curate(user=user, establishment=establishment)


@register.simple_tag
def can_propose(user: Any, establishment: Establishment) -> bool:
    return curation.can_propose(user=user, establishment=establishment)


@register.simple_tag
def pending_proposals(establishment: Establishment) -> int:
    return establishment.proposals.filter(status="pending").count()
