"""The RPPS reader: columns by header name (52 and 56 columns), Luhn, only needed data kept."""

import dataclasses
import random
from pathlib import Path

import pytest

from referentials.rpps import (
    Activity,
    Practitioner,
    RppsExtract,
    RppsFormatError,
    RppsLine,
    group_by_practitioner,
    read_rpps,
)
from referentials.sources import Source

DATA = Path(__file__).resolve().parent / "data"
LAYOUT_52 = DATA / "rpps-personne-activite-52cols-anonymised.txt"
HEADER_56 = DATA / "rpps-personne-activite-header-56cols-2026.txt"


def read_all(source: Source) -> tuple[RppsExtract, list[RppsLine]]:
    with read_rpps(source) as extract:
        lines = list(extract)
    return extract, lines


def rows_52() -> list[list[str]]:
    """The header and rows of the 52-column excerpt, trailing separator removed."""
    text = LAYOUT_52.read_text(encoding="utf-8-sig")
    return [line.removesuffix("|").split("|") for line in text.splitlines()]


def write_rows(
    path: Path, rows: list[list[str]], *, bom: bool = False, trailing: bool = True
) -> Path:
    end = "|\n" if trailing else "\n"
    text = "".join("|".join(row) + end for row in rows)
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + text.encode("utf-8"))
    return path


def layout_56(tmp_path: Path) -> Path:
    """The four rows under the 2026 header: the 4 new columns (fonction, genre) left empty."""
    header = HEADER_56.read_text(encoding="utf-8-sig").strip().removesuffix("|").split("|")
    assert len(header) == 56
    return write_rows(tmp_path / "rpps-56.txt", [header] + [r + [""] * 4 for r in rows_52()[1:]])


def test_the_52_column_excerpt_gives_four_lines_two_rpps_and_two_adeli() -> None:
    extract, lines = read_all(LAYOUT_52)
    assert extract.width == 52
    assert len(lines) == 4
    assert extract.counts == {"8": 2, "0": 2}
    assert extract.errors == []
    assert [line.line for line in lines] == [2, 3, 4, 5]


def test_a_practitioner_keeps_identity_profession_and_title() -> None:
    _, lines = read_all(LAYOUT_52)
    doctor = lines[0].practitioner
    assert doctor == Practitioner(
        national_id="810526018154",
        identifier_type="8",
        identifier="10526018154",
        title_code="DR",
        title_label="Docteur",
        civility_code="M",
        civility_label="Monsieur",
        last_name="MARTIN",
        first_name="CLAIRE",
        profession_code="10",
        profession_label="Médecin",
    )
    assert doctor.rpps == "10526018154"
    adeli = lines[1].practitioner
    assert (adeli.national_id, adeli.rpps, adeli.title_code) == ("0908301666", "", "")


def test_an_activity_keeps_specialty_mode_structure_and_place() -> None:
    _, lines = read_all(LAYOUT_52)
    assert lines[0].activity == Activity(
        skill_type_code="S",
        skill_type_label="Spécialité ordinale",
        skill_code="SM53",
        skill_label="Spécialiste en Médecine Générale",
        practice_mode_code="S",
        practice_mode_label="Salarié",
        siret="26250462400012",
        finess_site="250000700",
        finess_legal_entity="250000452",
        structure_id="F250000700",
        postcode="25304",
        commune_code="25462",
        department_code="25",  # empty in the file: taken from the INSEE commune code
    )
    liberal = lines[3].activity
    assert (liberal.practice_mode_code, liberal.practice_mode_label) == ("L", "Libéral")
    assert (liberal.postcode, liberal.commune_code, liberal.department_code) == ("75015", "", "")
    abroad = lines[2].activity
    assert (abroad.postcode, abroad.department_code) == ("GL", "")


def test_contact_details_and_addresses_are_not_kept() -> None:
    _, lines = read_all(LAYOUT_52)
    kept = repr(lines)
    for personal in ["contact@chi-hautecomte.fr", "0381385454", "SAINT ETIENNE", "VIOLET"]:
        assert personal not in kept
    names = {field.name for cls in (Practitioner, Activity) for field in dataclasses.fields(cls)}
    assert not names & {"phone", "email", "street", "address"}


