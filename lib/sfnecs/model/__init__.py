"""The model: the stack description (`StackSpec`) and the AWS facts every layer reads.

Notebooks and runbooks import from here; library modules import the submodule that owns a name
(`model.spec`, `model.fargate`, `model.arns`, `model.prices`), so no module depends on this index.
"""

from sfnecs.model.arns import ECR_IMAGE_RE, EXECUTION_ARN_RE, TASK_ARN_RE, awslogs_stream
from sfnecs.model.fargate import (
    CAPACITY_BASE_MAX,
    CAPACITY_PROVIDERS,
    CAPACITY_WEIGHT_MAX,
    CPU_ARCHITECTURES,
    FARGATE_CPU_MEMORY,
    OS_FAMILIES,
    check_capacity_provider_strategy,
    check_fargate_size,
)
from sfnecs.model.spec import MAX_TAGS, Pattern, QueryLanguage, StackSpec

__all__ = [
    "CAPACITY_BASE_MAX",
    "CAPACITY_PROVIDERS",
    "CAPACITY_WEIGHT_MAX",
    "CPU_ARCHITECTURES",
    "ECR_IMAGE_RE",
    "EXECUTION_ARN_RE",
    "FARGATE_CPU_MEMORY",
    "MAX_TAGS",
    "OS_FAMILIES",
    "Pattern",
    "QueryLanguage",
    "StackSpec",
    "TASK_ARN_RE",
    "awslogs_stream",
    "check_capacity_provider_strategy",
    "check_fargate_size",
]
