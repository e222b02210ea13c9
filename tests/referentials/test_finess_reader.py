"""The streaming reader of FINESS etalab extracts (501, 502, 507) on the real excerpts."""

import io
from datetime import date
from pathlib import Path
from typing import Any, BinaryIO, cast

import pytest

from referentials.finess import (
    EstablishmentRecord,
    FinessExtract,
    FinessFormatError,
    FinessRecord,
    GeolocationRecord,
    LegalEntityRecord,
    read_extract,
    read_structureet,
)
from referentials.sources import Source

SHIPPED = Path(__file__).resolve().parents[2] / "referentials" / "data"
TEST_DATA = Path(__file__).resolve().parent / "data"
MAY_2026 = SHIPPED / "etalab-cs1100502-excerpt-20260512.csv"
JANUARY_2026 = SHIPPED / "finess-light-20260107-repaired.csv"
GEOLOCATION = TEST_DATA / "etalab-cs1100507-geolocalisation-excerpt.csv"
DAMAGED = TEST_DATA / "finess-light-20260107-excel-damaged.csv"


def read_all(source: Source) -> tuple[FinessExtract, list[Any]]:
    with read_extract(source) as extract:
        records = list(extract)
    return extract, records


def by_finess(records: list[FinessRecord]) -> dict[str, Any]:
    return {record.finess: record for record in records}


def rewritten(tmp_path: Path, lines: list[str], name: str = "extract.csv") -> Path:
    path = tmp_path / name
    path.write_bytes("".join(lines).encode("utf-8"))
    return path


def may_lines() -> list[str]:
    return MAY_2026.read_text(encoding="utf-8").splitlines(keepends=True)


class CountingStream(io.RawIOBase):
    """A non-seekable binary stream that counts the bytes handed out."""

    def __init__(self, data: bytes) -> None:
        self._data = io.BytesIO(data)
        self.bytes_read = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        chunk = self._data.read(len(buffer))
        buffer[: len(chunk)] = chunk
        self.bytes_read += len(chunk)
        return len(chunk)


def test_the_may_2026_extract_gives_its_date_announced_count_and_14_establishments() -> None:
    extract, records = read_all(MAY_2026)
    assert extract.extract_date == date(2026, 5, 12)
    assert extract.announced_count == 111
    assert extract.encoding == "utf-8"
    assert len(records) == 14
    assert all(isinstance(record, EstablishmentRecord) for record in records)
    assert extract.counts == {"structureet": 14}
    assert extract.errors == []


def test_identifiers_stay_strings_with_their_leading_zeros() -> None:
    _, records = read_all(MAY_2026)
    ain = by_finess(records)["010000024"]
    assert ain.legal_entity_finess == "010780054"
    assert ain.siret == "26010004500012"
    assert ain.commune_code == "451"
    assert ain.finess_department == "01"
    assert (ain.postcode, ain.city) == ("01440", "VIRIAT")
    assert ain.territory_code == "01"
    assert ain.line == 2


def test_saint_barthelemy_and_saint_martin_under_9a_get_their_own_territories() -> None:
    _, records = read_all(MAY_2026)
    establishments = by_finess(records)
    assert establishments["970102018"].finess_department == "9A"
    assert establishments["970102018"].territory_code == "977"
    assert establishments["970100400"].territory_code == "978"
    assert establishments["970102059"].territory_code == "978"
    assert establishments["970210126"].territory_code == "972"
    assert establishments["970300026"].territory_code == "973"
    assert establishments["970400024"].territory_code == "974"
    assert establishments["980501506"].territory_code == "976"
    assert establishments["980600027"].territory_code == "986"


def test_doubled_quotes_are_read_as_one_quote() -> None:
    _, records = read_all(MAY_2026)
    mavouna = by_finess(records)["980501506"]
    assert mavouna.name == 'LIEU DE VIE "MAVOUNA MEMA 1"'
    assert mavouna.long_name == 'LIEU DE VIE ET D\'ACCUEIL "MAVOUNA MEMA 1"'


