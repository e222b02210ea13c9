"""Territories from INSEE's geography: regions, departments, collectivities, communes, ARS."""

import json

import pytest
from django.core.management import call_command

from accounts.models import Organisation
from referentials.importers.territories import import_territories
from referentials.models import Commune, ImportRun, Region, Territory

pytestmark = pytest.mark.django_db

COLLECTIVITIES = {"975", "977", "978", "984", "986", "987", "988", "989"}


def test_import_loads_regions_territories_and_current_communes() -> None:
    run = import_territories()

    assert run.status == ImportRun.Status.SUCCEEDED
    assert run.source == ImportRun.Source.TERRITORIES
    assert len(run.checksum) == 64
    # 13 mainland + 5 overseas regions (the 18 ARS), and the 8 collectivities as their own.
    assert Region.objects.filter(zone__in=["metro", "drom"]).count() == 18
    assert set(Region.objects.filter(zone="com").values_list("code", flat=True)) == COLLECTIVITIES
    assert Territory.objects.count() == 109
    assert Commune.objects.count() == 34_969
    assert run.counts["communes"] == {"created": 34_969, "updated": 0, "unchanged": 0, "absent": 0}
    assert run.counts["created"] == 26 + 109 + 34_969


def test_corsica_is_two_departments_of_region_corse() -> None:
    import_territories()

    assert set(Territory.objects.filter(region_id="94").values_list("code", flat=True)) == {
        "2A",
        "2B",
    }
    assert Commune.objects.get(code="2A004").territory_id == "2A"  # Ajaccio
    assert Commune.objects.get(code="2B033").territory_id == "2B"  # Bastia


def test_saint_barthelemy_and_saint_martin_are_their_own_territories_and_regions() -> None:
    import_territories()

    for code, commune, postcode in (("977", "97701", "97133"), ("978", "97801", "97150")):
        territory = Territory.objects.get(code=code)
        assert territory.region_id == code
        assert territory.region.zone == Region.Zone.COM
        assert Commune.objects.get(code=commune).territory_id == code
        assert Commune.objects.get(code=commune).postcodes == [postcode]
    # The INSEE commune 97133 is Vieux-Fort in Guadeloupe, not Saint-Barthélemy's postcode.
    assert Commune.objects.get(code="97133").territory_id == "971"
    assert Territory.objects.get(code="971").region_id == "01"


def test_municipal_arrondissements_are_not_communes() -> None:
    import_territories()

    assert not Commune.objects.filter(code="75101").exists()
    assert Commune.objects.get(code="75056").postcodes[:2] == ["75001", "75002"]


def test_overseas_communes_keep_territory_and_postcodes() -> None:
    import_territories()

    assert Commune.objects.filter(territory_id="987").count() == 48
    assert Commune.objects.filter(territory_id="984").count() == 5
    assert Commune.objects.get(code="98411").postcodes == []


def test_ars_guadeloupe_covers_guadeloupe_saint_barthelemy_and_saint_martin() -> None:
    import_territories()

    agencies = Organisation.objects.filter(kind=Organisation.Kind.REGIONAL_AGENCY)
    assert agencies.count() == 18
    guadeloupe = agencies.get(region_code="01")
    assert guadeloupe.covered_territories == ["971", "977", "978"]
    assert agencies.get(region_code="94").covered_territories == ["2A", "2B"]
    covered = {code for agency in agencies for code in agency.covered_territories}
    # Every department and the two Antilles collectivities have an agency; the Pacific and
    # austral collectivities (and Saint-Pierre-et-Miquelon) have none of the 18.
    assert set(Territory.objects.values_list("code", flat=True)) - covered == {
        "975",
        "984",
        "986",
        "987",
        "988",
        "989",
    }


def test_a_second_import_changes_nothing() -> None:
    import_territories()

    run = import_territories()

    assert run.counts["created"] == 0
    assert run.counts["updated"] == 0
    assert run.counts["unchanged"] == 26 + 109 + 34_969
    assert "aucune modification" in run.message
    assert Commune.objects.count() == 34_969


def test_a_changed_commune_is_updated_and_a_vanished_one_kept() -> None:
    import_territories()
    Commune.objects.filter(code="01001").update(name="Ancien nom", postcodes=[])
    Commune.objects.create(code="01999", name="Commune fusionnée", territory_id="01")

    run = import_territories()

    assert run.counts["communes"]["updated"] == 1
    assert run.counts["communes"]["absent"] == 1
    assert Commune.objects.get(code="01001").name == "L'Abergement-Clémenciat"
    assert Commune.objects.get(code="01001").postcodes == ["01400"]
    assert Commune.objects.filter(code="01999").exists()


def test_the_command_prints_a_json_summary(capsys) -> None:
    call_command("import_territories", "--json")

    summary = json.loads(capsys.readouterr().out)
    assert summary["status"] == "succeeded"
    assert summary["counts"]["communes"]["created"] == 34_969


def test_the_command_prints_a_french_summary(capsys) -> None:
    call_command("import_territories")

    out = capsys.readouterr().out
    assert "Communes : 34969 créées" in out
    assert "Territoires : 109 créés" in out
