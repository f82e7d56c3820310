#!/usr/bin/env python3
"""Write a chart archive (`helm package` layout: `<name>/...` in a gzipped tar) reproducibly.

The demo fleet records a pristine archive of each vendored chart next to `charts.lock.yaml` so that
`e2-vendored-patches` can compare the vendored tree with what upstream shipped. Usage:

    scripts/demo_chart_archive.py CHART_DIR NAME OUT.tgz [REL_PATH=FILE ...]

Each REL_PATH=FILE replaces one file of CHART_DIR with FILE's bytes (the pristine version of a
patched file). Prints the archive's sha256 for the lock's `digest`.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import sys
import tarfile
from pathlib import Path


def main(argv: list[str]) -> int:
    chart, name, out, *replacements = argv[1:]
    overrides = dict(item.split("=", 1) for item in replacements)
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for path in sorted(Path(chart).rglob("*")):
            if not path.is_file():
                continue
            rel = path.relative_to(chart).as_posix()
            data = Path(overrides[rel]).read_bytes() if rel in overrides else path.read_bytes()
            info = tarfile.TarInfo(f"{name}/{rel}")
            info.size, info.mode, info.mtime = len(data), 0o644, 0
            tar.addfile(info, io.BytesIO(data))
    packed = gzip.compress(buffer.getvalue(), mtime=0)
    Path(out).write_bytes(packed)
    print("sha256:" + hashlib.sha256(packed).hexdigest())
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