def test_placeholder_dates_mean_unknown_and_real_dates_are_dates() -> None:
    _, records = read_all(MAY_2026)
    cayenne = by_finess(records)["970300026"]
    assert cayenne.opened_on is None  # 1904-04-04
    assert cayenne.authorised_on == date(1998, 4, 29)
    assert cayenne.updated_on == date(2024, 4, 22)
    _, january = read_all(JANUARY_2026)
    bugey = by_finess(january)["010000032"]
    assert (bugey.opened_on, bugey.authorised_on) == (None, None)  # 1901-01-01


def test_the_trailing_separator_is_no_column_and_its_absence_changes_nothing(
    tmp_path: Path,
) -> None:
    _, records = read_all(MAY_2026)
    assert all(record.uai == "" for record in records)
    without = [line.rstrip("\r\n").removesuffix(";") + "\n" for line in may_lines()]
    extract, again = read_all(rewritten(tmp_path, without))
    assert again == records
    assert extract.errors == []


def test_a_cp1252_extract_is_detected_and_gives_the_same_records(tmp_path: Path) -> None:
    _, records = read_all(MAY_2026)
    path = tmp_path / "etalab-cs1100502-cp1252.csv"
    path.write_bytes(MAY_2026.read_text(encoding="utf-8").encode("cp1252"))
    extract, again = read_all(path)
    assert extract.encoding == "cp1252"
    assert again == records
    assert by_finess(again)["970302287"].aggregate_category_label == (
        "Etablissements d'Hébergement pour Personnes Âgées"
    )


def test_a_utf8_file_with_one_cp1252_line_after_the_sniffed_prefix_is_still_read(
    tmp_path: Path,
) -> None:
    lines = may_lines()
    filler = [lines[1]] * 400  # pushes the last line past the 64 KB sniffed
    data = "".join([lines[0], *filler]).encode("utf-8") + lines[-1].encode("cp1252")
    path = tmp_path / "mixed.csv"
    path.write_bytes(data)
    extract, records = read_all(path)
    assert extract.encoding == "utf-8"
    assert len(records) == 401
    assert records[-1].name == "ALEFPA S.M.J.P.M"
    assert records[-1].pricing_label == "Indéterminé"


def test_the_january_extract_reads_corsica_saint_pierre_and_wallis_without_numuai() -> None:
    extract, records = read_all(JANUARY_2026)
    assert extract.extract_date == date(2026, 1, 7)
    assert len(records) == 48
    assert extract.errors == []
    territories = {record.finess_department: record.territory_code for record in records}
    assert territories["2A"] == "2A"
    assert territories["2B"] == "2B"
    assert territories["9E"] == "975"
    assert territories["9F"] == "976"
    assert territories["9J"] == "986"
    assert all(record.uai == "" for record in records)


def test_a_corrupted_check_digit_is_reported_with_its_line_and_the_file_goes_on(
    tmp_path: Path,
) -> None:
    lines = may_lines()
    lines[2] = lines[2].replace("structureet;970102018;", "structureet;970102019;")
    extract, records = read_all(rewritten(tmp_path, lines))
    assert len(records) == 13
    assert "970102019" not in by_finess(records)
    [error] = extract.errors
    assert (error.line, error.field) == (3, "nofinesset")
    assert "970102019" in error.message
    assert "clé de contrôle" in error.message
    assert str(error).startswith("extract.csv, ligne 3, champ « nofinesset » : ")


def test_a_bad_legal_entity_number_is_reported_on_its_own_field(tmp_path: Path) -> None:
    lines = may_lines()
    lines[5] = lines[5].replace(";970210118;", ";970210117;")
    extract, records = read_all(rewritten(tmp_path, lines))
    assert len(records) == 13
    assert [(e.line, e.field) for e in extract.errors] == [(6, "nofinessej")]


