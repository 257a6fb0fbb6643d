"""Read an image's platforms: from ECR, from a local layout or tarball, or from a registry's blobs.

Why: these are the three places an image is checked before a task runs it (what Fargate would
pull, what is about to be pushed, what a registry already holds); each picks its store and
starts the same walk.
"""

from __future__ import annotations

import tarfile
from collections.abc import Callable, Sequence
from contextlib import ExitStack
from functools import partial
from pathlib import Path
from typing import Any

from sfnecs.checks import check_name
from sfnecs.exceptions import ValidationError
from sfnecs.images.manifests import DIGEST, TAG, UNREADABLE, load_json, unreadable_reason
from sfnecs.images.platforms import ImagePlatforms
from sfnecs.images.stores import BlobFunction, DirStore, EcrStore, Fetch, TarStore
from sfnecs.images.walk import Walk, walk_docker_save, walk_layout


def manifest_platforms(
    manifest: Any, blob: Callable[[str], bytes | None], *, source: str = "manifest", inspect_binary: bool = True
) -> ImagePlatforms:
    """The platforms of an image manifest (or image index) whose config and layers `blob(digest)` returns.

    Why: a registry that already holds the blobs (the sandbox's ECR) can tell what the kernel
    would exec — the entrypoint's ELF header — without a download. An index is read from its
    entries' platforms (and from the entries' manifests where `blob` has them). Never raises on bad input.
    """
    with ExitStack() as stack:
        walk = Walk(BlobFunction(blob), stack, inspect_binary=inspect_binary, read_configs=True, entrypoint=None)
        walk.guard(partial(walk.start, manifest), source)
        return walk.result(source)


def ecr_platforms(
    ecr_client: Any,
    repository: str,
    tag_or_digest: str = "latest",
    fetch: Fetch | None = None,
    *,
    registry_id: str | None = None,
    inspect_binary: bool = False,
) -> ImagePlatforms:
    """The platforms of an ECR image, from its index or (single-platform) its config blob.

    Why: this is what Fargate reads before it starts a container. `fetch(url)` downloads a blob
    from the URL GetDownloadUrlForLayer returns (requests.get by default; tests inject a fake).
    `inspect_binary=True` also downloads the layers to read the entrypoint's ELF header.
    """
    check_name("repository", repository, "repository")
    if not isinstance(tag_or_digest, str) or not (TAG.fullmatch(tag_or_digest) or DIGEST.fullmatch(tag_or_digest)):
        raise ValidationError(
            "tag_or_digest",
            tag_or_digest,
            "an image tag (letters, digits, . _ -; up to 300) or a digest such as sha256:<64 hex>",
        )
    is_digest = bool(DIGEST.fullmatch(tag_or_digest))  # tags cannot contain ':', digests must
    source = f"ecr:{repository}{'@' if is_digest else ':'}{tag_or_digest}"
    store = EcrStore(ecr_client, repository, registry_id, fetch)
    with ExitStack() as stack:
        walk = Walk(store, stack, inspect_binary=inspect_binary, read_configs=False, entrypoint=None)
        try:
            doc, media_type = store.get_image({"imageDigest" if is_digest else "imageTag": tag_or_digest})
            walk.start(doc, media_type)
        except UNREADABLE as exc:
            walk.problems.append(unreadable_reason(exc))
        return walk.result(source)


def local_platforms(
    path: str | Path, *, ref: str | None = None, inspect_binary: bool = True, entrypoint: Sequence[str] | None = None
) -> ImagePlatforms:
    """The platforms of an OCI image layout directory, an OCI tarball or a `docker save` tarball.

    Why: check an image before pushing it, or inspect one pulled from anywhere. `ref` picks one
    image when the layout or archive holds several (by ref name or repo tag); `entrypoint`
    overrides the config's Entrypoint+Cmd, as a task definition's entryPoint/command would.
    Malformed input never raises: the result's `cannot_tell` says what could not be read.
    """
    p = Path(path)
    if not p.exists():
        raise ValidationError(
            "path",
            str(path),
            "an existing OCI image layout directory, or a tar file written by `docker save` or as an OCI archive",
        )
    if entrypoint is not None and (isinstance(entrypoint, str) or not all(isinstance(a, str) for a in entrypoint)):
        raise ValidationError("entrypoint", entrypoint, "a list of strings such as ['/app/job', '--flag']")
    with ExitStack() as stack:
        walk = Walk(None, stack, inspect_binary=inspect_binary, read_configs=True, entrypoint=entrypoint)
        try:
            if p.is_dir():
                oci = (p / "index.json").is_file()
                walk.store = DirStore(p, by_digest=oci)
            else:
                tar = stack.enter_context(tarfile.open(p, "r:*"))
                probe = TarStore(tar, by_digest=True)
                oci = probe.has("index.json")
                walk.store = probe if oci else TarStore(tar, by_digest=False)
            read = walk.store.read
            if oci:
                walk_layout(walk, load_json(read("index.json"), "index.json"), ref)
            else:
                walk_docker_save(walk, load_json(read("manifest.json"), "manifest.json"), ref)
        except UNREADABLE as exc:
            walk.problems.append(f"cannot read {p.name}: {unreadable_reason(exc)}")
        except RecursionError:
            walk.problems.append(f"cannot read {p.name}: JSON nested too deeply")
        return walk.result(str(p))
