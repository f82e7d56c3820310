"""Report the cluster a globals file describes (CRLF, with a BOM)."""
import sys

import yaml


def load_globals(path):
    with open(path, encoding="utf-8") as fh:
        return yaml.safe_load(fh) or {}


def main(path):
    globals_ = load_globals(path)
    cluster = globals_.get("global", {}).get("ameide", {}).get("cluster")  # None when the file predates the block
    if "cluster" in globals_.get("global", {}).get("ameide", {}):
        print(globals_["global"]["ameide"]["cluster"]["name"])
    return cluster


if __name__ == "__main__":
    main(sys.argv[1])
