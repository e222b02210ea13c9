"""Ad-hoc questions grouped for curators (surveys.adhoc_groups): curators only."""

from tests.access_matrix.common import only

EXPECTED = {
    "surveys:adhoc_candidates": (None, only(["curator"])),
}
