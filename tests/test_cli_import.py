"""``import gapmap.cli`` (and so ``gapmap --help``) loads no geopandas, pandas or pipeline."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_cli_import_is_light():
    code = ("import gapmap.cli, sys\n"
            "heavy = [m for m in ('geopandas', 'pandas', 'gapmap.pipeline', 'gapmap.sources.readers') if m in sys.modules]\n"
            "assert not heavy, heavy\n")
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)


def test_help_runs_without_heavy_imports():
    code = ("import sys\nfrom click.testing import CliRunner\nimport gapmap.cli\n"
            "r = CliRunner().invoke(gapmap.cli.main, ['--help'])\n"
            "assert r.exit_code == 0 and 'analyze' in r.output\n"
            "assert 'geopandas' not in sys.modules\n")
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)
