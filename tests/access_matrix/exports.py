"""Exports and open data: requesters and viewers who read the campaign; files are their
requester's only."""

from tests.access_matrix.common import LOGGED_IN, REQUESTERS, only


def _campaign(cast):
    """A DGOS campaign asked of a Paris and a Pointe-à-Pitre site (both ARS read a part)."""
    from tests.collection.exports_world import world

    if not hasattr(cast, "exports_world"):
        cast.exports_world = world(cast)  # one world per cast: several URLs use it
    return {"pk": cast.exports_world.campaign.pk}


def _export(cast):
    """A file built for the national requester, of a campaign they still read."""
    import datetime as dt

    from django.core.files.base import ContentFile
    from django.utils import timezone

    from collection.models import Export

    _campaign(cast)
    export = Export.objects.create(
        kind="values_long",
        format="csv",
        campaign=cast.exports_world.campaign,
        requested_by=cast.national_requester,
        status="ready",
        created_at=timezone.now(),
        finished_at=timezone.now(),
        expires_at=timezone.now() + dt.timedelta(days=7),
    )
    export.file.save("valeurs.csv", ContentFile(b"\xef\xbb\xbfFINESS\r\n"))
    return {"pk": export.pk}


NOT_REQUESTERS = {role: 403 for role in LOGGED_IN if role not in REQUESTERS}

EXPECTED = {
    "collection:export_create": (_campaign, only(REQUESTERS)),
    "collection:export_list": (None, only(REQUESTERS)),
    "collection:export_download": (
        _export,
        only(["national_requester"], otherwise=404),
    ),
    # An ARS reads its part of a national campaign, but does not publish its open data.
    "collection:open_data": (_campaign, {**only(["national_requester"]), **NOT_REQUESTERS}),
}
