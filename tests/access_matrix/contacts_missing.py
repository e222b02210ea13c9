"""The curators' list of establishments without any contact: curators only."""

from tests.access_matrix.common import only

EXPECTED = {
    "referentials:curation_without_contacts": (None, only(["curator"])),
}
