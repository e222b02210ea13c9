"""The respondents' inbox (collection:inbox)."""

from tests.access_matrix.common import RESPONDENTS, everyone, only

EXPECTED = {
    "collection:inbox": (None, only(RESPONDENTS)),
    # Asking for an exemption is a POST: a GET is refused for everyone logged in.
    "collection:exemption_request": (lambda c: {"pk": 1}, {**everyone(405), "anonymous": 302}),
}
