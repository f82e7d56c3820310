"""`fleetmig check images` output: every image, where it runs, its platforms and the verdict."""

from __future__ import annotations

import json
from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

from fleetmig.images.check import ImageResult, ImagesReport

HEADERS = ("image", "verdict", "platforms", "used by", "reason")


def _used_by(image: ImageResult) -> str:
    return ", ".join(use.release for use in image.uses)


def _row(image: ImageResult) -> tuple[str, ...]:
    return (image.image, image.verdict, ", ".join(image.platforms), _used_by(image), image.reason or "")


def problems(report: ImagesReport) -> list[str]:
    """One line per reason the check fails: the image (or release) and why."""
    lines = [f"{image.image}: {image.verdict}: {image.reason}" for image in report.images if image.problem]
    lines += [
        f"{u.release}: not rendered, its images are unverified: {u.error}" for u in report.unrendered if u.required
    ]
    return lines


def as_json(report: ImagesReport) -> str:
    payload: dict[str, Any] = {
        "ok": report.ok,
        "clusterTypes": [{"name": t, "requireMultiArch": t in report.required} for t in report.cluster_types],
        "images": [
            {
                "image": image.image,
                "verdict": image.verdict,
                "reason": image.reason,
                "platforms": list(image.platforms),
                "mediaType": image.media_type,
                "digest": image.digest,
                "cached": image.cached,
                "usedBy": [{"release": use.release, "clusterType": use.cluster_type} for use in image.uses],
            }
            for image in report.images
        ],
        "unrendered": [
            {"release": u.release, "clusterType": u.cluster_type, "error": u.error, "blocking": u.required}
            for u in report.unrendered
        ],
    }
    return json.dumps(payload, indent=2)


def as_markdown(report: ImagesReport) -> str:
    required = ", ".join(report.required) or "none"
    lines = [
        "## Container images",
        "",
        f"Cluster types requiring multi-arch images (linux/amd64 + linux/arm64): {required}.",
        "",
        "| " + " | ".join(HEADERS) + " |",
        "|" + "---|" * len(HEADERS),
    ]
    for image in report.images:
        # A reason may quote a registry message; a bare `|` in it would split the cell.
        name, *rest = (cell.replace("|", "\\|") for cell in _row(image))
        lines.append(f"| `{name}` | " + " | ".join(rest) + " |")
    lines.append("")
    lines += [f"- not rendered: `{u.release}`: {u.error}" for u in report.unrendered]
    return "\n".join(lines) + "\n"


def print_table(console: Console, report: ImagesReport) -> None:
    required = ", ".join(report.required) or "none"
    table = Table(*HEADERS, title=f"Container images (multi-arch required on: {required})")
    # Reasons quote registries and Helm; `[...]` in them is text, not rich markup.
    for image in report.images:
        table.add_row(*(Text(cell) for cell in _row(image)))
    console.print(table)
    for u in report.unrendered:
        console.print(f"not rendered: {u.release}: {u.error}", markup=False)
    checked = [image for image in report.images if image.verdict != "not-checked"]
    failed = sum(image.problem for image in checked)
    console.print(f"{len(checked)} images checked, {failed} not verified multi-arch")
