"""The guard's rules: what a migrated fleet must not reintroduce.

Most rules are the codemods turned around: a codemod that would change something, or that reports a
specific kind of finding, means the fleet drifted back. A few rules look at what no codemod edits
(symlinks, vendored trees against a base revision, environment hostnames in shared values).
Each rule has an id, the phase that enables it, a one-line message, documentation for
`fleetmig explain <rule>`, and the codemod that fixes it.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Rule:
    id: str
    phase: str
    message: str
    fix: str  # the codemod that fixes it (or what to do)
    codemods: tuple[str, ...] = ()  # violations are these codemods' pending changes …
    # … and their manual findings whose message contains one of these: what the codemod could not fix
    # automatically is still a violation.
    findings: tuple[str, ...] = ()
    pending: bool = True
    doc: str = ""

    def documentation(self) -> str:
        return (
            f"# {self.id} (phase {self.phase})\n\n{self.message}.\n\n{self.doc}\n\n"
            f"Fix: {self.fix}. Suppress one occurrence with a comment on its line or the line above:\n"
            f"`# fleetmig: ignore[{self.id}] because <reason>`.\n"
        )


RULES: tuple[Rule, ...] = (
    Rule(
        "contract-root-keys",
        "A",
        "a fleet fact sits in a root key instead of the global.ameide contract",
        "`fleetmig apply a1-fleet-contract,a2-ambiguous-root-keys`",
        codemods=("a1-fleet-contract",),
        doc="Root keys of the fleet globals land in every chart and collide with charts' own keys (plan 519 §1).",
    ),
    Rule(
        "ambiguous-root-key",
        "A",
        "an ambiguous root key (cluster, name, type, spec, namespace) reaches charts from a values layer",
        "move it under `global.ameide` (contract.move) and `fleetmig apply a2-ambiguous-root-keys`",
        codemods=("a2-ambiguous-root-keys",),
        findings=("ambiguous root key",),
        doc="Helm merges every values layer into each chart; a generic root name is read by charts that own it.",
    ),
    Rule(
        "deprecated-key-reader",
        "A",
        "a template or script reads a deprecated root key instead of the contract",
        "`fleetmig apply a3-template-consumers,a4-script-consumers`, then move what they report by hand",
        codemods=("a3-template-consumers", "a4-script-consumers"),
        findings=("not rewritten:", "by hand"),
        doc="Readers of the bridge keep it alive; the bridge keeps the collisions alive.",
    ),
    Rule(
        "symlinked-descriptor",
        "B",
        "a component descriptor or values file is a symlink (or points outside the repository)",
        "`fleetmig apply b1-local-allowlist` (real copies), or replace the link by hand",
        doc="Argo CD's git files generator fails the whole ApplicationSet on a broken link (lint L2).",
    ),
    Rule(
        "appset-strict-templating",
        "B",
        "a goTemplate ApplicationSet lacks missingkey=error",
        "`fleetmig apply b3-strict-templating`",
        codemods=("b3-strict-templating",),
        findings=("not changed:",),
        doc="Without it a missing key renders `<no value>` into an Application instead of failing (lint L8).",
    ),
    Rule(
        "rollingsync-coverage",
        "B",
        "an Application is selected by no RollingSync step, or a step selects nothing",
        "`fleetmig apply b4-rollingsync-coverage`",
        codemods=("b4-rollingsync-coverage",),
        findings=("no RollingSync step",),
        doc="RollingSync turns autosync off: an unselected Application never syncs (lint L10).",
    ),
    Rule(
        "env-hostname-leak",
        "B",
        "an environment hostname appears in shared values or chart defaults",
        "move it to the environment's values layer",
        doc="Shared values and chart defaults must not carry one environment's hostnames (lint L4).",
    ),
    Rule(
        "missing-enabled-gate",
        "C",
        "an owned or wrapper chart has no `enabled` switch",
        "`fleetmig apply c1-enabled-gate`",
        codemods=("c1-enabled-gate",),
        findings=("not gated", "not changed:", "is not a boolean here", "is not a mapping at the top level"),
        doc="Every workload we own or wrap supports enabled: true|false (lint L15).",
    ),
    Rule(
        "disabled-by-empty-manifests",
        "C",
        "a component is switched off by emptying its values instead of `enabled: false`",
        "`fleetmig apply c3-local-disables`",
        codemods=("c3-local-disables",),
        findings=("still renders objects with enabled: false", "without an `enabled` switch", "not changed:"),
        doc="Emptied manifests make Argo CD prune and hide the decision (plan 519 Phase C).",
    ),
    Rule(
        "helm-random-secret",
        "D",
        "an owned chart generates a stable Secret with Helm randomness",
        "`fleetmig apply d1-stable-secrets`",
        codemods=("d1-stable-secrets",),
        findings=("not rewritten:",),
        doc="Under Argo CD `lookup` sees nothing, so the Secret changes on every render (lint L12).",
    ),
    Rule(
        "secret-payload-ignore",
        "D",
        "an ignoreDifferences hides a Secret's payload",
        "`fleetmig apply d2-secret-ignores`, or migrate the Secret first",
        codemods=("d2-secret-ignores",),
        findings=("not changed:",),
        doc="A payload ignore hides real drift of a stable secret (lint L14).",
    ),
    Rule(
        "vendored-tree-changed",
        "E",
        "a vendored chart changed other than by a version bump recorded in charts.lock.yaml",
        "`fleetmig apply e2-vendored-patches` (move the change into the wrapper)",
        codemods=("e2-vendored-patches",),
        findings=("differs from the upstream", "marked as a fleet patch"),
        doc="Vendored trees must stay upstream so upgrades are mechanical (plan 519 §7, lint L1).",
    ),
    Rule(
        "vendored-chart-deployed",
        "E",
        "a component deploys a vendored chart directly instead of through a wrapper",
        "`fleetmig apply e1-wrappers`",
        codemods=("e1-wrappers",),
        findings=("not wrapped", "already holds a chart", "is not `<alias>/<name>/<version>`", "forbids unknown keys"),
        doc="Fleet policy for a vendored chart lives in its wrapper (plan 519 §2 goal 5).",
    ),
    Rule(
        "image-digest-pairing",
        "E",
        "an overlay overrides image.repository but keeps a lower layer's image.digest",
        "set or reset `image.digest` in the same layer",
        codemods=("e3-image-policy",),
        findings=(".repository` is overridden here",),
        pending=False,
        doc="The digest of one repository would be pulled from another (lint L3).",
    ),
    Rule(
        "image-policy-mismatch",
        "E",
        "a wrapped image contradicts the cluster type's mirror policy",
        "point the image at the mirror or upstream as `clusterTypes.<type>.images.preferMirror` says",
        codemods=("e3-image-policy",),
        findings=("but the image policy of",),
        pending=False,
        doc="Mirror-or-upstream is decided once per cluster type (plan 519 §2 goal 6).",
    ),
    Rule(
        "bootstrap-job-unbounded",
        "F",
        "a bootstrap Job lacks a deadline, retries, TTL or a BeforeHookCreation delete policy",
        "`fleetmig apply f2-bootstrap-jobs`",
        codemods=("f2-bootstrap-jobs",),
        findings=("not changed:", "a Job fleetmig cannot locate"),
        doc="Unbounded or immutable hook Jobs stall waves (plan 519 Phase F).",
    ),
    Rule(
        "generic-ignore-outside-argocd-cm",
        "G",
        "a generic ignoreDifferences rule is repeated in components instead of argocd-cm",
        "`fleetmig apply g1-diff-customisations`",
        codemods=("g1-diff-customisations",),
        findings=("not promoted", "cannot express", "generic ignores stay in the components"),
        doc="Kind-based, controller-owned drift belongs in Argo CD's system config (plan 519 §4.4).",
    ),
)

BY_ID = {rule.id: rule for rule in RULES}
