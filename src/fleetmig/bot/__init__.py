"""`fleetmig bot`: migrate many fleet repositories, one reviewable branch per phase."""
