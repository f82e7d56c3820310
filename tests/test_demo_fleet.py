"""The built-in demo fleet is a realistic, working pre-migration fleet: real Helm renders its charts,
real kustomize builds its overlays, and it carries the formatting hazards the editor must respect."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
from ruamel.yaml import YAML

from fleetmig.fleet.demo import write_demo

CHART_ROOTS = ("apps", "data", "foundation", "platform", "observability", "cluster")


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    target = tmp_path_factory.mktemp("demo") / "fleet"
    write_demo(target)
    return target


def charts(demo: Path) -> list[Path]:
    owned = [p.parent for root in CHART_ROOTS for p in (demo / "sources/charts" / root).glob("*/Chart.yaml")]
    vendored = [p.parent for p in (demo / "sources/charts/third_party").glob("*/*/*/Chart.yaml")]
    assert owned and len(vendored) == 2
    return sorted(owned + vendored)


def test_every_chart_renders_with_real_helm(demo: Path) -> None:
    helm = pytest.importorskip("helm_python", reason="install the `helm` extra: pip install -e '.[helm]'")
    for chart_dir in charts(demo):
        chart = helm.Chart.load(str(chart_dir))
        try:
            rendered = chart.render({}, name=chart_dir.name, namespace="ameide-dev")
        finally:
            chart.close()
        assert isinstance(rendered, dict), chart_dir


def test_plain_yaml_files_parse(demo: Path) -> None:
    yaml = YAML(typ="rt")
    for path in demo.rglob("*.yaml"):
        rel = path.relative_to(demo)
        if "templates" in rel.parts or ".git" in rel.parts or not path.exists():
            continue
        list(yaml.load_all(path.read_text(encoding="utf-8")))


def test_formatting_hazards_are_present(demo: Path) -> None:
    azure = (demo / "sources/values/cluster/azure/globals.yaml").read_bytes()
    assert azure.startswith(b"---\r\n") and b"\n" not in azure.replace(b"\r\n", b"")
    local = demo / "environments/local/components"
    links = [Path(d) / f for d, _, files in os.walk(local) for f in files if (Path(d) / f).is_symlink()]
    assert len(links) == 2
    assert sum(1 for link in links if not link.exists()) == 1  # one broken on purpose


@pytest.mark.parametrize("overlay", ["local", "azure"])
def test_kustomize_overlays_build(demo: Path, overlay: str) -> None:
    if shutil.which("kubectl") is None:
        pytest.skip("kubectl (with kustomize v5) is not on PATH")
    built = subprocess.run(
        ["kubectl", "kustomize", str(demo / "argocd/overlays" / overlay)], capture_output=True, text=True, check=False
    )
    assert built.returncode == 0, built.stderr
    assert "kind: ApplicationSet" in built.stdout
