"""The sandbox's image registry: ECR layer uploads (moto lacks them) and what platforms an image has.

Why: the architecture lessons need ECR to answer like AWS — an image index lists its platforms;
a single-platform image's config blob says its `architecture` — so the Fargate emulator can fail
a mismatched launch the way Fargate does. The platforms are read by the library's own image
reader (`sfnecs.images.manifest_platforms`), so the sandbox and `verify`/`diagnose` agree.
"""

from __future__ import annotations

import base64
import hashlib
import json
import threading
import uuid
from dataclasses import dataclass
from typing import Any

from sfnecs.images.platforms import ImagePlatforms
from sfnecs.images.readers import manifest_platforms
from sfnecs.model.arns import ECR_IMAGE_RE
from sfnecs.model.fargate import CPU_ARCHITECTURES, OS_FAMILIES


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
    image: ImagePlatforms | None = None  # what the image reader found; None when there was nothing to read

    @property
    def is_index(self) -> bool:
        """Whether the pull resolves an image index (a missing platform then fails the pull)."""
        return self.image is not None and self.image.is_index

    @property
    def entrypoint(self) -> tuple[str, ...]:
        """A single-platform image's own Entrypoint + Cmd; () for an index or when unknown."""
        binary = self.image.binary if self.image is not None and not self.image.is_index else None
        return binary.command if binary is not None else ()

    def supports(self, cpu_architecture: str, os_family: str = "LINUX") -> bool | None:
        """True/False when the platforms are known, None when they cannot be told.

        An index is judged by its entries' platforms (what the pull checks); a single-platform
        image by what the kernel would exec: the entrypoint's ELF header when the layers hold it
        (a label can lie: an arm64 image holding an x86-64 download), else the config's label.
        """
        if self.image is None or cpu_architecture not in CPU_ARCHITECTURES or os_family not in OS_FAMILIES:
            return None  # a runtimePlatform ECS refuses at registration (moto accepts it): nothing to compare
        if self.image.is_index:
            return self.image.supports(cpu_architecture, os_family)
        return self.image.runs_on(cpu_architecture, os_family)


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
    """Read an image's platforms from its manifest and the blobs uploaded through the layer API."""
    try:
        manifest = json.loads(manifest_text)
    except (TypeError, ValueError):
        return ImageLookup(known=True, found=True)
    # An entryPoint set in the task definition is not seen here; the image's own Entrypoint/Cmd is.
    return ImageLookup(known=True, found=True, image=manifest_platforms(manifest, blobs.get, source="sandbox registry"))


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()
