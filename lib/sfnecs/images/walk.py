"""The walk from an index down to each image's config (and binary): what `Walk` accumulates.

Why: an OCI layout's index.json, a multi-platform index, an attestation-laden buildx index, a
single manifest and a `docker save` manifest.json all lead to the same question per image
(which platform, and which binary), so one walk answers it for every store.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from contextlib import ExitStack
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from sfnecs.exceptions import ImageError
from sfnecs.i18n import tr
from sfnecs.images.entrypoint import entrypoint_binary
from sfnecs.images.manifests import (
    UNREADABLE,
    is_index_document,
    is_index_type,
    json_list,
    json_object,
    load_json,
    platform_of,
    str_list,
    unreadable_reason,
)
from sfnecs.images.platforms import BinaryInfo, ImagePlatforms
from sfnecs.model.platforms import Platform

_MAX_INDEX_DEPTH = 4  # nested indexes (layout index.json -> buildx index -> manifests) are 2 deep


@dataclass
class Walk:
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

    def start(self, doc: Any, media_type: str = "") -> None:
        """Walk the document a reference names: an image index, or one image's manifest."""
        if is_index_document(json_object(doc, "manifest"), media_type):
            self.is_index = True
            self.index(doc, 0)
        else:
            self.manifest(doc, None)

    def add_platform(self, plat: Platform) -> None:
        """Record a platform once, in the order found."""
        if plat not in self.platforms:
            self.platforms.append(plat)

    def index(self, doc: Any, depth: int) -> None:
        """Walk an image index: its entries' platforms, nested indexes, label-less manifests."""
        doc = json_object(doc, "image index")
        if depth > _MAX_INDEX_DEPTH:
            raise ImageError(f"image indexes nested more than {_MAX_INDEX_DEPTH} deep")
        descriptors = [json_object(d, "index entry") for d in json_list(doc.get("manifests"), "index manifests")]
        if not descriptors:
            raise ImageError("the image index lists no manifests")
        skipped = 0
        for i, desc in enumerate(descriptors):
            label = platform_of(
                json_object(desc.get("platform") or {}, f"manifests[{i}].platform"), f"manifests[{i}].platform"
            )
            if label and label.architecture == "unknown":
                skipped += 1  # BuildKit attestation manifests (provenance, SBOM) carry unknown/unknown
                continue
            digest = desc.get("digest")
            if is_index_type(desc.get("mediaType")):
                self.is_index = True
                self.guard(partial(self._index_at, digest, depth + 1), f"index {digest}")
                continue
            if label:
                self.add_platform(label)
            if label is None or self.read_configs or self.inspect_binary:
                self.guard(partial(self._manifest_at, digest, label), f"manifest {digest}")
        if skipped:
            self.notes.append(
                tr(
                    "skipped {count} attestation manifest(s) (platform unknown/unknown): "
                    "BuildKit adds them by default, which makes even a one-platform build an index",
                    count=skipped,
                )
            )

    def _index_at(self, ref: Any, depth: int) -> None:  # ref: a digest as the entry has it (the store checks it)
        self.index(self.store.manifest(ref), depth)

    def _manifest_at(self, ref: Any, label: Platform | None) -> None:
        self.manifest(self.store.manifest(ref), label)

    def guard(self, step: Callable[[], None], what: str) -> None:
        """Run one step; a malformed or missing part becomes a problem noted, not a crash."""
        try:
            step()
        except UNREADABLE as exc:
            self.problems.append(f"{what}: {unreadable_reason(exc)}")

    def manifest(self, doc: Any, label: Platform | None, layer_refs: Sequence[Any] | None = None) -> None:
        """Read one image's config (and its binary when asked); `layer_refs` given for docker save."""
        doc = json_object(doc, "image manifest")
        if doc.get("schemaVersion") == 1:  # Docker schema 1 keeps the platform in the manifest itself
            plat = platform_of(doc, "schema 1 manifest")
            if plat:
                self.add_platform(plat)
            self.notes.append(tr("Docker schema 1 manifest: deprecated, and its layers are not inspected"))
            return
        if layer_refs is None:
            config_ref = json_object(doc.get("config"), "manifest config descriptor").get("digest")
            layer_refs = [
                json_object(layer, "layer descriptor").get("digest")
                for layer in json_list(doc.get("layers"), "manifest layers")
            ]
        else:
            config_ref = doc.get("Config")
        config = json_object(load_json(self.store.blob(config_ref), f"config {config_ref}"), "image config")
        plat = platform_of(config, f"config {config_ref}")
        if plat is None:
            self.problems.append(tr("config {digest} names no architecture or os", digest=config_ref))
        elif label is None:
            self.add_platform(plat)
        elif not plat.same_cpu(label):
            self.disagreements.append(
                tr(
                    "the index says {label} but its config {digest} says {platform}",
                    label=label,
                    digest=config_ref,
                    platform=plat,
                )
            )
        if self.inspect_binary:
            info = entrypoint_binary(self.store, self.stack, config, layer_refs, label or plat, self.entrypoint)
            self.binaries.append(info)
            self.disagreements.extend(info.disagreements())

    def result(self, source: str) -> ImagePlatforms:
        """What was found, as the readers return it."""
        cannot = None
        if not self.platforms:
            cannot = "; ".join(self.problems) or tr("no platform is named by the index or the config")
        return ImagePlatforms(
            source=source,
            platforms=tuple(self.platforms),
            is_index=self.is_index,
            binaries=tuple(self.binaries),
            disagreements=tuple(dict.fromkeys(self.disagreements)),
            notes=tuple(self.notes) + (tuple(self.problems) if self.platforms else ()),
            cannot_tell=cannot,
        )


