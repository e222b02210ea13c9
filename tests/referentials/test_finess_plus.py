"""The FiNESS+ reader (JSON, plain or gzip) on the official example excerpt."""

import gzip
import io
import json
from datetime import date
from pathlib import Path

import pytest

from referentials.finess_plus import (
    FinessPlusFile,
    FinessPlusFormatError,
    LegalEntity,
    read_finess_plus,
)
from referentials.sources import Source

EXCERPT = Path(__file__).resolve().parent / "data" / "finess-plus-structures-excerpt-20260309.json"


def read_all(source: Source) -> tuple[FinessPlusFile, list[LegalEntity]]:
    with read_finess_plus(source) as structures:
        entities = list(structures)
    return structures, entities


def written(tmp_path: Path, document: dict, name: str = "structures.json") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(document, indent=2, ensure_ascii=False), encoding="utf-8")
    return path


def excerpt() -> dict:
    return json.loads(EXCERPT.read_text(encoding="utf-8"))


def test_the_excerpt_gives_its_generation_date_and_two_legal_entities() -> None:
    structures, entities = read_all(EXCERPT)
    assert structures.generated_at == "2026-03-09T15:49:37.615611300Z"
    assert structures.schema_version == "v1.0.0"
    assert structures.compressed is False
    assert [entity.finess for entity in entities] == ["010000016", "010000156"]
    assert structures.counts == {"gcc": 1, "gco": 2, "pmej": 2}
    assert structures.errors == []


def test_a_closed_legal_entity_carries_its_state_and_closing_date() -> None:
    _, (retirement_home, clinic) = read_all(EXCERPT)
    assert retirement_home.state == "I"
    assert retirement_home.closed_on == date(2019, 3, 3)
    assert retirement_home.is_closed
    assert retirement_home.created_on == date(1994, 1, 1)
    assert retirement_home.establishments == ()
    assert clinic.state == "A"
    assert clinic.closed_on is None
    assert not clinic.is_closed


def test_a_legal_entity_comes_with_its_establishments_and_their_addresses() -> None:
    _, (_, clinic) = read_all(EXCERPT)
    assert (clinic.name, clinic.siren, clinic.legal_status_code) == (
        "CLINIQUE CONVERT",
        "772201489",
        "73",
    )
    [site] = clinic.establishments
    assert site.finess == "010780195"
    assert site.siret == "77220148900022"
    assert (site.category_code, site.pricing_code) == ("365", "07")
    assert site.opened_on == date(1956, 11, 16)
    assert site.long_name == "CLINIQUE DOCTEUR CONVERT"
    assert not site.is_closed
    [address] = site.addresses
    assert (address.commune_code, address.postcode, address.locality) == (
        "01053",
        "01000",
        "BP 132",
    )
    assert site.territory_code == "01"
    assert (address.latitude, address.longitude) == (46.211257, 5.254203)
    assert (address.x, address.y) == ("6570414.61", "873766.07")  # as published, not converted


def test_a_gzip_file_is_detected_by_its_magic_bytes_and_read_the_same(tmp_path: Path) -> None:
    _, plain = read_all(EXCERPT)
    path = tmp_path / "structures.json"  # no .gz suffix: the content decides
    path.write_bytes(gzip.compress(EXCERPT.read_bytes()))
    structures, entities = read_all(path)
    assert structures.compressed is True
    assert entities == plain


def test_a_binary_stream_is_read_as_well_as_a_path() -> None:
    _, plain = read_all(EXCERPT)
    _, entities = read_all(io.BytesIO(gzip.compress(EXCERPT.read_bytes())))
    assert entities == plain


def test_a_bad_establishment_number_is_reported_with_its_place_and_the_entity_kept(
    tmp_path: Path,
) -> None:
    document = excerpt()
    document["pmej"][1]["ege"][0]["informationsGeneralesEGE"]["numFinessEge"] = "010780196"
    structures, entities = read_all(written(tmp_path, document))
    assert len(entities) == 2
    assert entities[1].establishments == ()
    [error] = structures.errors
    assert error.field == "pmej[1].ege[0].informationsGeneralesEGE.numFinessEge"
    assert "010780196" in error.message
    assert error.line > 1
    assert str(error).startswith(f"structures.json, ligne {error.line}, champ « pmej[1]")


