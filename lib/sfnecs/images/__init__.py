"""Which platforms an image really supports: from ECR, an OCI layout, a tarball, and its binaries.

Why: a Fargate task runs on one CPU (`runtimePlatform.cpuArchitecture`, X86_64 by default). An
image index without that platform fails the pull; a single-platform image of another CPU starts
and the kernel refuses its entrypoint ("exec format error"). Labels can also lie: an image
labelled arm64 may hold an x86-64 binary downloaded at build time. So this package reads the
index, the config labels *and* the ELF header of the program the container would exec.

Formats follow the OCI image spec (image-index, manifest, config, image-layout, layer changesets
with `.wh.` whiteouts) and Docker's `docker save` layout (manifest.json). The stdlib's json and
tarfile are enough for these: the one PyPI library for OCI structures (`opencontainers`) covers
neither Docker's media types nor `docker save`, and it logs instead of raising, which does not fit
a reader that must turn every malformed input into a "cannot tell" with a reason.

Modules, in the order they build on each other:
  manifests   media types, digests and tags, the JSON documents (index, manifest, config)
  platforms   the results: ImagePlatforms, BinaryInfo, matches (the ECS<->OCI map is sfnecs.model.platforms)
  stores      where manifests and blobs come from: layout folder, tarball, ECR, a blob function
  rootfs      the layers merged, whiteouts applied, symlinks resolved
  entrypoint  the program the kernel would exec (PATH, symlinks, #! lines) and its ELF headers
  elf         ELF headers, minimal executables, reproducing "exec format error"
  walk        from an index down to each image's config and binary
  readers     ecr_platforms, local_platforms, manifest_platforms
  push        push an OCI layout to ECR;  fixtures: build small images;  sample: push a sample image

This index re-exports the public API for notebooks and tests; library modules import the submodule.
"""

from sfnecs.images.elf import reproduce_exec_format_error
from sfnecs.images.fixtures import FIXTURE_FORMATS, Hardlink, Symlink, build_fixture_image
from sfnecs.images.manifests import ACCEPTED_MEDIA_TYPES, check_tag
from sfnecs.images.platforms import BinaryInfo, ImagePlatforms, matches
from sfnecs.images.push import push_oci_layout
from sfnecs.images.readers import ecr_platforms, local_platforms, manifest_platforms
from sfnecs.model.platforms import ECS_PLATFORMS, Platform

__all__ = [
    "ACCEPTED_MEDIA_TYPES",
    "BinaryInfo",
    "ECS_PLATFORMS",
    "FIXTURE_FORMATS",
    "Hardlink",
    "ImagePlatforms",
    "Platform",
    "Symlink",
    "build_fixture_image",
    "check_tag",
    "ecr_platforms",
    "local_platforms",
    "manifest_platforms",
    "matches",
    "push_oci_layout",
    "reproduce_exec_format_error",
]
