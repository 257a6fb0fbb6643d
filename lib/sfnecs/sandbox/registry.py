"""The sandbox's image registry: ECR layer uploads (moto lacks them) and what platforms an image has.

Why: the architecture lessons need ECR to answer like AWS — an image index lists its platforms;
a single-platform image's config blob says its `architecture` — so the Fargate emulator can fail
a mismatched launch the way Fargate does.
"""

from __future__ import annotations

import base64
import hashlib
import json
import threading
import uuid
from dataclasses import dataclass
from typing import Any

from sfnecs.model.arns import ECR_IMAGE_RE

INDEX_TYPES = (
    "application/vnd.oci.image.index.v1+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
)
#: ECS cpuArchitecture -> OCI architecture name
ECS_TO_OCI_ARCH = {"X86_64": "amd64", "ARM64": "arm64"}


class BlobStore:
    """Content-addressed blobs uploaded through the ECR layer API, per repository."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._blobs: dict[str, bytes] = {}
        self._uploads: dict[str, bytearray] = {}

    def initiate(self) -> str:
        upload_id = str(uuid.uuid4())
        with self._lock:
            self._uploads[upload_id] = bytearray()
        return upload_id

    def upload_part(self, upload_id: str, first: int, data: bytes) -> int:
        with self._lock:
            buf = self._uploads.get(upload_id)
            if buf is None:
                raise KeyError(upload_id)
            if first != len(buf):
                raise ValueError(f"part starts at byte {first}, but {len(buf)} bytes were uploaded so far")
            buf.extend(data)
            return len(buf) - 1

    def complete(self, upload_id: str, digests: list[str]) -> str:
        with self._lock:
            data = bytes(self._uploads.pop(upload_id))
        actual = "sha256:" + hashlib.sha256(data).hexdigest()
        if digests and digests[0] != actual:
            raise ValueError(f"layer digest {digests[0]} does not match the uploaded content ({actual})")
        self.put(data)
        return actual

    def put(self, data: bytes) -> str:
        digest = "sha256:" + hashlib.sha256(data).hexdigest()
        with self._lock:
            self._blobs[digest] = data
        return digest

    def get(self, digest: str) -> bytes | None:
        with self._lock:
            return self._blobs.get(digest)

    def clear(self) -> None:
        with self._lock:
            self._blobs.clear()
            self._uploads.clear()


@dataclass(frozen=True)
class ImageLookup:
    """What the sandbox registry knows about an image reference."""

    known: bool  # False: not an ECR image of this sandbox (e.g. a public image): runs as matching
    found: bool  # False: an ECR reference that does not resolve (pull fails: not found)
    platforms: tuple[str, ...] = ()  # "linux/amd64", ...; empty when it cannot be told
    is_index: bool = False
    entrypoint: tuple[str, ...] = ()

    def supports(self, cpu_architecture: str, os_family: str = "LINUX") -> bool | None:
        """True/False when the platforms are known, None when they cannot be told."""
        if not self.platforms:
            return None
        os_name = "linux" if os_family == "LINUX" else "windows"
        return f"{os_name}/{ECS_TO_OCI_ARCH.get(cpu_architecture, cpu_architecture.lower())}" in self.platforms


def lookup(image: str, ecr_backends: Any, blobs: BlobStore) -> ImageLookup:
    """Resolve an image reference against the sandbox's ECR (moto backend + our blob store)."""
    m = ECR_IMAGE_RE.match(image)
    if not m:
        return ImageLookup(known=False, found=True)
    try:
        backend = ecr_backends[m["account"]][m["region"]]
        repo = backend.repositories.get(m["repo"])
    except Exception:  # noqa: BLE001 - unknown account/region: nothing in the registry
        repo = None
    if repo is None:
        return ImageLookup(known=True, found=False)
    tag, digest = m["tag"], m["digest"]
    if not tag and not digest:
        tag = "latest"
    for img in repo.images:
        tags = getattr(img, "image_tags", None) or ([img.image_tag] if getattr(img, "image_tag", None) else [])
        if (digest and img.image_digest == digest) or (tag and tag in tags):
            return _platforms_of(img.image_manifest, blobs)
    return ImageLookup(known=True, found=False)


def _platforms_of(manifest_text: str, blobs: BlobStore) -> ImageLookup:
    try:
        manifest = json.loads(manifest_text)
    except (TypeError, ValueError):
        return ImageLookup(known=True, found=True)
    media = manifest.get("mediaType", "")
    if media in INDEX_TYPES or "manifests" in manifest:
        plats = tuple(
            f"{p.get('os', 'linux')}/{p.get('architecture', '?')}"
            for p in (d.get("platform", {}) for d in manifest.get("manifests", []))
            if p.get("architecture") != "unknown"  # attestation manifests (buildx) carry unknown/unknown
        )
        return ImageLookup(known=True, found=True, platforms=plats, is_index=True)
    config_digest = (manifest.get("config") or {}).get("digest", "")
    raw = blobs.get(config_digest)
    if raw is None:
        return ImageLookup(known=True, found=True)
    try:
        config = json.loads(raw)
    except ValueError:
        return ImageLookup(known=True, found=True)
    arch = config.get("architecture")
    inner = config.get("config") or {}
    entry = tuple(inner.get("Entrypoint") or ()) + tuple(inner.get("Cmd") or ())
    plats = (f"{config.get('os', 'linux')}/{arch}",) if arch else ()
    # The kernel execs the entrypoint, whatever the label says: when the layers hold it, its ELF
    # header decides (a label can lie: an arm64 image holding an x86-64 download). An entryPoint
    # set in the task definition is not seen here; the image's own Entrypoint/Cmd is.
    from sfnecs.images import manifest_platforms

    binary = manifest_platforms(manifest, blobs.get, source="sandbox registry").binary
    if binary is not None and binary.platform is not None:
        plats = (f"{config.get('os', 'linux')}/{binary.platform.architecture}",)
    return ImageLookup(known=True, found=True, platforms=plats, entrypoint=entry)


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()
