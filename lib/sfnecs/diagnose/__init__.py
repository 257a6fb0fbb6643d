"""Why a scheduled ECS task or its Step Functions execution failed, with the evidence and the fix.

Why a package: the failure signs are spread over several places (RunTask's `failures`, the stopped
task, its containers, the awslogs stream, the Step Functions error and cause, the image's real
platforms) and the same words mean different things; each step of reading them has its module:
`envelopes` (the shapes input arrives in) -> `evidence` (Facts) -> `architecture` and `categories`
(the registry of matchers, `diagnose_task`) -> `reading` (`diagnose`, from AWS); `result` holds
`Diagnosis`. `diagnose_task` is pure: it takes data and returns a `Diagnosis`.
"""

from sfnecs.diagnose.categories import EXIT_MEANINGS, MATCHERS, Matcher, diagnose_task
from sfnecs.diagnose.evidence import ESSENTIAL_EXITED, Facts
from sfnecs.diagnose.reading import _EXECUTION_ARN as _EXECUTION_ARN  # what diagnose() reads as ARNs (tests check it)
from sfnecs.diagnose.reading import _TASK_ARN as _TASK_ARN
from sfnecs.diagnose.reading import diagnose
from sfnecs.diagnose.result import CONFIDENCES, Diagnosis

__all__ = [
    "CONFIDENCES",
    "Diagnosis",
    "ESSENTIAL_EXITED",
    "EXIT_MEANINGS",
    "Facts",
    "MATCHERS",
    "Matcher",
    "diagnose",
    "diagnose_task",
]
