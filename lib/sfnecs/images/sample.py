"""A tiny sample image pushed to ECR through the layer-upload API, for tests, notebooks and the demo.

Why: the architecture lessons need an image whose platforms are known — a single-platform image
whose config says `amd64` or `arm64`, or an image index listing platforms — without Docker. Each
image has one layer holding its entrypoint, a real minimal ELF executable for its CPU
(sfnecs.images.elf.minimal_elf: it exits 0), so `images.ecr_platforms(..., inspect_binary=True)` reads
the same CPU from the binary as from the label. The image is built by
`images.build_fixture_image` and pushed by `images.push_oci_layout`: the ECR calls a registry
client makes (InitiateLayerUpload, UploadLayerPart, CompleteLayerUpload, PutImage), which work
against the sandbox and real ECR alike. On real Fargate it runs and exits 0 at once, whatever
the sandbox's job language (SFNECS_* variables) asks: hence *sample*.
"""

from __future__ import annotations

import tempfile
from collections.abc import Sequence
from pathlib import Path

from sfnecs.checks import check_name
from sfnecs.exceptions import ImageError, ValidationError
from sfnecs.images.fixtures import build_fixture_image
from sfnecs.images.manifests import check_tag
from sfnecs.images.push import push_oci_layout
from sfnecs.model.platforms import ECS_PLATFORMS
from sfnecs.model.target import Target

#: The OCI architectures Fargate runs, in ECS_PLATFORMS order: ("amd64", "arm64").
ARCHITECTURES = tuple(p.architecture for p in ECS_PLATFORMS.values())


def check_arch(architecture: object) -> str:
    """Return `architecture` if it is one Fargate runs (OCI names), else raise ValidationError."""
    if architecture not in ARCHITECTURES:
        raise ValidationError("architecture", architecture, "amd64 or arm64 (OCI architecture names)")
    return architecture


def push_sample_image(
    target: Target,
    repository: str,
    architecture: str = "amd64",
    *,
    platforms: Sequence[str] | None = None,
    tag: str = "latest",
    entrypoint: str = "/app/job",
    label_architecture: str | None = None,
    attestation: bool = False,
) -> str:
    """Push a sample image to `repository` and return its image URI (`...amazonaws.com/<repo>:<tag>`).

    Single-platform (default): a manifest whose config says `architecture`; on a task of the
    other CPU the sandbox's Fargate emulator fails with `exec format error`. With `platforms`
    (e.g. ["amd64"]): an OCI image index listing those architectures, each with its own manifest;
    a task whose CPU is missing fails the pull (CannotPullContainerError ... descriptor matching).
    `label_architecture` makes the config claim another CPU than the binary's (single-platform
    only): the "labels lie" case, e.g. an arm64 image holding an x86-64 download.
    `attestation` adds BuildKit's provenance attestation manifest (platform unknown/unknown) after each
    image and so always pushes an index, as a default `docker buildx build --push` does, even for one
    platform (fact: buildx-default-attestation-index).
    The repository must exist (the stack creates its own: `stack.apply`).
    """
    check_name("repository", repository, "repository")
    if platforms is None:
        check_arch(architecture)
    else:
        if isinstance(platforms, str) or not list(platforms):
            raise ValidationError("platforms", platforms, "a non-empty list of amd64, arm64")
        for arch in platforms:
            check_arch(arch)
        if label_architecture is not None:
            raise ValidationError(
                "label_architecture",
                label_architecture,
                "None when platforms= is given (an index's entries are labelled by their own architecture)",
            )
    if label_architecture is not None:
        check_arch(label_architecture)
        if attestation:
            raise ValidationError("attestation", attestation, "False with label_architecture (a single-platform image)")
    if not isinstance(attestation, bool):
        raise ValidationError("attestation", attestation, "True or False")
    check_tag("tag", tag)
    if not isinstance(entrypoint, str) or not entrypoint.startswith("/") or len(entrypoint) < 2:
        raise ValidationError("entrypoint", entrypoint, "an absolute path such as /app/job")
    ecr = target.client("ecr")
    try:
        ecr.describe_repositories(repositoryNames=[repository])
    except ecr.exceptions.RepositoryNotFoundException:
        raise ImageError(
            f"repository={repository!r} does not exist in {target.region}: apply the stack first "
            "(it creates its repository) or create the repository"
        ) from None
    with tempfile.TemporaryDirectory(prefix="sfnecs-sample-") as tmp:
        layout = build_fixture_image(
            Path(tmp) / "image",
            architecture,
            label_architecture,
            entrypoint,
            platforms=list(platforms) if platforms is not None else None,
            attestation=attestation,
            tag=tag,
        )
        push_oci_layout(ecr, layout, repository, tag)
    return f"{target.account}.dkr.ecr.{target.region}.amazonaws.com/{repository}:{tag}"


def push_mystery_image(target: Target, repository: str, seed: int, *, tag: str = "mystery") -> str:
    """Push a sample image for a CPU picked by `seed` (amd64 or arm64) and return its URI, without saying which.

    Why: an exercise in finding an image's CPU with the tools (`images.ecr_platforms`, `diagnose`),
    where reading the code that pushed it would give the answer away. The same seed gives the same CPU.
    """
    import random

    if isinstance(seed, bool) or not isinstance(seed, int):
        raise ValidationError("seed", seed, "a whole number (the same seed gives the same image)")
    return push_sample_image(target, repository, random.Random(seed).choice(ARCHITECTURES), tag=tag)
