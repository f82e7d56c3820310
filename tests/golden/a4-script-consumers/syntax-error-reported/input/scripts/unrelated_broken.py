# Never mentions the root key, so it is never parsed: no finding.
def oops(:
    pass