def test_a_truncated_row_is_reported_with_its_line_and_the_next_rows_are_read(
    tmp_path: Path,
) -> None:
    lines = may_lines()
    lines[3] = lines[3][:150] + "\n"
    extract, records = read_all(rewritten(tmp_path, lines))
    assert len(records) == 13
    assert records[-1].finess == "970216057"
    [error] = extract.errors
    assert error.line == 4
    assert "tronqué" in error.message
    assert "ligne ignorée" in error.message


def test_a_truncated_last_line_of_a_cut_download_is_reported(tmp_path: Path) -> None:
    data = MAY_2026.read_bytes()
    path = tmp_path / "cut.csv"
    path.write_bytes(data[: len(data) - 200])
    extract, records = read_all(path)
    assert len(records) == 13
    assert [error.line for error in extract.errors] == [15]


def test_an_unclosed_quote_is_reported_with_the_lines_it_swallowed(tmp_path: Path) -> None:
    lines = may_lines()
    lines[3] = lines[3].replace(";C.H. LOUIS", ';"C.H. LOUIS')  # closes on line 11's quote
    extract, records = read_all(rewritten(tmp_path, lines))
    assert [record.line for record in records] == [2, 3, 12, 13, 14, 15]
    [error] = extract.errors
    assert error.line == 4
    assert "lignes 4 à 11" in error.message
    assert "guillemet" in error.message


def test_windows_line_endings_give_the_same_records_and_line_numbers(tmp_path: Path) -> None:
    _, records = read_all(MAY_2026)
    crlf = [line.replace("\n", "\r\n") for line in may_lines()]
    extract, again = read_all(rewritten(tmp_path, crlf))
    assert again == records
    assert extract.errors == []


def test_an_unreadable_date_and_an_unknown_department_are_reported_by_field(tmp_path: Path) -> None:
    lines = may_lines()
    lines[1] = lines[1].replace(";1979-02-13;1979-02-13;", ";13/02/1979;1979-02-13;")
    lines[2] = lines[2].replace(";9A;GUADELOUPE;", ";9Z;GUADELOUPE;")
    extract, records = read_all(rewritten(tmp_path, lines))
    assert len(records) == 13
    assert by_finess(records)["010000024"].opened_on is None
    assert [(e.line, e.field) for e in extract.errors] == [(2, "dateouv"), (3, "departement")]
    assert "tableur" in extract.errors[0].message


def test_a_spreadsheet_damaged_extract_is_refused_at_its_first_line() -> None:
    with pytest.raises(FinessFormatError, match=r"ligne 1 : .*tableur.*téléchargez à nouveau"):
        read_extract(DAMAGED)


def test_spreadsheet_damaged_rows_say_the_leading_zero_was_lost(tmp_path: Path) -> None:
    lines = DAMAGED.read_text(encoding="utf-8").splitlines(keepends=True)
    lines[0] = "finess;etalab;93;2026-01-07\n"
    extract, records = read_all(rewritten(tmp_path, lines))
    first = extract.errors[0]
    assert (first.line, first.field) == (2, "nofinesset")
    assert "zéro initial" in first.message
    assert len(records) == 34  # the 14 Ain and Aisne rows lost their leading zero
    assert all(record.siret == "" for record in records)
    assert any(e.field == "siret" and "2,62E+13" in e.message for e in extract.errors)


def test_a_file_that_is_no_finess_extract_is_refused_with_what_was_found(tmp_path: Path) -> None:
    path = tmp_path / "autre.csv"
    path.write_text("nofinesset;nofinessej;rs\n010000024;010780054;CH\n", encoding="utf-8")
    with pytest.raises(FinessFormatError, match=r"autre\.csv, ligne 1 : .*nofinesset;nofinessej"):
        read_extract(path)


