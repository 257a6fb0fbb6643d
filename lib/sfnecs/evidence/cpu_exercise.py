"""Lesson 05's exercise: a learner's runtime platform for an image, deployed and run in the sandbox.

Why a library call: the self-check must make the sandbox react (the answer is deployed as the task's
`cpuArchitecture` and the task runs on it, failing with `exec format error` on the wrong CPU) and must
deploy nothing while the exercise is unanswered, so that a stored lesson shows "Your turn". The verdict
itself comes from `sfnecs.evidence.exercises.check`, comparing the answer with the CPU the kit reads
from the image's entrypoint binary (the same reader the sandbox's Fargate emulator uses).
"""

from __future__ import annotations

from dataclasses import dataclass

from sfnecs.checks import check_choice
from sfnecs.deploy.stack import apply
from sfnecs.exceptions import ValidationError
from sfnecs.images.readers import ecr_platforms
from sfnecs.model.arns import ECR_IMAGE_RE
from sfnecs.model.fargate import CPU_ARCHITECTURES
from sfnecs.model.spec import StackSpec
from sfnecs.model.target import Target
from sfnecs.runs.launch import start
from sfnecs.runs.results import RunResult
from sfnecs.runs.waiting import wait

__all__ = ["CpuAttempt", "try_cpu"]


@dataclass(frozen=True)
class CpuAttempt:
    """A runtime platform tried for an image: the answer, the CPU the kit reads, and the run (None: not answered)."""

    answer: str | None
    image_cpu: str | None  # the ECS cpuArchitecture the image's entrypoint runs on; None when it cannot be told
    result: RunResult | None  # None until answered: nothing was deployed or run

    @property
    def story(self) -> str:
        """What the sandbox did with the answer, in one sentence."""
        if self.result is None:
            return "nothing was deployed: no answer yet"
        r = self.result
        said = " | ".join(r.log_tail) or r.stopped_reason or r.cause or "no log line"
        return f"on {self.answer} the task ended {r.status} (exit code {r.exit_code}): {said}"


def try_cpu(target: Target, spec: StackSpec, image: str, answer: str | None, *, name: str) -> CpuAttempt:
    """Deploy `spec` with `answer` as its CPU and `image`, run it once and wait; deploy nothing for None.

    `name` names the execution. The image's own CPU is read from its entrypoint binary in ECR (what
    Fargate's kernel would check), so the verdict and the run tell the same story.
    """
    if answer is not None:
        check_choice("answer", answer, CPU_ARCHITECTURES)
    ref = ECR_IMAGE_RE.match(image) if isinstance(image, str) else None
    if ref is None or ref["digest"]:
        raise ValidationError(
            "image", image, "an ECR image URI with a tag, <account>.dkr.ecr.<region>.amazonaws.com/<repo>:<tag>"
        )
    found = ecr_platforms(target.client("ecr"), ref["repo"], ref["tag"] or "latest", inspect_binary=True)
    fits = [cpu for cpu in CPU_ARCHITECTURES if found.runs_on(cpu)]
    image_cpu = fits[0] if len(fits) == 1 else None
    if answer is None:
        return CpuAttempt(None, image_cpu, None)
    tried = spec.replace(cpu_architecture=answer, image=image)
    apply(target, tried)
    return CpuAttempt(answer, image_cpu, wait(target, start(target, tried, name=name), progress=False))
