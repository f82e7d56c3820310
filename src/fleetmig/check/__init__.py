"""`fleetmig check`: the rules that keep a migrated fleet migrated."""