def test_an_extract_507_gives_establishments_then_their_raw_coordinates(tmp_path: Path) -> None:
    establishments = may_lines()
    geolocation = GEOLOCATION.read_text(encoding="utf-8").splitlines()
    path = rewritten(tmp_path, [*establishments, *(line + "\n" for line in geolocation)])
    extract, records = read_all(path)
    assert extract.counts == {"structureet": 14, "geolocalisation": 2}
    assert extract.errors == []
    mainland, antilles = [r for r in records if isinstance(r, GeolocationRecord)]
    assert mainland.finess == "010000024"
    assert (mainland.x, mainland.y) == (870262.2, 6571540.8)
    assert mainland.crs == "EPSG:2154"
    assert mainland.crs_label == "RGF93 / Lambert-93 (Métropole)"
    assert mainland.updated_on == date(2026, 5, 4)
    assert mainland.line == 16
    assert antilles.crs == "EPSG:5490"
    assert "UTM Zone 20N" in antilles.crs_label
    assert (antilles.x, antilles.y) == (657242.9, 1795384.4)
    assert antilles.source == "2,ATLASANTE,96,BAN,EPSG:5490 RGAF09/UTM Zone 20N (Antilles)"


def test_an_extract_501_line_is_read_in_the_notice_column_order(tmp_path: Path) -> None:
    # No real 501 row was at hand: this line carries the real values of Clinique Convert
    # (FiNESS+ excerpt) in the order of the ministry's notice for file 501.
    line = (
        "structureej;010000156;CLINIQUE CONVERT;CLINIQUE CONVERT;;62;AV;DE JASSERON;;;BP 132;"
        "053;01000 BOURG EN BRESSE;01;AIN;0428631234;73;Société Anonyme (S.A.);;;772201489;"
        "8610Z;2001-01-01;\n"
    )
    extract, records = read_all(rewritten(tmp_path, ["finess;etalab;1;2026-05-12\n", line]))
    assert extract.errors == []
    [entity] = records
    assert isinstance(entity, LegalEntityRecord)
    assert entity.finess == "010000156"
    assert (entity.street_number, entity.street_type, entity.street) == ("62", "AV", "DE JASSERON")
    assert entity.locality == "BP 132"
    assert (entity.postcode, entity.city, entity.finess_department) == (
        "01000",
        "BOURG EN BRESSE",
        "01",
    )
    assert entity.territory_code == "01"
    assert (entity.legal_status_code, entity.siren) == ("73", "772201489")
    assert entity.created_on == date(2001, 1, 1)


def test_an_unknown_record_type_is_reported_and_skipped(tmp_path: Path) -> None:
    lines = may_lines()
    lines.insert(2, "structurexx;1;2;3\n")
    extract, records = read_all(rewritten(tmp_path, lines))
    assert len(records) == 14
    assert [(e.line, e.field) for e in extract.errors] == [(3, "")]
    assert "structurexx" in extract.errors[0].message


def test_a_binary_stream_is_read_without_being_loaded_whole() -> None:
    lines = may_lines()
    data = (lines[0] + "".join(lines[1:]) * 2000).encode("utf-8")  # about 10 MB, 28,000 rows
    stream = CountingStream(data)
    extract = read_extract(cast(BinaryIO, stream))
    first = next(iter(extract))
    assert first.finess == "010000024"
    assert stream.bytes_read < 512 * 1024
    assert sum(1 for _ in extract) == 28_000 - 1
    assert stream.bytes_read == len(data)


def test_the_first_reader_of_structureet_rows_still_works() -> None:
    header, stream = read_structureet(MAY_2026)
    assert (header.kind, header.record_count, header.extract_date) == ("etalab", 111, "2026-05-12")
    rows = list(stream)
    assert len(rows) == 14
    assert rows[0]["nofinesset"] == "010000024"


def test_a_file_opened_in_text_mode_is_refused_with_a_hint() -> None:
    with MAY_2026.open(encoding="utf-8") as handle, pytest.raises(TypeError, match="binaire"):
        read_extract(handle)  # type: ignore[arg-type]
