def cluster_type(values: dict) -> str:
    return values["global"]["ameide"]["cluster"]["type"]
