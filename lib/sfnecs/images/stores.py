"""Where manifests and blobs come from: an OCI layout folder, a tarball, ECR, or a function.

Why: one walk reads every source, so each store answers the same three questions (a manifest, a
blob, a layer stream) for OCI layouts (by digest) and `docker save` archives (by path), read in
place from a folder or a tar file; ECR through BatchGetImage and GetDownloadUrlForLayer; and a
registry's own blob store (the sandbox's ECR) through a `digest -> bytes` function.
"""

from __future__ import annotations

import io
import posixpath
import tarfile
from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path
from typing import IO, Any, Protocol

from sfnecs.exceptions import ImageError
from sfnecs.images.manifests import ACCEPTED_MEDIA_TYPES, MAX_JSON, blob_path, load_json


class Store(Protocol):
    """A source of manifests and blobs addressed by digest (OCI) or by path (docker save)."""

    def manifest(self, ref: str) -> Any: ...

    def blob(self, ref: str) -> bytes: ...

    def open_layer(self, ref: str, stack: ExitStack) -> IO[bytes]: ...


def _safe_relative(ref: str) -> str:
    """A path inside the archive or directory; absolute paths and '..' escapes are refused."""
    if not isinstance(ref, str) or not ref:
        raise ImageError(f"path {ref!r} in the image is not a non-empty string")
    norm = posixpath.normpath(ref)
    if ref.startswith("/") or norm == "." or norm == ".." or norm.startswith("../"):
        raise ImageError(f"path {ref!r} in the image points outside it")
    return norm


class DirStore:
    """An OCI image layout directory, or an extracted `docker save` directory."""

    def __init__(self, root: Path, by_digest: bool):
        self.root, self.by_digest = root.resolve(), by_digest

    def _path(self, ref: str) -> Path:
        rel = blob_path(ref) if self.by_digest else _safe_relative(ref)
        path = (self.root / rel).resolve()
        if self.root not in path.parents or not path.is_file():
            raise ImageError(f"{rel} is missing from {self.root}")
        return path

    def read(self, name: str) -> bytes:
        path = self.root / name
        if not path.is_file():
            raise ImageError(f"{name} is missing from {self.root}")
        with open(path, "rb") as fh:
            return fh.read(MAX_JSON + 1)

    def manifest(self, ref: str) -> Any:
        return load_json(self.blob(ref), f"manifest {ref}")

    def blob(self, ref: str) -> bytes:
        with open(self._path(ref), "rb") as fh:
            return fh.read(MAX_JSON + 1)

    def open_layer(self, ref: str, stack: ExitStack) -> IO[bytes]:
        return stack.enter_context(open(self._path(ref), "rb"))


class TarStore:
    """An OCI layout or a `docker save` archive, read in place from its tar file."""

    def __init__(self, tar: tarfile.TarFile, by_digest: bool):
        self.tar, self.by_digest = tar, by_digest
        self.members = {norm_member(m.name): m for m in tar.getmembers()}

    def has(self, name: str) -> bool:
        return name in self.members

    def _open(self, rel: str) -> IO[bytes]:
        member = self.members.get(rel)
        fh = self.tar.extractfile(member) if member is not None and (member.isfile() or member.islnk()) else None
        if fh is None:
            raise ImageError(f"{rel} is missing from the archive")
        return fh

    def read(self, name: str) -> bytes:
        return self._open(name).read(MAX_JSON + 1)

    def manifest(self, ref: str) -> Any:
        return load_json(self.blob(ref), f"manifest {ref}")

    def blob(self, ref: str) -> bytes:
        return self._open(blob_path(ref) if self.by_digest else _safe_relative(ref)).read(MAX_JSON + 1)

    def open_layer(self, ref: str, stack: ExitStack) -> IO[bytes]:
        return self._open(blob_path(ref) if self.by_digest else _safe_relative(ref))


Fetch = Callable[[str], Any]


def _default_fetch(url: str) -> Any:
    import requests

    return requests.get(url, timeout=60)


class EcrStore:
    """ECR: manifests from BatchGetImage, blobs from GetDownloadUrlForLayer + an HTTP GET."""

    def __init__(self, client: Any, repository: str, registry_id: str | None, fetch: Fetch | None):
        self.client, self.repository, self.fetch = client, repository, fetch or _default_fetch
        self.extra = {"registryId": registry_id} if registry_id else {}

    def get_image(self, image_id: dict[str, str]) -> tuple[Any, str]:
        """(manifest JSON, media type) for one image id; ImageError with ECR's reason when absent."""
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            resp = self.client.batch_get_image(
                repositoryName=self.repository,
                imageIds=[image_id],
                acceptedMediaTypes=list(ACCEPTED_MEDIA_TYPES),
                **self.extra,
            )
        except (ClientError, BotoCoreError) as exc:
            raise ImageError(f"ECR BatchGetImage failed: {exc}") from None
        images = resp.get("images") or []
        if not images:
            fail = (resp.get("failures") or [{}])[0]
            why = f"{fail.get('failureCode', 'ImageNotFound')}: {fail.get('failureReason', '')}".rstrip(": ")
            raise ImageError(f"ECR has no image {image_id} in {self.repository}: {why}")
        image = images[0]
        text = image.get("imageManifest") or ""
        return load_json(text.encode(), f"manifest {image_id}"), image.get("imageManifestMediaType") or ""

    def manifest(self, ref: str) -> Any:
        return self.get_image({"imageDigest": ref})[0]

    def blob(self, ref: str) -> bytes:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            url = self.client.get_download_url_for_layer(repositoryName=self.repository, layerDigest=ref, **self.extra)[
                "downloadUrl"
            ]
        except (ClientError, BotoCoreError, KeyError) as exc:
            raise ImageError(f"ECR GetDownloadUrlForLayer({ref}) failed: {exc}") from None
        response = self.fetch(url)
        if isinstance(response, (bytes, bytearray)):
            return bytes(response)
        if hasattr(response, "raise_for_status"):
            response.raise_for_status()  # requests' HTTPError is an OSError: caught as "cannot tell"
        return bytes(response.content)

    def open_layer(self, ref: str, stack: ExitStack) -> IO[bytes]:
        return io.BytesIO(self.blob(ref))


def norm_member(name: str) -> str:
    """An archive member's name as a path from the image root ('./a/../b' -> 'b')."""
    return posixpath.normpath("/" + name).lstrip("/")


class BlobFunction:
    """Blobs from a function `digest -> bytes or None` (e.g. a registry's own blob store)."""

    def __init__(self, blob: Callable[[str], bytes | None]):
        self._blob = blob

    def manifest(self, ref: str) -> Any:
        return load_json(self.blob(ref), f"manifest {ref}")

    def blob(self, ref: str) -> bytes:
        data = self._blob(ref) if isinstance(ref, str) else None
        if data is None:
            raise ImageError(f"blob {ref!r} is not available")
        return data

    def open_layer(self, ref: str, stack: ExitStack) -> IO[bytes]:
        return io.BytesIO(self.blob(ref))
