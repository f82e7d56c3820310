"""RollingSync steps and Argo CD's label matching (gitops-facts §1.4)."""

from __future__ import annotations

from typing import Any

OPERATORS = ("In", "NotIn")


def steps(appset_data: dict[str, Any]) -> list[dict[str, Any]] | None:
    """The RollingSync steps, or None when the ApplicationSet does not use RollingSync."""
    strategy = (appset_data.get("spec") or {}).get("strategy") or {}
    if strategy.get("type") != "RollingSync":
        return None
    return [step for step in (strategy.get("rollingSync") or {}).get("steps") or [] if isinstance(step, dict)]


def selects(step: dict[str, Any], labels: dict[str, str]) -> bool:
    """AND over the expressions; `In` needs the label, `NotIn` passes without it; other operators are false."""
    for expression in step.get("matchExpressions") or []:
        key = expression.get("key")
        values = [str(v) for v in expression.get("values") or []]
        operator = expression.get("operator")
        if operator == "In":
            if key not in labels or labels[key] not in values:
                return False
        elif operator == "NotIn":
            if key in labels and labels[key] in values:
                return False
        else:
            return False
    return True


def first_step(all_steps: list[dict[str, Any]], labels: dict[str, str]) -> int | None:
    """The step that syncs an Application with these labels (Argo CD takes the first that selects it)."""
    return next((index for index, step in enumerate(all_steps) if selects(step, labels)), None)


def describe(step: dict[str, Any]) -> str:
    parts = [
        f"{e.get('key')} {e.get('operator')} {','.join(str(v) for v in e.get('values') or [])}"
        for e in step.get("matchExpressions") or []
    ]
    return "; ".join(parts) or "no expressions"
