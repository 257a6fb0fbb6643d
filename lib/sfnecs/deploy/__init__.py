"""Deploying a stack: where calls go (target), plan/apply/teardown, verify."""
