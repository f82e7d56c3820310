"""Already reads the contract path: nothing to change, nothing to report."""


def cluster_label(values: dict) -> str:
    cluster = values.get("global", {}).get("ameide", {}).get("cluster", {})
    name = cluster.get("name", "unknown")
    kind = values["global"]["ameide"]["cluster"]["type"]
    known = "cluster" in values.get("global", {}).get("ameide", {})
    return f"{kind}:{name}" if known else "unknown"
