"""A tiny sample image pushed to ECR through the layer-upload API, for tests, notebooks and the demo.

Why: the architecture lessons need an image whose platforms are known — a single-platform image
whose config says `amd64` or `arm64`, or an image index listing platforms — without Docker. The
same ECR calls a registry client makes (InitiateLayerUpload, UploadLayerPart, CompleteLayerUpload,
PutImage) work against the sandbox and real ECR alike; the images are not runnable on real Fargate
(they hold no layers), which is why this module is called *sample*.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any, Sequence

from sfnecs.exceptions import ImageError, ValidationError
from sfnecs.spec import check_name

OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
ARCHITECTURES = ("amd64", "arm64")


def _canonical(doc: dict[str, Any]) -> bytes:
    return json.dumps(doc, separators=(",", ":"), sort_keys=True).encode()


def _digest(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def config_blob(architecture: str, entrypoint: str = "/app/job") -> bytes:
    """An OCI image config (image-spec "config.md") for linux/`architecture`: pure data."""
    check_arch(architecture)
    return _canonical({"architecture": architecture, "os": "linux",
                       "config": {"Entrypoint": [entrypoint]}, "rootfs": {"type": "layers", "diff_ids": []}})


def manifest_for(config: bytes) -> dict[str, Any]:
    """An OCI image manifest that points at `config` and has no layers."""
    return {"schemaVersion": 2, "mediaType": OCI_MANIFEST,
            "config": {"mediaType": OCI_CONFIG, "digest": _digest(config), "size": len(config)}, "layers": []}


def check_arch(architecture: object) -> str:
    if architecture not in ARCHITECTURES:
        raise ValidationError("architecture", architecture, "amd64 or arm64 (OCI architecture names)")
    return architecture  # type: ignore[return-value]


def _upload_blob(ecr: Any, repository: str, data: bytes) -> str:
    upload = ecr.initiate_layer_upload(repositoryName=repository)
    ecr.upload_layer_part(repositoryName=repository, uploadId=upload["uploadId"], partFirstByte=0,
                          partLastByte=len(data) - 1, layerPartBlob=data)
    return ecr.complete_layer_upload(repositoryName=repository, uploadId=upload["uploadId"],
                                     layerDigests=[_digest(data)])["layerDigest"]


def _put(ecr: Any, repository: str, manifest: dict[str, Any], media_type: str, tag: str | None) -> str:
    body = _canonical(manifest)
    extra = {"imageTag": tag} if tag else {"imageDigest": _digest(body)}
    ecr.put_image(repositoryName=repository, imageManifest=body.decode(), imageManifestMediaType=media_type, **extra)
    return _digest(body)


def push_sample_image(target: Any, repository: str, architecture: str = "amd64", *,
                      platforms: Sequence[str] | None = None, tag: str = "latest",
                      entrypoint: str = "/app/job") -> str:
    """Push a sample image to `repository` and return its image URI (`...amazonaws.com/<repo>:<tag>`).

    Single-platform (default): a manifest whose config says `architecture`; on a task of the
    other CPU the sandbox's Fargate emulator fails with `exec format error`. With `platforms`
    (e.g. ["amd64"]): an OCI image index listing those architectures, each with its own manifest;
    a task whose CPU is missing fails the pull (CannotPullContainerError ... descriptor matching).
    The repository must exist (the stack creates its own: `stack.apply`).
    """
    check_name("repository", repository, "repository")
    if not isinstance(tag, str) or not tag or len(tag) > 300:
        raise ValidationError("tag", tag, "an image tag of 1-300 characters")
    ecr = target.client("ecr")
    try:
        ecr.describe_repositories(repositoryNames=[repository])
    except ecr.exceptions.RepositoryNotFoundException:
        raise ImageError(f"repository={repository!r} does not exist in {target.region}: apply the stack first "
                         "(it creates its repository) or create the repository") from None
    if platforms is None:
        config = config_blob(architecture, entrypoint)
        _upload_blob(ecr, repository, config)
        _put(ecr, repository, manifest_for(config), OCI_MANIFEST, tag)
    else:
        archs = [check_arch(a) for a in platforms]
        if not archs:
            raise ValidationError("platforms", platforms, "at least one of amd64, arm64")
        entries = []
        for arch in archs:
            config = config_blob(arch, entrypoint)
            _upload_blob(ecr, repository, config)
            manifest = manifest_for(config)
            digest = _put(ecr, repository, manifest, OCI_MANIFEST, None)
            entries.append({"mediaType": OCI_MANIFEST, "digest": digest, "size": len(_canonical(manifest)),
                            "platform": {"architecture": arch, "os": "linux"}})
        _put(ecr, repository, {"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": entries}, OCI_INDEX, tag)
    return f"{target.account}.dkr.ecr.{target.region}.amazonaws.com/{repository}:{tag}"
