"""Media types, image references (digests, tags) and the JSON documents of an image (index, manifest, config).

Why: every store, the walk and the writers read and write the same OCI image-spec documents
(image-index, manifest, config, image-layout) and Docker's "Image Manifest V2, Schema 2"; the
helpers here turn any malformed part into an ImageError that the readers report as "cannot tell".
"""

from __future__ import annotations

import json
import lzma
import re
import struct
import tarfile
import zlib
from collections.abc import Mapping
from typing import Any

from sfnecs.exceptions import ImageError, ValidationError
from sfnecs.model.platforms import Platform

# ---- media types (OCI image-spec "Media Types"; Docker "Image Manifest V2, Schema 2") --------
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
OCI_LAYER = "application/vnd.oci.image.layer.v1.tar"
OCI_LAYER_GZIP = "application/vnd.oci.image.layer.v1.tar+gzip"
INDEX_TYPES = frozenset({OCI_INDEX, DOCKER_LIST})
#: What BatchGetImage is asked for: without acceptedMediaTypes ECR may convert the manifest.
ACCEPTED_MEDIA_TYPES = (OCI_INDEX, DOCKER_LIST, OCI_MANIFEST, DOCKER_MANIFEST)

MAX_JSON = 4 * 1024 * 1024  # ECR's manifest size limit is 4 MiB; configs are far smaller

DIGEST = re.compile(r"([a-z0-9]+(?:[+._-][a-z0-9]+)*):([a-zA-Z0-9=_-]+)")  # image-spec descriptor grammar
TAG = re.compile(r"[A-Za-z0-9_][A-Za-z0-9._-]{0,299}")  # ECR image tags: up to 300 characters

#: Everything a malformed layout, tarball or manifest can raise while being read.
UNREADABLE = (
    ImageError,
    tarfile.TarError,
    OSError,
    EOFError,
    zlib.error,
    lzma.LZMAError,
    ValueError,
    KeyError,
    struct.error,
)


# ---- references and the JSON documents -------------------------------------------------------------
def check_tag(parameter: str, value: object) -> str:
    """Return `value` if it is an ECR image tag, else raise ValidationError."""
    if not isinstance(value, str) or not TAG.fullmatch(value):
        raise ValidationError(parameter, value, "an image tag: letters, digits, . _ -; up to 300 characters")
    return value


def blob_path(ref: str) -> str:
    """Where a digest's blob lives in an OCI layout (blobs/<algorithm>/<hex>); ImageError if malformed."""
    m = DIGEST.fullmatch(ref) if isinstance(ref, str) else None
    if not m:
        raise ImageError(f"descriptor digest {ref!r} is not a valid digest (algorithm:hex)")
    return f"blobs/{m[1]}/{m[2]}"


def load_json(data: bytes, what: str) -> Any:
    """A manifest or config parsed; ImageError when too large or not JSON."""
    if len(data) > MAX_JSON:
        raise ImageError(f"{what} is {len(data)} bytes, more than a manifest or config can be")
    try:
        return json.loads(data)
    except (ValueError, RecursionError) as exc:
        raise ImageError(f"{what} is not valid JSON ({exc})") from None


def json_object(value: Any, what: str) -> dict[str, Any]:
    """`value` if it is a JSON object, else ImageError naming `what`."""
    if not isinstance(value, dict):
        raise ImageError(f"{what} is not a JSON object")
    return value


def json_list(value: Any, what: str) -> list[Any]:
    """`value` if it is a JSON array ([] when absent), else ImageError naming `what`."""
    if value is None:
        return []
    if not isinstance(value, list):
        raise ImageError(f"{what} is not a JSON array")
    return value


def str_list(value: Any, what: str) -> list[str]:
    """`value` if it is a list of strings ([] when absent), else ImageError naming `what`."""
    items = json_list(value, what)
    if not all(isinstance(v, str) for v in items):
        raise ImageError(f"{what} must be a list of strings")
    return items


def platform_of(doc: Mapping[str, Any], what: str) -> Platform | None:
    """The platform an index entry or a config names (None when it names none)."""
    arch, os_name, variant = doc.get("architecture"), doc.get("os"), doc.get("variant")
    if arch is None and os_name is None:
        return None
    if not isinstance(arch, str) or not isinstance(os_name, str) or not isinstance(variant, (str, type(None))):
        raise ImageError(f"{what} has a malformed platform (architecture={arch!r}, os={os_name!r})")
    return Platform(os_name, arch, variant or None)


def is_index_type(media_type: Any) -> bool:
    """Whether a mediaType names an index (a malformed one, e.g. a list, names nothing)."""
    return isinstance(media_type, str) and media_type in INDEX_TYPES


def is_index_document(doc: Mapping[str, Any], media_type: str = "") -> bool:
    """Whether a document is an image index (by media type, or by shape when the type is missing)."""
    return is_index_type(media_type or doc.get("mediaType")) or (
        "manifests" in doc and "config" not in doc and "layers" not in doc
    )


def unreadable_reason(exc: BaseException) -> str:
    """One sentence for an UNREADABLE error: the reason a reader gives for "cannot tell"."""
    if isinstance(exc, ImageError):
        return str(exc)
    if isinstance(exc, KeyError):
        return f"missing {exc}"
    return f"{type(exc).__name__}: {exc}"
