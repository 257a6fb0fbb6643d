"""Lesson 05's two failures of an Apple Silicon image on an X86_64 task, and its exercise's self-check.

A default `docker buildx build --push` sends an index with a provenance attestation, so an arm64-only
image fails at the pull; a classic `docker build` + `docker push` sends one image manifest, which is
pulled, starts and dies with `exec format error`. The sandbox tells the two apart as Fargate does
(facts: buildx-default-attestation-index, docker-desktop-containerd-store).
"""

from __future__ import annotations

import pytest
from tests.test_stack import deployed, make_spec

from sfnecs import runs
from sfnecs.deploy import stack
from sfnecs.diagnose import diagnose
from sfnecs.evidence.cpu_exercise import try_cpu
from sfnecs.exceptions import ValidationError
from sfnecs.images import ecr_platforms
from sfnecs.images.sample import push_mystery_image, push_sample_image

FAST = runs.Backoff(initial=0.05, factor=1.6, cap=0.5)


@pytest.mark.sandbox
def test_an_attested_arm64_index_fails_the_pull_and_a_plain_arm64_image_fails_the_exec(target):
    spec = make_spec(target, "l05-builders", launch_retry_attempts=0, schedule_enabled=False)
    with deployed(target, spec, architecture=None):
        buildx = push_sample_image(target, spec.repository, "arm64", attestation=True, tag="buildx")
        classic = push_sample_image(target, spec.repository, "arm64", tag="classic")

        attested = ecr_platforms(target.client("ecr"), spec.repository, "buildx", inspect_binary=True)
        assert attested.is_index and [p.architecture for p in attested.platforms] == ["arm64"]
        assert any("attestation" in note for note in attested.notes)  # the unknown/unknown entry, skipped
        assert not ecr_platforms(target.client("ecr"), spec.repository, "classic").is_index

        results = {}
        for tag, image in (("buildx", buildx), ("classic", classic)):
            tried = spec.replace(image=image)  # no cpu_architecture: the X86_64 default
            stack.apply(target, tried)
            results[tag] = runs.wait(
                target, runs.start(target, tried, name=f"mac-{tag}"), progress=False, timeout=30, backoff=FAST
            )

        pull, exec_ = results["buildx"], results["classic"]
        assert pull.status == exec_.status == "FAILED"
        assert "CannotPullContainerError" in (pull.stopped_reason or "")
        assert "descriptor matching platform 'linux/amd64'" in (pull.stopped_reason or "")
        assert pull.exit_code is None and pull.log_tail == []  # no container ever started
        assert exec_.exit_code == 1 and exec_.log_tail == ["exec /app/job: exec format error"]
        assert exec_.stopped_reason == "Essential container in task exited"

        assert diagnose(target, pull.execution_arn, inspect_image=True).category == "platform_missing"
        assert diagnose(target, exec_.execution_arn, inspect_image=True).category == "architecture_mismatch"


@pytest.mark.sandbox
def test_the_exercise_deploys_nothing_until_answered_and_its_verdict_agrees_with_the_run(target, sandbox):
    spec = make_spec(target, "l05-mystery", launch_retry_attempts=0, schedule_enabled=False)
    with deployed(target, spec, architecture=None):
        for seed, cpu in ((7, "ARM64"), (3, None)):
            image = push_mystery_image(target, spec.repository, seed, tag=f"mystery-{seed}")
            sandbox.control("DELETE", "calls", {})
            unanswered = try_cpu(target, spec, image, None, name=f"unanswered-{seed}")
            assert unanswered.result is None and "nothing was deployed" in unanswered.story
            calls = sandbox.control("GET", "calls", {})["calls"]
            assert not [c for c in calls if "RegisterTaskDefinition" in c or "StartExecution" in c], calls
            if cpu is not None:
                assert unanswered.image_cpu == cpu  # seed 7 is the lesson's stored mystery: arm64
            for answer in ("X86_64", "ARM64"):
                tried = try_cpu(target, spec, image, answer, name=f"mystery-{seed}-{answer}")
                assert tried.result is not None
                assert tried.result.ok == (answer == unanswered.image_cpu), tried.story
                if not tried.result.ok:
                    assert tried.story.endswith("exec /app/job: exec format error")


def test_the_exercise_refuses_a_cpu_name_ecs_does_not_use(target):
    with pytest.raises(ValidationError, match="answer='arm64'.*X86_64 or ARM64"):
        try_cpu(
            target, make_spec(target, "l05-bad"), "123456789012.dkr.ecr.us-east-1.amazonaws.com/x:y", "arm64", name="n"
        )
    with pytest.raises(ValidationError, match="image="):
        try_cpu(target, make_spec(target, "l05-bad"), "alpine:3", "ARM64", name="n")


@pytest.mark.sandbox
def test_attestation_is_checked_before_any_call(target, sandbox):
    sandbox.control("DELETE", "calls", {})
    for kwargs in ({"attestation": "yes"}, {"label_architecture": "arm64", "attestation": True}):
        with pytest.raises(ValidationError, match="attestation="):
            push_sample_image(target, "any-repo", "amd64", **kwargs)
    assert sandbox.control("GET", "calls", {})["total"] == 0
