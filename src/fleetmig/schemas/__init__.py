"""JSON Schemas shipped with fleetmig (fleetmig.yaml)."""
