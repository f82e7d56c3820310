import json
import sys


def cluster_name() -> str:
    settings = json.loads(sys.stdin.read())
    return settings["cluster"]["name"]  # a4 cannot tell what settings holds
