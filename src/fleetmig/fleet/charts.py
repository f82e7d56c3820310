"""The fleet's Helm charts: owned (under `layout.ownedCharts`) and vendored (under `layout.thirdParty`)."""

from __future__ import annotations

from dataclasses import dataclass

from fleetmig.fleet.model import Fleet

TEMPLATE_SUFFIXES = (".yaml", ".yml", ".tpl", ".txt", ".json")


@dataclass(frozen=True)
class Chart:
    path: str
    vendored: bool


def charts(fleet: Fleet) -> list[Chart]:
    """Owned charts (layout.ownedCharts) and vendored ones (layout.thirdParty), by Chart.yaml."""
    layout = fleet.policy.layout
    vendored_root = layout.third_party.rstrip("/") + "/"
    out = []
    for rel in fleet.files.glob("**/Chart.yaml"):
        chart = rel.rsplit("/", 1)[0]
        if chart.startswith(vendored_root):
            if "/charts/" not in chart[len(vendored_root) :]:
                out.append(Chart(chart, vendored=True))
        elif any(chart.startswith(root.rstrip("/") + "/") for root in layout.owned_charts):
            out.append(Chart(chart, vendored=False))
    return out


def template_files(fleet: Fleet, chart: Chart) -> list[str]:
    return [rel for rel in fleet.files.glob(f"{chart.path}/templates/**") if rel.endswith(TEMPLATE_SUFFIXES)]


def application_charts(fleet: Fleet) -> list[Chart]:
    """Owned charts that are installed as releases: not a subchart in another's `charts/`, not a library."""
    owned = [chart for chart in charts(fleet) if not chart.vendored]
    paths = {chart.path for chart in owned}
    out = []
    for chart in owned:
        # A chart inside another chart's charts/ is a dependency (often unpacked third-party code).
        parts = chart.path.split("/")
        if any(parts[i] == "charts" and "/".join(parts[:i]) in paths for i in range(1, len(parts))):
            continue
        meta = fleet.values(f"{chart.path}/Chart.yaml")
        if isinstance(meta, dict) and meta.get("type") == "library":
            continue
        out.append(chart)
    return out


BOOTSTRAP_LIBRARY = "bootstrap-runner"


def bootstrap_library_path(fleet: Fleet) -> str:
    """Where the bootstrap-runner library lives: the `foundation` owned root when there is one."""
    roots = [r.rstrip("/") for r in fleet.policy.layout.owned_charts]
    root = next((r for r in roots if r.rsplit("/", 1)[-1] == "foundation"), roots[0])
    return f"{root}/{BOOTSTRAP_LIBRARY}"
