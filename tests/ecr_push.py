"""Test helper: push a tiny image (config blob + manifest, or an index) to the sandbox's ECR."""

from __future__ import annotations

import hashlib
import json
from typing import Any


def _upload(ecr: Any, repo: str, data: bytes) -> str:
    upload = ecr.initiate_layer_upload(repositoryName=repo)
    ecr.upload_layer_part(
        repositoryName=repo,
        uploadId=upload["uploadId"],
        partFirstByte=0,
        partLastByte=len(data) - 1,
        layerPartBlob=data,
    )
    digest = "sha256:" + hashlib.sha256(data).hexdigest()
    ecr.complete_layer_upload(repositoryName=repo, uploadId=upload["uploadId"], layerDigests=[digest])
    return digest


def push_single(ecr: Any, repo: str, tag: str, arch: str, entrypoint: str = "/app/job") -> str:
    """A single-platform image whose config says `arch` (amd64/arm64)."""
    config = json.dumps(
        {
            "architecture": arch,
            "os": "linux",
            "config": {"Entrypoint": [entrypoint]},
            "rootfs": {"type": "layers", "diff_ids": []},
        }
    ).encode()
    digest = _upload(ecr, repo, config)
    manifest = {
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": digest, "size": len(config)},
        "layers": [],
    }
    ecr.put_image(
        repositoryName=repo,
        imageTag=tag,
        imageManifest=json.dumps(manifest),
        imageManifestMediaType="application/vnd.oci.image.manifest.v1+json",
    )
    return digest


def push_index(ecr: Any, repo: str, tag: str, archs: list[str]) -> None:
    """A multi-platform index listing `archs`."""
    index = {
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.index.v1+json",
        "manifests": [
            {
                "mediaType": "application/vnd.oci.image.manifest.v1+json",
                "size": 100,
                "digest": "sha256:" + hashlib.sha256(a.encode()).hexdigest(),
                "platform": {"architecture": a, "os": "linux"},
            }
            for a in archs
        ],
    }
    ecr.put_image(
        repositoryName=repo,
        imageTag=tag,
        imageManifest=json.dumps(index),
        imageManifestMediaType="application/vnd.oci.image.index.v1+json",
    )
