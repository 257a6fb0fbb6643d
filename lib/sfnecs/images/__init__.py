"""Which platforms an image really supports: from ECR, an OCI layout, a tarball, and its binaries.

Why: a Fargate task runs on one CPU (`runtimePlatform.cpuArchitecture`, X86_64 by default). An
image index without that platform fails the pull; a single-platform image of another CPU starts
and the kernel refuses its entrypoint ("exec format error"). Labels can also lie: an image
labelled arm64 may hold an x86-64 binary downloaded at build time. So this module reads the
index, the config labels *and* the ELF header of the program the container would exec.

Formats follow the OCI image spec (image-index, manifest, config, image-layout, layer changesets
with `.wh.` whiteouts) and Docker's `docker save` layout (manifest.json). The stdlib's json and
tarfile are enough for these: the one PyPI library for OCI structures (`opencontainers`) covers
neither Docker's media types nor `docker save`, and it logs instead of raising, which does not fit
a reader that must turn every malformed input into a "cannot tell" with a reason.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import lzma
import posixpath
import re
import struct
import tarfile
import zlib
from collections.abc import Callable, Iterable, Mapping, Sequence
from contextlib import ExitStack
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import IO, Any, Protocol

from sfnecs.images.elf import ELF_MAGIC, ElfHeader, minimal_elf, oci_architecture, reproduce_exec_format_error
from sfnecs.exceptions import ImageError, ValidationError
from sfnecs.model.platforms import ECS_PLATFORMS, Platform
from sfnecs.model.fargate import CPU_ARCHITECTURES, OS_FAMILIES
from sfnecs.checks import check_choice, check_name

__all__ = [
    "ACCEPTED_MEDIA_TYPES", "BinaryInfo", "ECS_PLATFORMS", "Hardlink", "ImagePlatforms", "Platform", "Symlink",
    "build_fixture_image", "check_tag", "ecr_platforms", "local_platforms", "manifest_platforms", "matches",
    "push_oci_layout", "reproduce_exec_format_error",
]

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

#: Where the kernel looks when argv[0] has no slash and the image sets no PATH (Docker's default).
DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
_MAX_JSON = 4 * 1024 * 1024  # ECR's manifest size limit is 4 MiB; configs are far smaller
_MAX_SYMLINKS = 40  # Linux MAXSYMLINKS: ELOOP after 40 links in one lookup
_MAX_INTERPRETERS = 5  # the kernel's exec_binprm gives up (ELOOP) after 5 nested #! interpreters
_MAX_INDEX_DEPTH = 4  # nested indexes (layout index.json -> buildx index -> manifests) are 2 deep
_DIGEST = re.compile(r"([a-z0-9]+(?:[+._-][a-z0-9]+)*):([a-zA-Z0-9=_-]+)")  # image-spec descriptor grammar
_TAG = re.compile(r"[A-Za-z0-9_][A-Za-z0-9._-]{0,299}")  # ECR image tags: up to 300 characters
_ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"
#: Everything a malformed layout, tarball or manifest can raise while being read.
_UNREADABLE = (ImageError, tarfile.TarError, OSError, EOFError, zlib.error, lzma.LZMAError, ValueError,
               KeyError, struct.error)


# ---- results ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class BinaryInfo:
    """The program a container would exec, found through the layers, and its ELF header."""

    label: Platform | None  # the platform its manifest or config claims
    command: tuple[str, ...]  # Entrypoint + Cmd
    program: str | None = None  # argv[0] as found (PATH and WorkingDir applied)
    chain: tuple[str, ...] = ()  # symlinks and #! interpreters followed, in order
    executables: tuple[tuple[str, ElfHeader], ...] = ()  # every ELF file the exec needs, first = the one loaded
    cannot_tell: str | None = None

    @property
    def elf(self) -> ElfHeader | None:
        """The ELF file the kernel loads first (the program, or its #! interpreter)."""
        return self.executables[0][1] if self.executables else None

    @property
    def platform(self) -> Platform | None:
        arch = self.elf.architecture if self.elf else None
        return Platform("linux", arch) if arch else None

    def disagreements(self) -> list[str]:
        """One sentence per ELF file whose CPU differs from the label."""
        if self.label is None:
            return []
        out = []
        for path, elf in self.executables:
            if elf.architecture is None or not Platform("linux", elf.architecture).same_cpu(
                    Platform("linux", self.label.architecture)):
                out.append(f"labelled {self.label} but {path} is {elf.describe()}")
        return out


@dataclass(frozen=True)
class ImagePlatforms:
    """What platforms an image supports, how we know, and where labels and binaries disagree."""

    source: str
    platforms: tuple[Platform, ...] = ()
    is_index: bool = False  # the pull resolves an image index: a missing platform fails the pull
    binaries: tuple[BinaryInfo, ...] = ()
    disagreements: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()
    cannot_tell: str | None = None

    @property
    def binary(self) -> BinaryInfo | None:
        """The first inspected binary (the only one for a single-platform image)."""
        return self.binaries[0] if self.binaries else None

    def supports(self, cpu_architecture: str, os_family: str = "LINUX") -> bool | None:
        """Whether the labels offer the ECS platform (what the pull checks); None when unknown."""
        return matches(self, cpu_architecture, os_family) if self.platforms else None

    def runs_on(self, cpu_architecture: str, os_family: str = "LINUX") -> bool | None:
        """Whether a task on this ECS platform would get past the pull *and* the exec; None when unknown."""
        want = _ecs_platform(cpu_architecture, os_family)
        label_ok = self.supports(cpu_architecture, os_family)
        if self.is_index and label_ok is False:
            return False
        relevant = [b for b in self.binaries if not self.is_index or b.label is None or b.label.same_cpu(want)]
        archs = [elf.architecture for b in relevant for _, elf in b.executables]
        if archs:
            return all(a is not None and Platform("linux", a).same_cpu(want) for a in archs)
        return label_ok

    def to_frame(self) -> Any:
        """One row per platform, binary, disagreement and note (a pandas DataFrame)."""
        import pandas as pd

        rows = [{"kind": "platform", "platform": str(p), "ecs_cpu_architecture": p.ecs_cpu_architecture,
                 "detail": "image index entry" if self.is_index else "image config"} for p in self.platforms]
        for b in self.binaries:
            plat = b.platform
            steps = [*b.chain, *(f"{path} is {elf.describe()}" for path, elf in b.executables)]
            if b.cannot_tell:
                steps.append(f"cannot tell: {b.cannot_tell}")
            rows.append({"kind": "binary", "platform": str(plat) if plat else None,
                         "ecs_cpu_architecture": plat.ecs_cpu_architecture if plat else None,
                         "detail": f"[labelled {b.label or 'nothing'}] {' '.join(b.command)}: " + "; ".join(steps)})
        rows += [{"kind": "disagreement", "platform": None, "ecs_cpu_architecture": None, "detail": d}
                 for d in self.disagreements]
        rows += [{"kind": "note", "platform": None, "ecs_cpu_architecture": None, "detail": n} for n in self.notes]
        if self.cannot_tell:
            rows.append({"kind": "cannot tell", "platform": None, "ecs_cpu_architecture": None,
                         "detail": self.cannot_tell})
        frame = pd.DataFrame(rows, columns=["kind", "platform", "ecs_cpu_architecture", "detail"])
        frame.insert(0, "source", self.source)
        return frame

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready data (for runbook results)."""
        out = asdict(self)
        out["platforms"] = [str(p) for p in self.platforms]
        out["binaries"] = [{**asdict(b), "label": str(b.label) if b.label else None,
                            "executables": [[p, e.describe()] for p, e in b.executables]} for b in self.binaries]
        return out

    def _repr_html_(self) -> str:
        head = "index" if self.is_index else "single-platform image"
        return (f"<p><b>{_esc(self.source)}</b> ({head}): "
                f"{_esc(', '.join(map(str, self.platforms)) or 'no platform known')}</p>"
                + self.to_frame().drop(columns="source").to_html(index=False))


def matches(platforms: ImagePlatforms | Iterable[Platform | str], cpu_architecture: str,
            os_family: str = "LINUX") -> bool:
    """True when one of `platforms` is the one an ECS task with this runtimePlatform pulls.

    Why: Fargate picks the index entry for `linux/amd64` (X86_64, the default) or `linux/arm64`
    (ARM64) and fails the pull when there is none (AWS re:Post, "ecs-task-exec-format-error").
    """
    want = _ecs_platform(cpu_architecture, os_family)
    items = platforms.platforms if isinstance(platforms, ImagePlatforms) else platforms
    return any((Platform.parse(p) if isinstance(p, str) else p).same_cpu(want) for p in items)


def _ecs_platform(cpu_architecture: str, os_family: str) -> Platform:
    check_choice("cpu_architecture", cpu_architecture, CPU_ARCHITECTURES)
    check_choice("os_family", os_family, OS_FAMILIES)
    plat = ECS_PLATFORMS[cpu_architecture]
    return plat if os_family == "LINUX" else Platform("windows", plat.architecture)


# ---- where manifests and blobs come from -------------------------------------------------------
class _Store(Protocol):
    """A source of manifests and blobs addressed by digest (OCI) or by path (docker save)."""

    def manifest(self, ref: str) -> Any: ...

    def blob(self, ref: str) -> bytes: ...

    def open_layer(self, ref: str, stack: ExitStack) -> IO[bytes]: ...


def _oci_path(ref: str) -> str:
    m = _DIGEST.fullmatch(ref) if isinstance(ref, str) else None
    if not m:
        raise ImageError(f"descriptor digest {ref!r} is not a valid digest (algorithm:hex)")
    return f"blobs/{m[1]}/{m[2]}"


def _safe_relative(ref: str) -> str:
    """A path inside the archive or directory; absolute paths and '..' escapes are refused."""
    if not isinstance(ref, str) or not ref:
        raise ImageError(f"path {ref!r} in the image is not a non-empty string")
    norm = posixpath.normpath(ref)
    if ref.startswith("/") or norm == "." or norm == ".." or norm.startswith("../"):
        raise ImageError(f"path {ref!r} in the image points outside it")
    return norm


def _loads(data: bytes, what: str) -> Any:
    if len(data) > _MAX_JSON:
        raise ImageError(f"{what} is {len(data)} bytes, more than a manifest or config can be")
    try:
        return json.loads(data)
    except (ValueError, RecursionError) as exc:
        raise ImageError(f"{what} is not valid JSON ({exc})") from None


class _DirStore:
    """An OCI image layout directory, or an extracted `docker save` directory."""

    def __init__(self, root: Path, by_digest: bool):
        self.root, self.by_digest = root.resolve(), by_digest

    def _path(self, ref: str) -> Path:
        rel = _oci_path(ref) if self.by_digest else _safe_relative(ref)
        path = (self.root / rel).resolve()
        if self.root not in path.parents or not path.is_file():
            raise ImageError(f"{rel} is missing from {self.root}")
        return path

    def read(self, name: str) -> bytes:
        path = self.root / name
        if not path.is_file():
            raise ImageError(f"{name} is missing from {self.root}")
        with open(path, "rb") as fh:
            return fh.read(_MAX_JSON + 1)

    def manifest(self, ref: str) -> Any:
        return _loads(self.blob(ref), f"manifest {ref}")

    def blob(self, ref: str) -> bytes:
        with open(self._path(ref), "rb") as fh:
            return fh.read(_MAX_JSON + 1)

    def open_layer(self, ref: str, stack: ExitStack) -> IO[bytes]:
        return stack.enter_context(open(self._path(ref), "rb"))


class _TarStore:
    """An OCI layout or a `docker save` archive, read in place from its tar file."""

    def __init__(self, tar: tarfile.TarFile, by_digest: bool):
        self.tar, self.by_digest = tar, by_digest
        self.members = {_norm_member(m.name): m for m in tar.getmembers()}

    def has(self, name: str) -> bool:
        return name in self.members

    def _open(self, rel: str) -> IO[bytes]:
        member = self.members.get(rel)
        fh = self.tar.extractfile(member) if member is not None and (member.isfile() or member.islnk()) else None
        if fh is None:
            raise ImageError(f"{rel} is missing from the archive")
        return fh

    def read(self, name: str) -> bytes:
        return self._open(name).read(_MAX_JSON + 1)

    def manifest(self, ref: str) -> Any:
        return _loads(self.blob(ref), f"manifest {ref}")

    def blob(self, ref: str) -> bytes:
        return self._open(_oci_path(ref) if self.by_digest else _safe_relative(ref)).read(_MAX_JSON + 1)

    def open_layer(self, ref: str, stack: ExitStack) -> IO[bytes]:
        return self._open(_oci_path(ref) if self.by_digest else _safe_relative(ref))


Fetch = Callable[[str], Any]


def _default_fetch(url: str) -> Any:
    import requests

    return requests.get(url, timeout=60)


class _EcrStore:
    """ECR: manifests from BatchGetImage, blobs from GetDownloadUrlForLayer + an HTTP GET."""

    def __init__(self, client: Any, repository: str, registry_id: str | None, fetch: Fetch):
        self.client, self.repository, self.fetch = client, repository, fetch
        self.extra = {"registryId": registry_id} if registry_id else {}

    def get_image(self, image_id: dict[str, str]) -> tuple[Any, str]:
        """(manifest JSON, media type) for one image id; ImageError with ECR's reason when absent."""
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            resp = self.client.batch_get_image(repositoryName=self.repository, imageIds=[image_id],
                                               acceptedMediaTypes=list(ACCEPTED_MEDIA_TYPES), **self.extra)
        except (ClientError, BotoCoreError) as exc:
            raise ImageError(f"ECR BatchGetImage failed: {exc}") from None
        images = resp.get("images") or []
        if not images:
            fail = (resp.get("failures") or [{}])[0]
            why = f"{fail.get('failureCode', 'ImageNotFound')}: {fail.get('failureReason', '')}".rstrip(": ")
            raise ImageError(f"ECR has no image {image_id} in {self.repository}: {why}")
        image = images[0]
        text = image.get("imageManifest") or ""
        return _loads(text.encode(), f"manifest {image_id}"), image.get("imageManifestMediaType") or ""

    def manifest(self, ref: str) -> Any:
        return self.get_image({"imageDigest": ref})[0]

    def blob(self, ref: str) -> bytes:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            url = self.client.get_download_url_for_layer(repositoryName=self.repository, layerDigest=ref,
                                                         **self.extra)["downloadUrl"]
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


def _norm_member(name: str) -> str:
    return posixpath.normpath("/" + name).lstrip("/")


# ---- walking indexes and manifests -----------------------------------------------------------------
def _obj(value: Any, what: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ImageError(f"{what} is not a JSON object")
    return value


def _list(value: Any, what: str) -> list[Any]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise ImageError(f"{what} is not a JSON array")
    return value


def _str_list(value: Any, what: str) -> list[str]:
    items = _list(value, what)
    if not all(isinstance(v, str) for v in items):
        raise ImageError(f"{what} must be a list of strings")
    return items


def _platform_of(doc: Mapping[str, Any], what: str) -> Platform | None:
    arch, os_name, variant = doc.get("architecture"), doc.get("os"), doc.get("variant")
    if arch is None and os_name is None:
        return None
    if not isinstance(arch, str) or not isinstance(os_name, str) or not isinstance(variant, (str, type(None))):
        raise ImageError(f"{what} has a malformed platform (architecture={arch!r}, os={os_name!r})")
    return Platform(os_name, arch, variant or None)


def _index_type(media_type: Any) -> bool:
    """Whether a mediaType names an index (a malformed one, e.g. a list, names nothing)."""
    return isinstance(media_type, str) and media_type in INDEX_TYPES


def _is_index(doc: Mapping[str, Any], media_type: str = "") -> bool:
    return _index_type(media_type or doc.get("mediaType")) or (
        "manifests" in doc and "config" not in doc and "layers" not in doc)


@dataclass
class _Walk:
    """Accumulates what walking one image finds."""

    store: Any
    stack: ExitStack
    inspect_binary: bool
    read_configs: bool
    entrypoint: Sequence[str] | None
    platforms: list[Platform] = field(default_factory=list)
    binaries: list[BinaryInfo] = field(default_factory=list)
    disagreements: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    is_index: bool = False

    def add_platform(self, plat: Platform) -> None:
        if plat not in self.platforms:
            self.platforms.append(plat)

    def index(self, doc: Any, depth: int) -> None:
        doc = _obj(doc, "image index")
        if depth > _MAX_INDEX_DEPTH:
            raise ImageError(f"image indexes nested more than {_MAX_INDEX_DEPTH} deep")
        descriptors = [_obj(d, "index entry") for d in _list(doc.get("manifests"), "index manifests")]
        if not descriptors:
            raise ImageError("the image index lists no manifests")
        skipped = 0
        for i, desc in enumerate(descriptors):
            label = _platform_of(_obj(desc.get("platform") or {}, f"manifests[{i}].platform"),
                                 f"manifests[{i}].platform")
            if label and label.architecture == "unknown":
                skipped += 1  # BuildKit attestation manifests (provenance, SBOM) carry unknown/unknown
                continue
            digest = desc.get("digest")
            if _index_type(desc.get("mediaType")):
                self.is_index = True
                self.guard(lambda d=digest: self.index(self.store.manifest(d), depth + 1), f"index {digest}")
                continue
            if label:
                self.add_platform(label)
            if label is None or self.read_configs or self.inspect_binary:
                self.guard(lambda d=digest, lab=label: self.manifest(self.store.manifest(d), lab),
                           f"manifest {digest}")
        if skipped:
            self.notes.append(f"skipped {skipped} attestation manifest(s) (platform unknown/unknown): "
                              "BuildKit adds them by default, which makes even a one-platform build an index")

    def guard(self, step: Callable[[], None], what: str) -> None:
        """Run one step; a malformed or missing part becomes a problem noted, not a crash."""
        try:
            step()
        except _UNREADABLE as exc:
            self.problems.append(f"{what}: {_reason(exc)}")

    def manifest(self, doc: Any, label: Platform | None, layer_refs: list[str] | None = None) -> None:
        doc = _obj(doc, "image manifest")
        if doc.get("schemaVersion") == 1:  # Docker schema 1 keeps the platform in the manifest itself
            plat = _platform_of(doc, "schema 1 manifest")
            if plat:
                self.add_platform(plat)
            self.notes.append("Docker schema 1 manifest: deprecated, and its layers are not inspected")
            return
        if layer_refs is None:
            config_ref = _obj(doc.get("config"), "manifest config descriptor").get("digest")
            layer_refs = [_obj(layer, "layer descriptor").get("digest") for layer in
                          _list(doc.get("layers"), "manifest layers")]
        else:
            config_ref = doc.get("Config")
        config = _obj(_loads(self.store.blob(config_ref), f"config {config_ref}"), "image config")
        plat = _platform_of(config, f"config {config_ref}")
        if plat is None:
            self.problems.append(f"config {config_ref} names no architecture or os")
        elif label is None:
            self.add_platform(plat)
        elif not plat.same_cpu(label):
            self.disagreements.append(f"the index says {label} but its config {config_ref} says {plat}")
        if self.inspect_binary:
            info = _inspect_binary(self.store, self.stack, config, layer_refs, label or plat, self.entrypoint)
            self.binaries.append(info)
            self.disagreements.extend(info.disagreements())

    def result(self, source: str) -> ImagePlatforms:
        cannot = None
        if not self.platforms:
            cannot = "; ".join(self.problems) or "no platform is named by the index or the config"
        return ImagePlatforms(
            source=source, platforms=tuple(self.platforms), is_index=self.is_index, binaries=tuple(self.binaries),
            disagreements=tuple(dict.fromkeys(self.disagreements)),
            notes=tuple(self.notes) + (tuple(self.problems) if self.platforms else ()), cannot_tell=cannot)


def _reason(exc: BaseException) -> str:
    if isinstance(exc, ImageError):
        return str(exc)
    if isinstance(exc, KeyError):
        return f"missing {exc}"
    return f"{type(exc).__name__}: {exc}"


# ---- public readers --------------------------------------------------------------------------------
class _BlobFunction:
    """Blobs from a function `digest -> bytes or None` (e.g. a registry's own blob store)."""

    def __init__(self, blob: Callable[[str], bytes | None]):
        self._blob = blob

    def manifest(self, ref: str) -> Any:
        return _loads(self.blob(ref), f"manifest {ref}")

    def blob(self, ref: str) -> bytes:
        data = self._blob(ref) if isinstance(ref, str) else None
        if data is None:
            raise ImageError(f"blob {ref!r} is not available")
        return data

    def open_layer(self, ref: str, stack: ExitStack) -> IO[bytes]:
        return io.BytesIO(self.blob(ref))


def manifest_platforms(manifest: Any, blob: Callable[[str], bytes | None], *, source: str = "manifest",
                       inspect_binary: bool = True) -> ImagePlatforms:
    """The platform of one single-platform image manifest whose config and layers `blob(digest)` returns.

    Why: a registry that already holds the blobs (the sandbox's ECR) can tell what the kernel
    would exec — the entrypoint's ELF header — without a download. Never raises on bad input.
    """
    with ExitStack() as stack:
        walk = _Walk(_BlobFunction(blob), stack, inspect_binary=inspect_binary, read_configs=True, entrypoint=None)
        walk.guard(lambda: walk.manifest(manifest, None), source)
        return walk.result(source)


def ecr_platforms(ecr_client: Any, repository: str, tag_or_digest: str = "latest", fetch: Fetch | None = None,
                  *, registry_id: str | None = None, inspect_binary: bool = False) -> ImagePlatforms:
    """The platforms of an ECR image, from its index or (single-platform) its config blob.

    Why: this is what Fargate reads before it starts a container. `fetch(url)` downloads a blob
    from the URL GetDownloadUrlForLayer returns (requests.get by default; tests inject a fake).
    `inspect_binary=True` also downloads the layers to read the entrypoint's ELF header.
    """
    check_name("repository", repository, "repository")
    if not isinstance(tag_or_digest, str) or not (_TAG.fullmatch(tag_or_digest) or _DIGEST.fullmatch(tag_or_digest)):
        raise ValidationError("tag_or_digest", tag_or_digest, "an image tag (letters, digits, . _ -; up to 300) "
                              "or a digest such as sha256:<64 hex>")
    is_digest = bool(_DIGEST.fullmatch(tag_or_digest))  # tags cannot contain ':', digests must
    source = f"ecr:{repository}{'@' if is_digest else ':'}{tag_or_digest}"
    store = _EcrStore(ecr_client, repository, registry_id, fetch or _default_fetch)
    with ExitStack() as stack:
        walk = _Walk(store, stack, inspect_binary=inspect_binary, read_configs=False, entrypoint=None)
        try:
            doc, media_type = store.get_image({"imageDigest" if is_digest else "imageTag": tag_or_digest})
            if _is_index(_obj(doc, "manifest"), media_type):
                walk.is_index = True
                walk.index(doc, 0)
            else:
                walk.manifest(doc, None)
        except _UNREADABLE as exc:
            walk.problems.append(_reason(exc))
        return walk.result(source)


def local_platforms(path: str | Path, *, ref: str | None = None, inspect_binary: bool = True,
                    entrypoint: Sequence[str] | None = None) -> ImagePlatforms:
    """The platforms of an OCI image layout directory, an OCI tarball or a `docker save` tarball.

    Why: check an image before pushing it, or inspect one pulled from anywhere. `ref` picks one
    image when the layout or archive holds several (by ref name or repo tag); `entrypoint`
    overrides the config's Entrypoint+Cmd, as a task definition's entryPoint/command would.
    Malformed input never raises: the result's `cannot_tell` says what could not be read.
    """
    p = Path(path)
    if not p.exists():
        raise ValidationError("path", str(path), "an existing OCI image layout directory, or a tar file "
                              "written by `docker save` or as an OCI archive")
    if entrypoint is not None and (isinstance(entrypoint, str) or not all(isinstance(a, str) for a in entrypoint)):
        raise ValidationError("entrypoint", entrypoint, "a list of strings such as ['/app/job', '--flag']")
    with ExitStack() as stack:
        walk = _Walk(None, stack, inspect_binary=inspect_binary, read_configs=True, entrypoint=entrypoint)
        try:
            if p.is_dir():
                oci = (p / "index.json").is_file()
                walk.store = _DirStore(p, by_digest=oci)
            else:
                tar = stack.enter_context(tarfile.open(p, "r:*"))
                probe = _TarStore(tar, by_digest=True)
                oci = probe.has("index.json")
                walk.store = probe if oci else _TarStore(tar, by_digest=False)
            read = walk.store.read
            if oci:
                _walk_layout(walk, _loads(read("index.json"), "index.json"), ref)
            else:
                _walk_docker_save(walk, _loads(read("manifest.json"), "manifest.json"), ref)
        except _UNREADABLE as exc:
            walk.problems.append(f"cannot read {p.name}: {_reason(exc)}")
        except RecursionError:
            walk.problems.append(f"cannot read {p.name}: JSON nested too deeply")
        return walk.result(str(p))


def _walk_layout(walk: _Walk, root: Any, ref: str | None) -> None:
    """index.json lists the layout's images; one entry may itself be a multi-platform index."""
    root = _obj(root, "index.json")
    entries = [_obj(d, "index.json entry") for d in _list(root.get("manifests"), "index.json manifests")]
    if ref is not None:
        entries = [d for d in entries if ref in _ref_names(d)]
        if not entries:
            raise ImageError(f"no image named {ref!r} in index.json")
    if not entries:
        raise ImageError("index.json lists no manifests")
    with_platform = [d for d in entries if isinstance(d.get("platform"), dict)]
    if len(entries) == 1 and not _index_type(entries[0].get("mediaType")) and not with_platform:
        desc = entries[0]
        walk.manifest(walk.store.manifest(desc.get("digest")), None)
        return
    if len(entries) > 1 and not with_platform:
        names = ", ".join(n for d in entries for n in _ref_names(d)[:1])
        walk.notes.append(f"the layout holds {len(entries)} images ({names}); pass ref= to pick one")
    walk.is_index = len(with_platform) > 1 or any(_index_type(d.get("mediaType")) for d in entries)
    walk.index({"manifests": entries}, 0)


def _ref_names(desc: Mapping[str, Any]) -> list[str]:
    notes = desc.get("annotations") if isinstance(desc.get("annotations"), dict) else {}
    names = [v for k, v in notes.items() if k in ("org.opencontainers.image.ref.name", "io.containerd.image.name")
             and isinstance(v, str)]
    return names + [n.rsplit(":", 1)[-1] for n in names if ":" in n]


def _walk_docker_save(walk: _Walk, manifest: Any, ref: str | None) -> None:
    """manifest.json: [{Config, RepoTags, Layers}] (Docker's image tarball format, one per image)."""
    images = [_obj(m, "manifest.json entry") for m in _list(manifest, "manifest.json")]
    if ref is not None:
        images = [m for m in images if ref in _str_list(m.get("RepoTags"), "RepoTags")
                  or any(t.endswith(":" + ref) for t in _str_list(m.get("RepoTags"), "RepoTags"))]
    if not images:
        raise ImageError("manifest.json lists no image" + (f" tagged {ref!r}" if ref else ""))
    if len(images) > 1:
        walk.notes.append(f"the archive holds {len(images)} images; pass ref= to pick one")
    for i, image in enumerate(images):
        layers = _str_list(image.get("Layers"), f"manifest.json[{i}].Layers")
        walk.guard(lambda img=image, lay=layers: walk.manifest(img, None, layer_refs=lay), f"image {i}")


# ---- the merged root filesystem and the program the kernel would exec ------------------------------
@dataclass(frozen=True)
class _Entry:
    kind: str  # file, dir, symlink, hardlink, other
    layer: int
    member: tarfile.TarInfo
    target: str = ""  # symlink target as written; hardlink target as an archive path


class _Rootfs:
    """The union of the image's layers, applying OCI whiteouts (`.wh.<name>`, `.wh..wh..opq`)."""

    def __init__(self, layers: list[tarfile.TarFile]):
        self.layers = layers
        self.entries: dict[str, _Entry] = {}
        for index, tar in enumerate(layers):
            self._apply(index, tar.getmembers())

    def _apply(self, index: int, members: list[tarfile.TarInfo]) -> None:
        # Whiteouts hide only what lower layers put there, so they apply before this layer's
        # own files (OCI image-spec, "Representing Changes": whiteouts and opaque whiteouts).
        for m in members:
            path = _norm_member(m.name)
            parent, base = posixpath.split(path)
            if base == ".wh..wh..opq":
                self._remove_under(parent, keep_self=True)
            elif base.startswith(".wh."):
                self._remove_under(posixpath.join(parent, base[4:]), keep_self=False)
        for m in members:
            path = _norm_member(m.name)
            if not path or posixpath.basename(path).startswith(".wh."):
                continue
            kind = ("dir" if m.isdir() else "symlink" if m.issym() else "hardlink" if m.islnk()
                    else "file" if m.isfile() else "other")
            old = self.entries.get(path)
            if old is not None and old.kind == "dir" and kind != "dir":
                self._remove_under(path, keep_self=True)  # a file replacing a directory hides its contents
            target = m.linkname if kind == "symlink" else _norm_member(m.linkname) if kind == "hardlink" else ""
            self.entries[path] = _Entry(kind, index, m, target)

    def _remove_under(self, path: str, keep_self: bool) -> None:
        prefix = path + "/" if path else ""
        for key in [k for k in self.entries if k.startswith(prefix) or (not keep_self and k == path)]:
            del self.entries[key]

    def resolve(self, path: str) -> tuple[str, list[str]]:
        """The path after following every symlink (absolute ones from the image root), and the links."""
        links: list[str] = []
        pending = [p for p in path.split("/") if p]
        done: list[str] = []
        while pending:
            part = pending.pop(0)
            if part == ".":
                continue
            if part == "..":
                if done:
                    done.pop()
                continue
            here = "/".join([*done, part])
            entry = self.entries.get(here)
            if entry is not None and entry.kind == "symlink":
                if len(links) >= _MAX_SYMLINKS:
                    raise ImageError(f"/{here}: too many levels of symbolic links")
                links.append(f"/{here} -> {entry.target}")
                if entry.target.startswith("/"):
                    done = []
                pending = [p for p in entry.target.split("/") if p] + pending
                continue
            if entry is not None and entry.kind not in ("dir",) and pending:
                raise ImageError(f"/{here} is not a directory")
            done.append(part)
        return "/" + "/".join(done), links

    def head(self, path: str, size: int = 256) -> bytes:
        entry = self.entries[path.lstrip("/")]
        fh = self.layers[entry.layer].extractfile(entry.member)
        if fh is None:
            raise ImageError(f"{path} cannot be read from its layer")
        return fh.read(size)

    def kind(self, path: str) -> str | None:
        entry = self.entries.get(path.lstrip("/"))
        return entry.kind if entry else None


def _open_layers(store: Any, stack: ExitStack, refs: list[str]) -> list[tarfile.TarFile]:
    tars = []
    for ref in refs:
        fh = store.open_layer(ref, stack)
        magic = fh.read(4)
        fh.seek(0)
        if magic == _ZSTD_MAGIC:
            raise ImageError(f"layer {ref} is zstd-compressed, which Python's standard library cannot read "
                             "(it can from Python 3.14)")
        tars.append(stack.enter_context(tarfile.open(fileobj=fh, mode="r:*")))
    return tars


def _inspect_binary(store: Any, stack: ExitStack, config: dict[str, Any], layer_refs: list[Any],
                    label: Platform | None, override: Sequence[str] | None) -> BinaryInfo:
    """Find Entrypoint/Cmd's program in the layers and read the ELF header(s) it needs."""
    inner = _obj(config.get("config") or {}, "config.config")
    command = tuple(override) if override is not None else tuple(
        _str_list(inner.get("Entrypoint"), "Entrypoint") + _str_list(inner.get("Cmd"), "Cmd"))
    if not command:
        return BinaryInfo(label, command, cannot_tell="the image config has no Entrypoint or Cmd")
    env = dict(e.split("=", 1) for e in _str_list(inner.get("Env"), "Env") if "=" in e)
    workdir = inner.get("WorkingDir") if isinstance(inner.get("WorkingDir"), str) and inner.get("WorkingDir") else "/"
    try:
        fs = _Rootfs(_open_layers(store, stack, [str(r) for r in layer_refs]))
        return _follow(fs, label, command, env.get("PATH", DEFAULT_PATH), workdir)
    except _UNREADABLE as exc:
        return BinaryInfo(label, command, cannot_tell=_reason(exc))


def _find(fs: _Rootfs, name: str, search_path: str, workdir: str) -> str:
    """argv[0] as execve sees it: a path (relative to WorkingDir) or a name looked up in PATH."""
    if "/" in name:
        return name if name.startswith("/") else posixpath.join(workdir, name)
    for directory in search_path.split(":"):
        candidate = posixpath.join(directory or ".", name)
        try:
            resolved, _ = fs.resolve(candidate)
        except ImageError:
            continue
        if fs.kind(resolved) in ("file", "hardlink"):
            return candidate
    raise ImageError(f"'{name}' is not found in PATH ({search_path})")


def _follow(fs: _Rootfs, label: Platform | None, command: tuple[str, ...], search_path: str,
            workdir: str) -> BinaryInfo:
    """Follow symlinks and #! lines the way execve does, down to the ELF file(s) it loads."""
    program = _find(fs, command[0], search_path, workdir)
    chain: list[str] = []
    executables: list[tuple[str, ElfHeader]] = []
    current, env_target = program, None
    for _ in range(_MAX_INTERPRETERS + 1):
        resolved, links = fs.resolve(current)
        chain.extend(links)
        kind = fs.kind(resolved)
        if kind is None:
            return BinaryInfo(label, command, program, tuple(chain), tuple(executables),
                              cannot_tell=f"{resolved} is not in the image's layers (the container would fail "
                                          "with 'no such file or directory')")
        if kind not in ("file", "hardlink"):
            return BinaryInfo(label, command, program, tuple(chain), tuple(executables),
                              cannot_tell=f"{resolved} is a {kind}, not an executable file")
        head = fs.head(resolved)
        if head[:4] == ELF_MAGIC:
            elf = ElfHeader.parse(head)
            if elf is None:
                return BinaryInfo(label, command, program, tuple(chain), tuple(executables),
                                  cannot_tell=f"{resolved} starts like ELF but its header is truncated or malformed")
            executables.append((resolved, elf))
            if env_target:  # `#!/usr/bin/env python3`: env runs python3 found in PATH, which must run too
                try:
                    inner = _follow(fs, label, (env_target,), search_path, workdir)
                    chain.extend([f"env runs {env_target}", *inner.chain])
                    executables.extend(inner.executables)
                    if inner.cannot_tell:
                        chain.append(inner.cannot_tell)
                except _UNREADABLE as exc:
                    chain.append(f"env runs {env_target}: {_reason(exc)}")
            return BinaryInfo(label, command, program, tuple(chain), tuple(executables))
        if head[:2] == b"#!":
            line = head[2:].split(b"\n", 1)[0]
            text = line.decode("utf-8", "replace").strip(" \t")
            chain.append(f"{resolved}: #!{text}")
            if text.endswith("\r"):
                return BinaryInfo(label, command, program, tuple(chain), tuple(executables),
                                  cannot_tell=f"the #! line of {resolved} ends with a carriage return (Windows line "
                                              "endings): the kernel looks for an interpreter named with '\\r'")
            parts = text.split(None, 1)
            if not parts:
                return BinaryInfo(label, command, program, tuple(chain), tuple(executables),
                                  cannot_tell=f"{resolved} has an empty #! line")
            interpreter, argument = parts[0], parts[1] if len(parts) > 1 else ""
            if posixpath.basename(interpreter) == "env" and argument:
                env_target = next((a for a in argument.split() if not a.startswith("-")), None)
            current = interpreter if interpreter.startswith("/") else posixpath.join(workdir, interpreter)
            continue
        return BinaryInfo(label, command, program, tuple(chain), tuple(executables),
                          cannot_tell=f"{resolved} is neither an ELF executable nor a #! script (it starts with "
                                      f"{head[:16]!r}); the kernel refuses such a file with 'exec format error' "
                                      "on every CPU")
    return BinaryInfo(label, command, program, tuple(chain), tuple(executables),
                      cannot_tell=f"more than {_MAX_INTERPRETERS} nested #! interpreters (the kernel stops with ELOOP)")


# ---- pushing a layout to ECR -----------------------------------------------------------------------
def check_tag(parameter: str, value: object) -> str:
    """Return `value` if it is an ECR image tag, else raise ValidationError."""
    if not isinstance(value, str) or not _TAG.fullmatch(value):
        raise ValidationError(parameter, value, "an image tag: letters, digits, . _ -; up to 300 characters")
    return value


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
    entries = _obj(json.loads((root / "index.json").read_bytes()), "index.json").get("manifests") or []
    top = _obj(entries[0] if entries else None, "index.json entry")
    _push_manifest(ecr_client, root, repository, top, tag)
    return str(top["digest"])


def _push_manifest(ecr: Any, root: Path, repository: str, desc: Mapping[str, Any], tag: str | None) -> None:
    raw = (root / _oci_path(desc["digest"])).read_bytes()
    doc = _obj(json.loads(raw), f"manifest {desc['digest']}")
    if _is_index(doc, str(desc.get("mediaType") or "")):
        for child in _list(doc.get("manifests"), "index manifests"):
            _push_manifest(ecr, root, repository, _obj(child, "index entry"), None)
    else:
        for blob in [_obj(doc.get("config"), "config descriptor"), *_list(doc.get("layers"), "layers")]:
            _push_blob(ecr, root, repository, blob["digest"])
    ecr.put_image(repositoryName=repository, imageManifest=raw.decode(), imageDigest=desc["digest"],
                  imageManifestMediaType=desc.get("mediaType") or doc.get("mediaType") or OCI_MANIFEST,
                  **({"imageTag": tag} if tag else {}))


def _push_blob(ecr: Any, root: Path, repository: str, digest: str) -> None:
    found = ecr.batch_check_layer_availability(repositoryName=repository, layerDigests=[digest])
    if any(layer.get("layerAvailability") == "AVAILABLE" for layer in found.get("layers") or []):
        return
    data = (root / _oci_path(digest)).read_bytes()
    upload = ecr.initiate_layer_upload(repositoryName=repository)
    part = int(upload.get("partSize") or len(data) or 1)
    for first in range(0, len(data), part):
        chunk = data[first:first + part]
        ecr.upload_layer_part(repositoryName=repository, uploadId=upload["uploadId"], partFirstByte=first,
                              partLastByte=first + len(chunk) - 1, layerPartBlob=chunk)
    ecr.complete_layer_upload(repositoryName=repository, uploadId=upload["uploadId"], layerDigests=[digest])


# ---- fixture images (tests and notebooks) -----------------------------------------------------------
@dataclass(frozen=True)
class Symlink:
    """A symbolic link in a fixture layer."""

    target: str


@dataclass(frozen=True)
class Hardlink:
    """A hard link in a fixture layer, to another path of the same layer."""

    target: str


FixtureTree = Mapping[str, "bytes | str | Symlink | Hardlink"]
FIXTURE_FORMATS = ("oci-layout", "oci-tar", "docker-save")


def build_fixture_image(path: str | Path, architecture: str = "amd64", label_architecture: str | None = None,
                        entrypoint: str | Sequence[str] | None = "/app/job", fmt: str = "oci-layout", *,
                        cmd: Sequence[str] = (), layers: Sequence[FixtureTree] | None = None,
                        platforms: Sequence[str] | None = None, env: Mapping[str, str] | None = None,
                        compress: bool = False, attestation: bool = False, tag: str = "latest") -> Path:
    """Write a tiny image with real ELF executables, as an OCI layout, OCI tarball or docker-save tarball.

    Why: tests and notebooks need images of a known CPU (and deliberately wrong ones) without
    Docker. By default one layer holds `entrypoint` = a minimal ELF for `architecture`, and the
    config says `label_architecture` (default: the same). `layers` replaces that content (paths
    map to bytes, text, Symlink or Hardlink; `.wh.` names are whiteouts). `platforms` makes an
    index with one image per architecture; `attestation` adds BuildKit's unknown/unknown entry.
    """
    check_choice("fmt", fmt, FIXTURE_FORMATS)
    archs = list(platforms) if platforms else [architecture]
    for arch in archs:
        if oci_architecture(arch) is None:
            raise ValidationError("platforms" if platforms else "architecture", arch,
                                  "an architecture such as amd64, arm64, arm, 386 or riscv64")
    if fmt == "docker-save" and (platforms or attestation):
        raise ValidationError("fmt", fmt, "docker-save holds single-platform images: use oci-layout or oci-tar "
                              "for platforms= or attestation=")
    blobs: dict[str, bytes] = {}
    children = []
    for arch in archs:
        oci_arch = oci_architecture(arch) or arch
        label = oci_arch
        if label_architecture and not platforms:
            label = oci_architecture(label_architecture) or label_architecture
        program = (entrypoint if isinstance(entrypoint, str) else entrypoint[0]) if entrypoint else None
        trees = list(layers) if layers is not None else ([{program: minimal_elf(oci_arch)}] if program else [])
        layer_blobs = [_fixture_layer(tree, compress) for tree in trees]
        config = {
            "architecture": label, "os": "linux",
            **({"variant": "v8"} if label == "arm64" else {}),
            "config": {
                **({"Entrypoint": [entrypoint] if isinstance(entrypoint, str) else list(entrypoint)}
                   if entrypoint else {}),
                **({"Cmd": list(cmd)} if cmd else {}),
                "Env": [f"{k}={v}" for k, v in {"PATH": DEFAULT_PATH, **(env or {})}.items()],
                "WorkingDir": "/",
            },
            "rootfs": {"type": "layers", "diff_ids": [_digest(raw) for raw, _ in layer_blobs]},
            "history": [{"created_by": "sfnecs.images.build_fixture_image"}],
        }
        config_raw = _json_bytes(config)
        manifest = {
            "schemaVersion": 2, "mediaType": OCI_MANIFEST,
            "config": _descriptor(blobs, config_raw, OCI_CONFIG),
            "layers": [_descriptor(blobs, stored, OCI_LAYER_GZIP if compress else OCI_LAYER)
                       for _, stored in layer_blobs],
        }
        children.append((label, manifest, config_raw, layer_blobs))
    out = Path(path)
    if fmt == "docker-save":
        return _write_docker_save(out, children[0], tag)
    files: dict[str, bytes] = {"oci-layout": _json_bytes({"imageLayoutVersion": "1.0.0"})}
    ref_note = {"org.opencontainers.image.ref.name": tag}
    if platforms or attestation:
        entries = []
        for label, manifest, _, _ in children:
            desc = _descriptor(blobs, _json_bytes(manifest), OCI_MANIFEST)
            entries.append({**desc, "platform": {"architecture": label, "os": "linux"}})
            if attestation:
                att_config = _descriptor(blobs, _json_bytes({"architecture": "unknown", "os": "unknown"}),
                                         "application/vnd.in-toto+json")
                att = {"schemaVersion": 2, "mediaType": OCI_MANIFEST, "config": att_config, "layers": []}
                entries.append({**_descriptor(blobs, _json_bytes(att), OCI_MANIFEST),
                                "platform": {"architecture": "unknown", "os": "unknown"},
                                "annotations": {"vnd.docker.reference.type": "attestation-manifest",
                                                "vnd.docker.reference.digest": desc["digest"]}})
        nested = {"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": entries}
        top = {**_descriptor(blobs, _json_bytes(nested), OCI_INDEX), "annotations": ref_note}
    else:
        top = {**_descriptor(blobs, _json_bytes(children[0][1]), OCI_MANIFEST), "annotations": ref_note}
    files["index.json"] = _json_bytes({"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": [top]})
    for digest, data in blobs.items():
        files[_oci_path(digest)] = data
    if fmt == "oci-layout":
        for name, data in files.items():
            target = out / name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
        return out
    _write_tar(out, files)
    return out


def _fixture_layer(tree: FixtureTree, compress: bool) -> tuple[bytes, bytes]:
    """(uncompressed tar, stored bytes) for one layer, deterministic (mtime 0, root-owned)."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        dirs = sorted({posixpath.dirname(p.strip("/")) for p in tree} - {""})
        for d in sorted({"/".join(d.split("/")[:i]) for d in dirs for i in range(1, d.count("/") + 2)}):
            tar.addfile(_tarinfo(d, tarfile.DIRTYPE, 0o755))
        for name, content in tree.items():
            name = name.strip("/")
            if isinstance(content, Symlink):
                tar.addfile(_tarinfo(name, tarfile.SYMTYPE, 0o777, link=content.target))
            elif isinstance(content, Hardlink):
                tar.addfile(_tarinfo(name, tarfile.LNKTYPE, 0o755, link=content.target.strip("/")))
            else:
                data = content.encode() if isinstance(content, str) else bytes(content)
                info = _tarinfo(name, tarfile.REGTYPE, 0o755)
                info.size = len(data)
                tar.addfile(info, io.BytesIO(data))
    raw = buf.getvalue()
    return raw, (gzip.compress(raw, mtime=0) if compress else raw)


def _tarinfo(name: str, kind: bytes, mode: int, link: str = "") -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type, info.mode, info.mtime, info.linkname = kind, mode, 0, link
    return info


def _digest(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def _json_bytes(obj: Any) -> bytes:
    return json.dumps(obj, sort_keys=True, separators=(",", ":")).encode()


def _descriptor(blobs: dict[str, bytes], data: bytes, media_type: str) -> dict[str, Any]:
    digest = _digest(data)
    blobs[digest] = data
    return {"mediaType": media_type, "digest": digest, "size": len(data)}


def _write_tar(out: Path, files: Mapping[str, bytes]) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    with tarfile.open(out, "w", format=tarfile.PAX_FORMAT) as tar:
        for name, data in files.items():
            info = _tarinfo(name, tarfile.REGTYPE, 0o644)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))


def _write_docker_save(out: Path, child: tuple[Any, ...], tag: str) -> Path:
    _, _, config_raw, layer_blobs = child
    config_name = _digest(config_raw).split(":", 1)[1] + ".json"
    files: dict[str, bytes] = {config_name: config_raw}
    layer_names = []
    for raw, _ in layer_blobs:  # docker save stores layers uncompressed, one directory per layer
        name = f"{_digest(raw).split(':', 1)[1]}/layer.tar"
        files[name] = raw
        layer_names.append(name)
    files["manifest.json"] = _json_bytes([{"Config": config_name, "RepoTags": [f"fixture:{tag}"],
                                           "Layers": layer_names}])
    if layer_names:
        files["repositories"] = _json_bytes({"fixture": {tag: layer_names[-1].split("/")[0]}})
    _write_tar(out, files)
    return out


def _esc(text: str) -> str:
    import html

    return html.escape(text)

