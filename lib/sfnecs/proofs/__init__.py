"""Proofs with Step Functions TestState: every path of the deployed state machine, without launching a task."""