def test_a_bad_legal_entity_number_drops_that_entity_only(tmp_path: Path) -> None:
    document = excerpt()
    document["pmej"][0]["informationsGeneralesPMEJ"]["numFinessPm"] = "10000016"
    structures, entities = read_all(written(tmp_path, document))
    assert [entity.finess for entity in entities] == ["010000156"]
    assert [error.field for error in structures.errors] == [
        "pmej[0].informationsGeneralesPMEJ.numFinessPm"
    ]


def test_an_active_state_with_a_closing_date_is_reported_and_counts_as_closed(
    tmp_path: Path,
) -> None:
    document = excerpt()
    document["pmej"][0]["etatObjet"] = "A"
    structures, entities = read_all(written(tmp_path, document))
    assert entities[0].is_closed
    [error] = structures.errors
    assert error.field == "pmej[0].etatObjet"
    assert "2019-03-03" in error.message


def test_the_schema_spelling_with_coded_values_is_read_too(tmp_path: Path) -> None:
    document = {
        "gcc": {},
        "pmej": [
            {
                "informationsGeneralesPmej": {
                    "pm_smsseId": "2",
                    "numFinessPm": "010000156",
                    "denominationPm": "CLINIQUE CONVERT",
                    "statutJuridique": {"code": "73", "system": "https://mos.esante.gouv.fr/"},
                    "etatObjet": {"code": "A"},
                    "dateDerniereMaj": {"dateEvenement": "2021-10-18"},
                },
                "ege": [
                    {
                        "informationsGeneralesEGE": {"egeId": "799", "numFinessEge": "010780195"},
                        "siret": "77220148900022",
                        "etatObjet": {"code": "I"},
                        "categorieEntiteGeographiqueExercice": {"code": "365"},
                        "modeFixationTarifaire": {"code": "07"},
                    }
                ],
            }
        ],
        "gco": {},
    }
    structures, [entity] = read_all(written(tmp_path, document))
    assert structures.errors == []
    assert (entity.pm_id, entity.legal_status_code, entity.state) == ("2", "73", "A")
    [site] = entity.establishments
    assert (site.siret, site.category_code, site.pricing_code) == ("77220148900022", "365", "07")
    assert site.is_closed


def test_a_truncated_file_stops_with_its_line_after_the_complete_entities(tmp_path: Path) -> None:
    data = EXCERPT.read_bytes()
    path = tmp_path / "cut.json"
    path.write_bytes(data[: data.index(b'"ege" : [ {')])
    with read_finess_plus(path) as structures:
        entities = iter(structures)
        assert next(entities).finess == "010000016"
        with pytest.raises(FinessPlusFormatError, match=r"cut\.json, ligne \d+ : .*tronqué"):
            next(entities)


def test_a_file_that_is_not_json_is_refused_at_once(tmp_path: Path) -> None:
    path = tmp_path / "structures.json"
    path.write_text("finess;etalab;111;2026-05-12\n", encoding="utf-8")
    with pytest.raises(FinessPlusFormatError, match=r"structures\.json, ligne 1 : .*FiNESS\+"):
        read_finess_plus(path)


def test_a_corrupt_gzip_is_refused_with_advice(tmp_path: Path) -> None:
    path = tmp_path / "structures.json.gz"
    path.write_bytes(gzip.compress(EXCERPT.read_bytes())[:40])
    with pytest.raises(FinessPlusFormatError, match="Téléchargez-le à nouveau"):
        read_all(path)


def test_many_entities_are_streamed_one_at_a_time(tmp_path: Path) -> None:
    document = excerpt()
    document["pmej"] = document["pmej"] * 3000  # about 10 MB of JSON
    path = written(tmp_path, document)
    with read_finess_plus(path) as structures:
        entities = iter(structures)
        next(entities)
        assert len(structures._scanner._buffer) < 1024 * 1024
        assert sum(1 for _ in entities) == 5999
