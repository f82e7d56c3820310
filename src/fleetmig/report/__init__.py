"""Renderings of plans and runs: rich tables, JSON, markdown checklists, coloured diffs."""
