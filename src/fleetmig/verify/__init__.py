"""Proofs that a migration keeps the fleet working: waves (ApplicationSet expansion + RollingSync)."""
