"""Check digits of FINESS, RPPS and ADELI numbers, verified on every number of the real excerpts."""

import csv
import json
from pathlib import Path

import pytest

from referentials.identifiers import (
    adeli_is_valid,
    finess_is_valid,
    luhn_is_valid,
    rpps_is_valid,
    siren_is_valid,
    siret_is_valid,
)

SHIPPED = Path(__file__).resolve().parents[2] / "referentials" / "data"
TEST_DATA = Path(__file__).resolve().parent / "data"


def etalab_numbers(path: Path) -> list[str]:
    """Every ET and EJ number of an etalab extract, read with the plain csv module."""
    numbers = []
    with path.open(encoding="utf-8", newline="") as handle:
        for row in csv.reader(handle, delimiter=";"):
            if row[0] == "structureet":
                numbers += [row[1], row[2]]
            elif row[0] == "geolocalisation":
                numbers.append(row[1])
    return numbers


def with_wrong_check_digit(number: str) -> str:
    return number[:-1] + str((int(number[-1]) + 1) % 10)


@pytest.mark.parametrize("number", ["010000024", "2A0000030", "970102018"])
def test_the_documented_finess_examples_are_valid(number: str) -> None:
    assert finess_is_valid(number)


def test_corsica_letters_are_read_as_21_and_22() -> None:
    assert finess_is_valid("2A0000030")
    assert not luhn_is_valid("2A0000030")
    assert luhn_is_valid("210000030")
    assert not finess_is_valid("2B0000030")


@pytest.mark.parametrize(
    "number",
    [
        "010000025",
        "10000024",
        "0100000240",
        "",
        "2a0000030",
        "01000002A",
        "01 000024",
        "\uff1010000024",  # a full-width zero
    ],
)
def test_a_finess_number_with_a_wrong_key_length_or_character_is_invalid(number: str) -> None:
    assert not finess_is_valid(number)


def test_every_et_and_ej_number_of_the_may_2026_extract_is_valid() -> None:
    numbers = etalab_numbers(SHIPPED / "etalab-cs1100502-excerpt-20260512.csv")
    assert len(numbers) == 28
    assert [n for n in numbers if not finess_is_valid(n)] == []


def test_every_et_and_ej_number_of_the_january_2026_extract_is_valid_corsica_included() -> None:
    numbers = etalab_numbers(SHIPPED / "finess-light-20260107-repaired.csv")
    assert len(numbers) == 96
    assert any(n.startswith("2A") for n in numbers)
    assert any(n.startswith("2B") for n in numbers)
    assert [n for n in numbers if not finess_is_valid(n)] == []


def test_every_geolocated_establishment_number_is_valid() -> None:
    numbers = etalab_numbers(TEST_DATA / "etalab-cs1100507-geolocalisation-excerpt.csv")
    assert numbers == ["010000024", "970100012"]
    assert all(finess_is_valid(n) for n in numbers)


def test_every_finess_plus_number_and_siren_siret_is_valid() -> None:
    document = json.loads((TEST_DATA / "finess-plus-structures-excerpt-20260309.json").read_text())
    for entity in document["pmej"]:
        general = entity["informationsGeneralesPMEJ"]
        assert finess_is_valid(general["numFinessPm"])
        assert siren_is_valid(general["siren"])
        for site in entity["ege"]:
            assert finess_is_valid(site["informationsGeneralesEGE"]["numFinessEge"])
            assert siret_is_valid(site["informationsGeneralesEGE"]["siret"])


def test_a_number_that_lost_its_leading_zero_in_a_spreadsheet_is_invalid_until_padded() -> None:
    numbers = etalab_numbers(TEST_DATA / "finess-light-20260107-excel-damaged.csv")
    damaged = [n for n in numbers if not finess_is_valid(n)]
    assert damaged and all(len(n) == 8 for n in damaged)
    assert all(finess_is_valid(n.zfill(9)) for n in damaged)


def test_a_wrong_check_digit_is_caught_on_every_real_finess_number() -> None:
    numbers = etalab_numbers(SHIPPED / "finess-light-20260107-repaired.csv")
    assert not any(finess_is_valid(with_wrong_check_digit(n)) for n in numbers)


def test_the_rpps_and_adeli_numbers_of_the_excerpt_are_valid_and_of_the_right_kind() -> None:
    path = TEST_DATA / "rpps-personne-activite-52cols-anonymised.txt"
    with path.open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.reader(handle, delimiter="|"))[1:]
    rpps = [row[1] for row in rows if row[0] == "8"]
    adeli = [row[1] for row in rows if row[0] == "0"]
    assert rpps == ["10526018154", "10131860917"]
    assert adeli == ["908301666", "390996031"]
    assert all(rpps_is_valid(n) and not adeli_is_valid(n) for n in rpps)
    assert all(adeli_is_valid(n) and not rpps_is_valid(n) for n in adeli)


@pytest.mark.parametrize("number", ["10526018155", "1052601815", "105260181540", "1052601815A"])
def test_an_rpps_number_with_a_wrong_key_or_length_is_invalid(number: str) -> None:
    assert not rpps_is_valid(number)


@pytest.mark.parametrize("number", ["908301667", "90830166", "9083016660"])
def test_an_adeli_number_with_a_wrong_key_or_length_is_invalid(number: str) -> None:
    assert not adeli_is_valid(number)


def test_siret_follows_luhn_except_la_poste() -> None:
    assert siret_is_valid("26010004500012")
    assert not siret_is_valid("26010004500013")
    assert not siret_is_valid("2,601E+13")
    assert siret_is_valid("35600000000001")  # La Poste's own rule: digit sum divisible by 5
    assert not siret_is_valid("35600000000002")
