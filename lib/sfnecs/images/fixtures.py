"""Fixture images: tiny images with real ELF executables, as OCI layouts, OCI tarballs or `docker save` tarballs.

Why: tests and notebooks need images of a known CPU (and deliberately wrong ones: lying labels,
symlinks, whiteouts, #! scripts, attestation entries) without Docker.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import posixpath
import tarfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sfnecs.checks import check_choice
from sfnecs.exceptions import ValidationError
from sfnecs.images.elf import minimal_elf, oci_architecture
from sfnecs.images.entrypoint import DEFAULT_PATH
from sfnecs.images.manifests import OCI_CONFIG, OCI_INDEX, OCI_LAYER, OCI_LAYER_GZIP, OCI_MANIFEST, blob_path


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


def build_fixture_image(
    path: str | Path,
    architecture: str = "amd64",
    label_architecture: str | None = None,
    entrypoint: str | Sequence[str] | None = "/app/job",
    fmt: str = "oci-layout",
    *,
    cmd: Sequence[str] = (),
    layers: Sequence[FixtureTree] | None = None,
    platforms: Sequence[str] | None = None,
    env: Mapping[str, str] | None = None,
    compress: bool = False,
    attestation: bool = False,
    tag: str = "latest",
) -> Path:
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
            raise ValidationError(
                "platforms" if platforms else "architecture",
                arch,
                "an architecture such as amd64, arm64, arm, 386 or riscv64",
            )
    if fmt == "docker-save" and (platforms or attestation):
        raise ValidationError(
            "fmt",
            fmt,
            "docker-save holds single-platform images: use oci-layout or oci-tar for platforms= or attestation=",
        )
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
            "architecture": label,
            "os": "linux",
            **({"variant": "v8"} if label == "arm64" else {}),
            "config": {
                **(
                    {"Entrypoint": [entrypoint] if isinstance(entrypoint, str) else list(entrypoint)}
                    if entrypoint
                    else {}
                ),
                **({"Cmd": list(cmd)} if cmd else {}),
                "Env": [f"{k}={v}" for k, v in {"PATH": DEFAULT_PATH, **(env or {})}.items()],
                "WorkingDir": "/",
            },
            "rootfs": {"type": "layers", "diff_ids": [_digest(raw) for raw, _ in layer_blobs]},
            "history": [{"created_by": "sfnecs.images.build_fixture_image"}],
        }
        config_raw = _json_bytes(config)
        manifest = {
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "config": _descriptor(blobs, config_raw, OCI_CONFIG),
            "layers": [
                _descriptor(blobs, stored, OCI_LAYER_GZIP if compress else OCI_LAYER) for _, stored in layer_blobs
            ],
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
                att_config = _descriptor(
                    blobs, _json_bytes({"architecture": "unknown", "os": "unknown"}), "application/vnd.in-toto+json"
                )
                att = {"schemaVersion": 2, "mediaType": OCI_MANIFEST, "config": att_config, "layers": []}
                entries.append(
                    {
                        **_descriptor(blobs, _json_bytes(att), OCI_MANIFEST),
                        "platform": {"architecture": "unknown", "os": "unknown"},
                        "annotations": {
                            "vnd.docker.reference.type": "attestation-manifest",
                            "vnd.docker.reference.digest": desc["digest"],
                        },
                    }
                )
        nested = {"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": entries}
        top = {**_descriptor(blobs, _json_bytes(nested), OCI_INDEX), "annotations": ref_note}
    else:
        top = {**_descriptor(blobs, _json_bytes(children[0][1]), OCI_MANIFEST), "annotations": ref_note}
    files["index.json"] = _json_bytes({"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": [top]})
    for digest, data in blobs.items():
        files[blob_path(digest)] = data
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
        for d in sorted({"/".join(sub.split("/")[:i]) for sub in dirs for i in range(1, sub.count("/") + 2)}):
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
    """A deterministic tar header (mtime 0, root-owned)."""
    info = tarfile.TarInfo(name)
    info.type, info.mode, info.mtime, info.linkname = kind, mode, 0, link
    return info


def _digest(data: bytes) -> str:
    """The sha256 digest that names a blob."""
    return "sha256:" + hashlib.sha256(data).hexdigest()


def _json_bytes(obj: Any) -> bytes:
    """Canonical JSON (sorted keys, no spaces), so a fixture's digests never change."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":")).encode()


def _descriptor(blobs: dict[str, bytes], data: bytes, media_type: str) -> dict[str, Any]:
    """Store a blob and return its OCI descriptor."""
    digest = _digest(data)
    blobs[digest] = data
    return {"mediaType": media_type, "digest": digest, "size": len(data)}


def _write_tar(out: Path, files: Mapping[str, bytes]) -> None:
    """Write files into a tar archive (an OCI tarball, or docker save's)."""
    out.parent.mkdir(parents=True, exist_ok=True)
    with tarfile.open(out, "w", format=tarfile.PAX_FORMAT) as tar:
        for name, data in files.items():
            info = _tarinfo(name, tarfile.REGTYPE, 0o644)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))


def _write_docker_save(out: Path, child: tuple[Any, ...], tag: str) -> Path:
    """Write one image as `docker save` does: manifest.json, config, one folder per layer."""
    _, _, config_raw, layer_blobs = child
    config_name = _digest(config_raw).split(":", 1)[1] + ".json"
    files: dict[str, bytes] = {config_name: config_raw}
    layer_names = []
    for raw, _ in layer_blobs:  # docker save stores layers uncompressed, one directory per layer
        name = f"{_digest(raw).split(':', 1)[1]}/layer.tar"
        files[name] = raw
        layer_names.append(name)
    files["manifest.json"] = _json_bytes(
        [{"Config": config_name, "RepoTags": [f"fixture:{tag}"], "Layers": layer_names}]
    )
    if layer_names:
        files["repositories"] = _json_bytes({"fixture": {tag: layer_names[-1].split("/")[0]}})
    _write_tar(out, files)
    return out
