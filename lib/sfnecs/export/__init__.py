"""The stack as code: Terraform and CloudFormation rendered from the same StackSpec and builders `apply` uses.

Why an index: notebooks, runbooks and the CLI import from `sfnecs.export`; its modules import the
module that owns a name (`model`, `tokens`, `terraform`, `cloudformation`, `files`, `skips`, `hcl`).
"""

from sfnecs.export.files import FORMATS, Export, diff, export_stack, render
from sfnecs.export.model import Exported, Output, StackModel, Variable, stack_model

__all__ = [
    "FORMATS",
    "Export",
    "Exported",
    "Output",
    "StackModel",
    "Variable",
    "diff",
    "export_stack",
    "render",
    "stack_model",
]
