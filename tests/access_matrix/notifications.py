"""The notification centre: every logged-in user has their own; anonymous goes to log in."""

from tests.access_matrix.common import LOGGED_IN, everyone, only

POST_ONLY = {**everyone(405), "anonymous": 302}

EXPECTED = {
    "notifications:inbox": (None, only(LOGGED_IN)),
    "notifications:preferences": (None, only(LOGGED_IN)),
    # Actions are POSTs: a GET is refused for everyone logged in.
    "notifications:read": (lambda c: {"pk": 1}, POST_ONLY),
    "notifications:read_all": (None, POST_ONLY),
}
