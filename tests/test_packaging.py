"""`pip install .` must ship codemods/ and templates/ inside the package: the CLI works outside the tree."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

from .conftest import ROOT


def test_wheel_ships_codemods_and_templates_and_runs_outside_the_source_tree(tmp_path: Path) -> None:
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(tmp_path), ROOT],
        check=True,
        capture_output=True,
    )
    (wheel,) = tmp_path.glob("fleetmig-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert "fleetmig/codemods/a1_fleet_contract.py" in names
    assert "fleetmig/templates/demo/fleetmig.yaml" in names
    assert "fleetmig/schemas/fleetmig.schema.json" in names
    assert "fleetmig/gotemplate_engine/main.go" in names  # fleetmig verify builds it on first use

    installed = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(installed)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    script = (
        "import sys; sys.path.insert(0, sys.argv[1]); sys.argv = ['fleetmig', *sys.argv[2:]]\n"
        "import fleetmig, fleetmig.resources as r\n"
        "assert fleetmig.__file__.startswith(sys.path[0]), fleetmig.__file__\n"
        "assert str(r.shipped_dir('codemods')).startswith(sys.path[0])\n"
        "from fleetmig.cli import main; main()\n"
    )
    run = [sys.executable, "-c", script, str(installed)]
    listing = subprocess.run([*run, "list"], cwd=elsewhere, capture_output=True, text=True, check=False)
    assert listing.returncode == 0, listing.stderr
    assert listing.stdout.startswith("a1-fleet-contract\t")
    demo = subprocess.run([*run, "demo", "fleet"], cwd=elsewhere, capture_output=True, text=True, check=False)
    assert demo.returncode == 0, demo.stderr
    assert (elsewhere / "fleet" / "fleetmig.yaml").is_file()
