"""Proofs with Step Functions TestState: every path of the deployed state machine, without launching a task.

Why an index: notebooks, runbooks, the CLI and tests import from `sfnecs.proofs`; its modules import
each other directly (`cases` builds the suite from a StackSpec, `run` calls TestState and reports).
"""

from sfnecs.proofs.cases import STATUSES, ProofPath, Step, context, execution_arn, proof_paths, stopped_task
from sfnecs.proofs.run import ProofReport, StepResult, deployed_definition, prove

__all__ = [
    "STATUSES",
    "ProofPath",
    "ProofReport",
    "Step",
    "StepResult",
    "context",
    "deployed_definition",
    "execution_arn",
    "proof_paths",
    "prove",
    "stopped_task",
]
