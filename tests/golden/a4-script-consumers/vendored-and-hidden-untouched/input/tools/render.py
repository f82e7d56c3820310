def cluster_type(values: dict) -> str:
    return values["cluster"]["type"]
