"""Push an OCI image layout to ECR through the layer-upload API and PutImage, without Docker.

Why: notebooks, tests and the demo need images of a known platform in the sandbox's ECR (or a
real one); these are the calls any registry client makes, so both answer alike.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from sfnecs.checks import check_name
from sfnecs.exceptions import ValidationError
from sfnecs.images.manifests import OCI_MANIFEST, blob_path, check_tag, is_index_document, json_list, json_object


def push_oci_layout(ecr_client: Any, layout: str | Path, repository: str, tag: str = "latest") -> str:
    """Push an OCI image layout (e.g. from build_fixture_image) to ECR; return the tagged manifest's digest.

    Why: notebooks and tests need images of a known platform in the sandbox's ECR (or a real one)
    without Docker. Blobs go through ECR's layer-upload API (InitiateLayerUpload, UploadLayerPart,
    CompleteLayerUpload), manifests through PutImage: an index's entries by digest, the top by tag.
    """
    check_name("repository", repository, "repository")
    check_tag("tag", tag)
    root = Path(layout)
    if not (root / "index.json").is_file():
        raise ValidationError("layout", str(layout), "an OCI image layout directory (with index.json)")
    entries = json_object(json.loads((root / "index.json").read_bytes()), "index.json").get("manifests") or []
    top = json_object(entries[0] if entries else None, "index.json entry")
    _push_manifest(ecr_client, root, repository, top, tag)
    return str(top["digest"])


def _push_manifest(ecr: Any, root: Path, repository: str, desc: Mapping[str, Any], tag: str | None) -> None:
    """PutImage one manifest after its blobs (or, for an index, after its entries, untagged)."""
    raw = (root / blob_path(desc["digest"])).read_bytes()
    doc = json_object(json.loads(raw), f"manifest {desc['digest']}")
    if is_index_document(doc, str(desc.get("mediaType") or "")):
        for child in json_list(doc.get("manifests"), "index manifests"):
            _push_manifest(ecr, root, repository, json_object(child, "index entry"), None)
    else:
        for blob in [json_object(doc.get("config"), "config descriptor"), *json_list(doc.get("layers"), "layers")]:
            _push_blob(ecr, root, repository, blob["digest"])
    ecr.put_image(
        repositoryName=repository,
        imageManifest=raw.decode(),
        imageDigest=desc["digest"],
        imageManifestMediaType=desc.get("mediaType") or doc.get("mediaType") or OCI_MANIFEST,
        **({"imageTag": tag} if tag else {}),
    )


def _push_blob(ecr: Any, root: Path, repository: str, digest: str) -> None:
    """Upload one blob in the parts ECR asks for, unless the repository already has it."""
    found = ecr.batch_check_layer_availability(repositoryName=repository, layerDigests=[digest])
    if any(layer.get("layerAvailability") == "AVAILABLE" for layer in found.get("layers") or []):
        return
    data = (root / blob_path(digest)).read_bytes()
    upload = ecr.initiate_layer_upload(repositoryName=repository)
    part = int(upload.get("partSize") or len(data) or 1)
    for first in range(0, len(data), part):
        chunk = data[first : first + part]
        ecr.upload_layer_part(
            repositoryName=repository,
            uploadId=upload["uploadId"],
            partFirstByte=first,
            partLastByte=first + len(chunk) - 1,
            layerPartBlob=chunk,
        )
    ecr.complete_layer_upload(repositoryName=repository, uploadId=upload["uploadId"], layerDigests=[digest])
