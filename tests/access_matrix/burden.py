"""The burden of collection and « Mes données » (collection:burden, collection:my_data).

The burden page is for every member of an organisation and every professional, each seeing
their own scope; « Mes données » for those who answer.
"""

from tests.access_matrix.common import LOGGED_IN, RESPONDENTS, only

EXPECTED = {
    "collection:burden": (None, only([r for r in LOGGED_IN if r != "outsider"])),
    "collection:my_data": (None, only(RESPONDENTS)),
}
