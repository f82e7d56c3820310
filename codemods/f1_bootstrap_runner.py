"""F1: the `bootstrap-runner` library chart in the owned chart roots."""

from __future__ import annotations

from fleetmig.engine import Changeset, Codemod
from fleetmig.fleet.charts import BOOTSTRAP_LIBRARY as LIBRARY
from fleetmig.fleet.charts import bootstrap_library_path
from fleetmig.fleet.model import Fleet
from fleetmig.resources import shipped_dir


class BootstrapRunner(Codemod):
    """Add the `bootstrap-runner` library chart that every bootstrap Job is built on.

    ## What it changes
    Writes `templates/phase-f/bootstrap-runner/` to `<owned root>/bootstrap-runner` (the
    `foundation` root when the fleet has one): a Helm library chart whose named template
    `bootstrap-runner.job` renders a Job as an Argo CD hook with `hook-delete-policy:
    BeforeHookCreation` (a changed template never hits "field is immutable"), bounded retries
    (`backoffLimit`), a deadline for the whole Job (`activeDeadlineSeconds`), TTL cleanup
    (`ttlSecondsAfterFinished`), optional `podFailurePolicy`, dependency waits (TCP, HTTP, DNS or a
    Kubernetes condition) as init containers each bounded by a timeout on a pinned toolbox image,
    and a pod security context; with a `values.schema.json` for its defaults. A library already
    there is left as it is; one that differs from fleetmig's is reported.

    ## Why
    Bootstrap Jobs gate waves; each invented its own wait loop, retry and cleanup (plan 519 §2
    goal 7, Phase F; gitops-facts §4.5, §5).

    ## Before
        sources/charts/foundation/   (no bootstrap-runner)

    ## After
        sources/charts/foundation/bootstrap-runner/
          Chart.yaml            # type: library
          values.yaml           # activeDeadlineSeconds, backoffLimit, ttlSecondsAfterFinished, ...
          values.schema.json
          templates/_job.tpl    # define "bootstrap-runner.job"
    """

    id = "f1-bootstrap-runner"
    phase = "F"
    title = "A bootstrap-runner library chart for bounded, idempotent, self-cleaning bootstrap Jobs"

    def apply(self, fleet: Fleet) -> Changeset:
        changeset = self.changeset()
        target = bootstrap_library_path(fleet)
        source = shipped_dir("templates") / "phase-f" / LIBRARY
        files = {
            f"{target}/{path.relative_to(source).as_posix()}": path.read_bytes()
            for path in sorted(source.rglob("*"))
            if path.is_file()
        }
        if not fleet.exists(f"{target}/Chart.yaml"):
            for rel, content in files.items():
                changeset.create(rel, content, "the standard bootstrap Job (library chart)")
            return changeset
        differing = [rel for rel, content in files.items() if not fleet.exists(rel) or fleet.read_bytes(rel) != content]
        if differing:
            changeset.manual(
                f"{target}/Chart.yaml",
                1,
                f"{LIBRARY} differs from the one fleetmig ships ({', '.join(differing)}); left as it is",
            )
        return changeset