def walk_layout(walk: Walk, root: Any, ref: str | None) -> None:
    """index.json lists the layout's images; one entry may itself be a multi-platform index."""
    root = json_object(root, "index.json")
    entries = [json_object(d, "index.json entry") for d in json_list(root.get("manifests"), "index.json manifests")]
    if ref is not None:
        entries = [d for d in entries if ref in _ref_names(d)]
        if not entries:
            raise ImageError(f"no image named {ref!r} in index.json")
    if not entries:
        raise ImageError("index.json lists no manifests")
    with_platform = [d for d in entries if isinstance(d.get("platform"), dict)]
    if len(entries) == 1 and not is_index_type(entries[0].get("mediaType")) and not with_platform:
        desc = entries[0]
        walk.manifest(walk.store.manifest(desc.get("digest")), None)
        return
    if len(entries) > 1 and not with_platform:
        names = ", ".join(n for d in entries for n in _ref_names(d)[:1])
        walk.notes.append(
            tr("the layout holds {count} images ({names}); pass ref= to pick one", count=len(entries), names=names)
        )
    walk.is_index = len(with_platform) > 1 or any(is_index_type(d.get("mediaType")) for d in entries)
    walk.index({"manifests": entries}, 0)


def _ref_names(desc: Mapping[str, Any]) -> list[str]:
    """The names an index.json entry answers to (ref name, containerd name, and their tags)."""
    notes = desc.get("annotations")
    if not isinstance(notes, dict):
        notes = {}
    names = [
        v
        for k, v in notes.items()
        if k in ("org.opencontainers.image.ref.name", "io.containerd.image.name") and isinstance(v, str)
    ]
    return names + [n.rsplit(":", 1)[-1] for n in names if ":" in n]


def walk_docker_save(walk: Walk, manifest: Any, ref: str | None) -> None:
    """manifest.json: [{Config, RepoTags, Layers}] (Docker's image tarball format, one per image)."""
    images = [json_object(m, "manifest.json entry") for m in json_list(manifest, "manifest.json")]
    if ref is not None:
        images = [
            m
            for m in images
            if ref in str_list(m.get("RepoTags"), "RepoTags")
            or any(t.endswith(":" + ref) for t in str_list(m.get("RepoTags"), "RepoTags"))
        ]
    if not images:
        raise ImageError("manifest.json lists no image" + (f" tagged {ref!r}" if ref else ""))
    if len(images) > 1:
        walk.notes.append(tr("the archive holds {count} images; pass ref= to pick one", count=len(images)))
    for i, image in enumerate(images):
        layers = str_list(image.get("Layers"), f"manifest.json[{i}].Layers")
        walk.guard(partial(walk.manifest, image, None, layers), f"image {i}")
