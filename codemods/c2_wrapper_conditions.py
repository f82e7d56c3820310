"""C2: a wrapper chart's vendored dependency follows `<alias>.enabled`."""

from __future__ import annotations

from typing import Any

from fleetmig.engine import Changeset, Codemod
from fleetmig.errors import EditRefused
from fleetmig.fleet.charts import application_charts
from fleetmig.fleet.model import Fleet

FILE_REPOSITORY = "file://"


class WrapperConditions(Codemod):
    """Give every vendored dependency of a wrapper chart the condition `<alias>.enabled`.

    ## What it changes
    In the `Chart.yaml` of every owned chart, each dependency whose `repository` is a `file://`
    path into the vendored charts (`layout.thirdParty`) gets `condition: <alias>.enabled` (the
    dependency's `alias`, or its `name`), inserted after `repository`. A dependency that already
    has another condition is reported, not changed. The wrapper's own templates are gated by
    `c1-enabled-gate`; the vendored chart itself is never edited.

    ## Why
    A wrapper must be able to switch the vendored chart off as a whole (plan 519 §4.3, Phase C.2);
    Helm evaluates `condition` before rendering, so a disabled dependency also skips its schema.

    ## Before
        dependencies:
          - name: langfuse
            version: 1.5.8
            repository: file://../../third_party/langfuse/langfuse/1.5.8

    ## After
        dependencies:
          - name: langfuse
            version: 1.5.8
            repository: file://../../third_party/langfuse/langfuse/1.5.8
            condition: langfuse.enabled
    """

    id = "c2-wrapper-conditions"
    phase = "C"
    title = "Wrapper charts switch their vendored dependency with <alias>.enabled"

    def apply(self, fleet: Fleet) -> Changeset:
        changeset = self.changeset()
        third_party = fleet.policy.layout.third_party.rstrip("/").split("/")[-1]
        for chart in application_charts(fleet):
            rel = f"{chart.path}/Chart.yaml"
            data: Any = fleet.values(rel)
            dependencies: Any = (data if isinstance(data, dict) else {}).get("dependencies") or []
            if not any(_vendored(dependency, third_party) for dependency in dependencies):
                continue  # the format-preserving editor (a much slower parse) only where there is work
            editor = fleet.yaml(rel)
            added = []
            for index, dependency in enumerate(dependencies):
                if not _vendored(dependency, third_party):
                    continue
                alias = dependency.get("alias") or dependency.get("name")
                wanted = f"{alias}.enabled"
                condition = dependency.get("condition")
                if condition == wanted:
                    continue
                if condition is not None:
                    changeset.manual(
                        rel,
                        editor.line_of(("dependencies", index, "condition")),
                        f"dependency `{alias}` has condition `{condition}`; the wrapper convention is `{wanted}`",
                    )
                    continue
                try:
                    editor.insert(("dependencies", index), "condition", wanted, after="repository")
                except EditRefused as refusal:
                    changeset.manual(rel, refusal.line, f"not changed: {refusal.message}")
                    continue
                added.append(wanted)
            if added:
                changeset.edit(
                    rel,
                    fleet.read_bytes(rel),
                    editor.to_bytes(),
                    f"condition {', '.join(added)}",
                    editor.line_of("dependencies"),
                )
        return changeset


def _vendored(dependency: Any, third_party: str) -> bool:
    """Whether a Chart.yaml dependency is a vendored chart, referenced by `file://`."""
    repository = str(dependency.get("repository", "")) if isinstance(dependency, dict) else ""
    return repository.startswith(FILE_REPOSITORY) and f"/{third_party}/" in f"/{repository}"