def test_the_2026_layout_with_56_columns_gives_the_same_records(tmp_path: Path) -> None:
    _, lines = read_all(LAYOUT_52)
    extract, again = read_all(layout_56(tmp_path))
    assert extract.width == 56
    assert extract.errors == []
    assert [(x.practitioner, x.activity) for x in again] == [
        (x.practitioner, x.activity) for x in lines
    ]


def test_columns_are_found_by_name_whatever_their_order(tmp_path: Path) -> None:
    _, lines = read_all(LAYOUT_52)
    rows = rows_52()
    order = list(range(52))
    random.Random(7).shuffle(order)
    shuffled = [[row[i] for i in order] for row in rows]
    _, again = read_all(write_rows(tmp_path / "shuffled.txt", shuffled))
    assert again == lines


def test_a_byte_order_mark_and_a_missing_trailing_separator_change_nothing(tmp_path: Path) -> None:
    _, lines = read_all(LAYOUT_52)
    path = write_rows(tmp_path / "bom.txt", rows_52(), bom=True, trailing=False)
    extract, again = read_all(path)
    assert extract.encoding == "utf-8-sig"
    assert again == lines


def test_a_cp1252_extract_is_read_too(tmp_path: Path) -> None:
    _, lines = read_all(LAYOUT_52)
    path = tmp_path / "cp1252.txt"
    path.write_bytes(LAYOUT_52.read_text(encoding="utf-8").encode("cp1252"))
    extract, again = read_all(path)
    assert extract.encoding == "cp1252"
    assert again == lines


def test_a_wrong_rpps_check_digit_is_reported_with_line_and_column(tmp_path: Path) -> None:
    rows = rows_52()
    rows[3][1], rows[3][2] = "10131860918", "810131860918"
    extract, lines = read_all(write_rows(tmp_path / "rpps.txt", rows))
    assert len(lines) == 3
    [error] = extract.errors
    assert (error.line, error.field) == (4, "Identifiant PP")
    assert "10131860918" in error.message
    assert str(error).startswith("rpps.txt, ligne 4, champ « Identifiant PP » : numéro RPPS")


def test_a_national_id_that_does_not_match_the_number_is_reported(tmp_path: Path) -> None:
    rows = rows_52()
    rows[2][2] = "0908301667"
    extract, lines = read_all(write_rows(tmp_path / "rpps.txt", rows))
    assert len(lines) == 3
    assert [(e.line, e.field) for e in extract.errors] == [(3, "Identification nationale PP")]


def test_a_bad_finess_site_is_reported_and_blanked_but_the_line_kept(tmp_path: Path) -> None:
    rows = rows_52()
    rows[1][21] = "250000701"
    extract, lines = read_all(write_rows(tmp_path / "rpps.txt", rows))
    assert len(lines) == 4
    assert lines[0].activity.finess_site == ""
    assert [(e.line, e.field) for e in extract.errors] == [(2, "Numéro FINESS site")]


def test_a_truncated_line_is_reported_and_the_next_ones_read(tmp_path: Path) -> None:
    rows = rows_52()
    rows[2] = rows[2][:20]
    extract, lines = read_all(write_rows(tmp_path / "rpps.txt", rows))
    assert [line.line for line in lines] == [2, 4, 5]
    [error] = extract.errors
    assert error.line == 3
    assert "tronquée" in error.message


def test_a_file_without_the_identity_columns_is_refused_with_what_was_found(tmp_path: Path) -> None:
    path = tmp_path / "autre.txt"
    path.write_text("Nom|Prénom|\nMARTIN|CLAIRE|\n", encoding="utf-8")
    with pytest.raises(RppsFormatError, match=r"autre\.txt, ligne 1 : .*identifiant pp"):
        read_rpps(path)


def test_lines_of_one_professional_are_grouped_with_their_activities(tmp_path: Path) -> None:
    rows = rows_52()
    second_site = list(rows[1])
    second_site[18], second_site[19] = "Libéral", ""
    second_site[17] = "L"
    rows.insert(2, second_site)
    _, lines = read_all(write_rows(tmp_path / "rpps.txt", rows))
    groups = list(group_by_practitioner(lines))
    assert [group.practitioner.national_id for group in groups] == [
        "810526018154",
        "0908301666",
        "810131860917",
        "0390996031",
    ]
    modes = [activity.practice_mode_code for activity in groups[0].activities]
    assert modes == ["S", "L"]
