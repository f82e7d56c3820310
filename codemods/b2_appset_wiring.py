"""B2: the local overlay's ApplicationSets read the local component set; azure keeps `_shared`."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from fleetmig.edit.yaml import YamlEditor
from fleetmig.engine import Changeset, Codemod
from fleetmig.errors import EditRefused
from fleetmig.fleet.appsets import KUSTOMIZATION_FILES, AppSet, appsets_for
from fleetmig.fleet.components import LOCAL_CLUSTER_TYPE
from fleetmig.fleet.model import Fleet

APPSET_TARGET = {"group": "argoproj.io", "version": "v1alpha1", "kind": "ApplicationSet"}


class AppSetWiring(Codemod):
    """Point the local overlay's git files generators at `environments/local/components/**`.

    ## What it changes
    In the local kustomize overlay (`<overlays>/local`), every git files generator path of every
    ApplicationSet that still reads `environments/_shared/components/...` is made to read the same
    pattern under `environments/local/components/...`. Where a JSON6902 patch of the overlay
    already sets that path (an index-based `replace` of one path or of the whole `files` list), the
    paths inside its value are changed in place; otherwise one `replace` op per path is appended to
    the overlay's patch for that ApplicationSet, or a new patch is added for it. Everything else in
    the overlay keeps its bytes. The overlay is then built with the real kustomize
    (`kubectl kustomize`) and the result must differ from before in those paths only; otherwise
    nothing is written and the reason is reported. The azure overlay and the ApplicationSets
    themselves are not touched: azure keeps `_shared` as the canonical set.

    ## Why
    Local must generate only its curated allowlist (`b1-local-allowlist`) while keeping the
    rollout-phase waves; azure stays on `_shared` (plan 519 §2 goal 2, §4.2, Phase B).

    ## Before
        # argocd/overlays/local/kustomization.yaml, patch for ApplicationSet `ameide`
        - op: replace
          path: /spec/generators/0/matrix/generators/1/git/files
          value:
            - path: environments/_shared/components/apps/**/component.yaml

    ## After
        - op: replace
          path: /spec/generators/0/matrix/generators/1/git/files
          value:
            - path: environments/local/components/apps/**/component.yaml
    """

    id = "b2-appset-wiring"
    phase = "B"
    title = "The local overlay's ApplicationSets read environments/local/components"
    requires = ("b1-local-allowlist",)

    def apply(self, fleet: Fleet) -> Changeset:
        changeset = self.changeset()
        if LOCAL_CLUSTER_TYPE not in fleet.cluster_types:
            return changeset
        layout = fleet.policy.layout
        shared, local = layout.shared_components.rstrip("/") + "/", layout.local_components.rstrip("/") + "/"
        overlay = f"{layout.overlays.rstrip('/')}/{LOCAL_CLUSTER_TYPE}"
        kustomization = next((f"{overlay}/{n}" for n in KUSTOMIZATION_FILES if fleet.exists(f"{overlay}/{n}")), None)
        if kustomization is None:
            changeset.manual(
                layout.application_sets,
                None,
                f"no `{overlay}` overlay: the ApplicationSets serve every cluster type, so local cannot read its own "
                "component set without changing azure; add a local overlay",
            )
            return changeset
        before_sets = appsets_for(fleet, LOCAL_CLUSTER_TYPE)
        wanted = {s.name: [e for e in _git_paths(s) if e[1].startswith(shared)] for s in before_sets}
        wanted = {name: entries for name, entries in wanted.items() if entries}
        if not wanted:
            return changeset
        editor = fleet.yaml(kustomization)
        try:
            for name, entries in wanted.items():
                self._wire(editor, name, [(p, local + path[len(shared) :]) for p, path in entries])
        except EditRefused as refusal:
            changeset.manual(kustomization, refusal.line, f"not changed: {refusal.message}")
            return changeset
        after = editor.to_bytes()
        problem = _proof(fleet, kustomization, after, before_sets, shared, local)
        if problem:
            changeset.manual(kustomization, 1, f"not changed: {problem}")
            return changeset
        names = ", ".join(f"`{n}`" for n in wanted)
        changeset.edit(
            kustomization,
            fleet.read_bytes(kustomization),
            after,
            f"ApplicationSets {names} read {local}** on local (kustomize build checked)",
            1,
        )
        return changeset

    def _wire(self, editor: YamlEditor, appset: str, entries: list[tuple[str, str]]) -> None:
        patches = editor.get("patches") if editor.has("patches") else []
        if not isinstance(patches, list):
            raise EditRefused("`patches` is not a list", editor.path)
        index = next((i for i, p in enumerate(patches) if _targets(p, appset)), None)
        if index is None:
            text = "".join(f"- op: replace\n  path: {pointer}/path\n  value: {path}\n" for pointer, path in entries)
            editor.append("patches", {"target": {**APPSET_TARGET, "name": appset}, "patch": text})
            return
        patch = patches[index]
        if not isinstance(patch.get("patch"), str):
            raise EditRefused(
                f"the overlay's patch for `{appset}` is not an inline JSON6902 patch; edit it by hand", editor.path
            )
        inner = YamlEditor(patch["patch"].encode(), f"{editor.path} (patch for {appset})")
        ops = inner.data()
        if not isinstance(ops, list):
            raise EditRefused(
                f"the overlay's patch for `{appset}` is a strategic merge patch; edit it by hand", editor.path
            )
        for pointer, path in entries:
            place = _place_in_ops(ops, pointer)
            if place is None:
                inner.append((), {"op": "replace", "path": f"{pointer}/path", "value": path})
            else:
                inner.set(place, path)
        editor.set(("patches", index, "patch"), inner.text)


def _git_paths(appset: AppSet) -> list[tuple[str, str]]:
    """(JSON pointer of the `files` entry, its path) for every git files generator entry."""
    generators = appset.data.get("spec", {}).get("generators") or []
    return list(_walk(generators, "/spec/generators"))


def _walk(generators: list[Any], pointer: str) -> Iterator[tuple[str, str]]:
    for index, generator in enumerate(generators):
        here = f"{pointer}/{index}"
        if not isinstance(generator, dict):
            continue
        for k, entry in enumerate((generator.get("git") or {}).get("files") or []):
            if isinstance(entry, dict) and isinstance(entry.get("path"), str) and not entry.get("exclude"):
                yield f"{here}/git/files/{k}", entry["path"]
        yield from _walk((generator.get("matrix") or {}).get("generators") or [], f"{here}/matrix/generators")


def _targets(patch: Any, appset: str) -> bool:
    target = patch.get("target") if isinstance(patch, dict) else None
    return isinstance(target, dict) and target.get("kind") == "ApplicationSet" and target.get("name") == appset


def _place_in_ops(ops: list[Any], pointer: str) -> tuple[Any, ...] | None:
    """Where in the ops the value that ends up at `pointer`/path is written, if an op writes it."""
    target = f"{pointer}/path"
    for index in range(len(ops) - 1, -1, -1):  # the last op that writes a path decides it
        op = ops[index]
        if not isinstance(op, dict) or op.get("op") not in ("replace", "add") or not isinstance(op.get("path"), str):
            continue
        base = op["path"].rstrip("/")
        if target == base:
            return (index, "value")
        if target.startswith(base + "/"):
            place: tuple[Any, ...] = (index, "value")
            node = op.get("value")
            for segment in target[len(base) + 1 :].split("/"):
                key: Any = int(segment) if isinstance(node, list) and segment.isdigit() else segment
                try:
                    node = node[key]  # type: ignore[index]
                except (KeyError, IndexError, TypeError):
                    return None
                place = (*place, key)
            return place if isinstance(node, str) else None
    return None


def _proof(fleet: Fleet, kustomization: str, after: bytes, before: list[AppSet], shared: str, local: str) -> str | None:
    """Build the overlay as changed; it must differ from before only in the generator paths."""
    built = {s.name: s for s in appsets_for(fleet.with_contents({kustomization: after}), LOCAL_CLUSTER_TYPE)}
    for old in before:
        new = built.get(old.name)
        if new is None:
            return f"ApplicationSet `{old.name}` is missing from the overlay's build after the change"
        expected = _rewritten(old.data, shared, local)
        if new.data != expected:
            return f"the overlay's build of `{old.name}` changes more than the component paths"
    return None


def _rewritten(node: Any, shared: str, local: str) -> Any:
    if isinstance(node, dict):
        return {key: _rewritten_entry(key, value, shared, local) for key, value in node.items()}
    if isinstance(node, list):
        return [_rewritten(value, shared, local) for value in node]
    return node


def _rewritten_entry(key: str, value: Any, shared: str, local: str) -> Any:
    if key == "path" and isinstance(value, str) and value.startswith(shared):
        return local + value[len(shared) :]
    return _rewritten(value, shared, local)
