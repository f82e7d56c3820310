def cluster_type(values: dict) -> str:
    return values["cluster"]["type"]


def oops(values:
    return values.get("cluster")
