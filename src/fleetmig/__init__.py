"""fleetmig: migrate GitOps fleet repositories through the fleet-policy hardening plan."""

__version__ = "0.1.0"
