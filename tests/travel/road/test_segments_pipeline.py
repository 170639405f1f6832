"""The CLI picks a region's offline road network without flags (Kingston, the smallest) and says so."""

import json

import pytest
from click.testing import CliRunner

from gapmap.cli import main


@pytest.fixture(scope="module")
def kingston_run(mirror, tmp_path_factory):
    out = tmp_path_factory.mktemp("kingston")
    res = CliRunner().invoke(main, ["analyze", "--region", "kingston", "--category", "hospital", "--threshold", "30",
                                    "--out", str(out), "-q"])
    assert res.exit_code == 0, res.stderr
    return out, res


def test_cli_uses_the_city_centreline_by_default(kingston_run):
    out, res = kingston_run
    summ = json.loads((out / "summary.json").read_text())
    notes = " ".join(summ["notes"])
    assert "chosen by default for Kingston Immigration Partnership from the offline mirror" in notes
    assert "T-junctions split" in notes and "largest of" in notes
    method = summ["method"]["travel_time"]
    assert method.startswith("road network (City of Kingston centreline, drive; speeds assigned by road class)")
    assert "speeds assigned by road class" in res.stdout
    assert not any(a.startswith("Travel times are a straight-line approximation") for a in summ["method"]["approximations"])
    # Napanee's hospital is within the 30 km of the city that services are drawn from, past the city's own roads.
    assert any(a.startswith("1 of the 4 services analysed lies more than 1 km from every road of the network, past the roads it "
                            "holds (nearest first: Lennox and Addington County General Hospital 23.9 km)")
               for a in summ["method"]["approximations"])


def test_network_file_with_unstated_crs_needs_crs_option(mirror, tmp_path):
    csv = mirror / "kingston-road-segment-2017" / "Road_Segment.csv"
    res = CliRunner().invoke(main, ["analyze", "--region", "kingston", "--network", str(csv), "--out", str(tmp_path), "-q"])
    assert res.exit_code != 0
    assert "Road_Segment.csv states no CRS; give it with --crs" in res.stderr
    assert "Traceback" not in res.stderr
