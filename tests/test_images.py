"""sfnecs.images and sfnecs.images.elf: platforms from ECR, OCI layouts, tarballs and the binaries themselves."""

from __future__ import annotations

import errno
import gzip
import io
import json
import platform
import tarfile
import tempfile
from pathlib import Path

import boto3
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from moto import mock_aws

from sfnecs.exceptions import ValidationError
from sfnecs.images import (
    ACCEPTED_MEDIA_TYPES,
    Hardlink,
    ImagePlatforms,
    Platform,
    Symlink,
    build_fixture_image,
    ecr_platforms,
    local_platforms,
    manifest_platforms,
    matches,
    push_oci_layout,
)
from sfnecs.images.elf import (
    EM_AARCH64,
    EM_ARM,
    EM_MIPS,
    EM_PPC64,
    EM_X86_64,
    MINIMAL_ARCHITECTURES,
    QEMU_NAMES,
    ElfHeader,
    binfmt_handlers_for,
    minimal_elf,
    oci_architecture,
    reproduce_exec_format_error,
)
from sfnecs.model.platforms import ECS_PLATFORMS, oci_platform

FORMATS = {"oci-layout": "img", "oci-tar": "img.tar", "docker-save": "img-save.tar"}
ELF_MACHINE = {"amd64": EM_X86_64, "arm64": EM_AARCH64}


# ---- ELF headers and minimal executables ------------------------------------------------------------------
@pytest.mark.parametrize("arch", MINIMAL_ARCHITECTURES)
def test_minimal_elf_header_names_its_cpu(arch):
    data = minimal_elf(arch)
    header = ElfHeader.parse(data)
    assert header is not None and header.architecture == arch
    assert header.e_type == 2 and header.endianness == "little"
    assert header.bits == (32 if arch in ("arm", "386") else 64)
    assert len(data) < 200  # headers + three instructions


def test_elf_header_reads_class_endianness_and_machine_from_raw_bytes():
    big_ppc = b"\x7fELF" + bytes([2, 2, 1]) + bytes(9) + (2).to_bytes(2, "big") + EM_PPC64.to_bytes(2, "big")
    little_mips32 = b"\x7fELF" + bytes([1, 1, 1]) + bytes(9) + (3).to_bytes(2, "little") + EM_MIPS.to_bytes(2, "little")
    assert ElfHeader.parse(big_ppc).architecture == "ppc64"
    assert ElfHeader.parse(little_mips32).architecture == "mipsle"
    arm = ElfHeader.parse(minimal_elf("arm"))
    assert arm.machine == EM_ARM and "32-bit" in arm.describe()


@pytest.mark.parametrize("data", [b"", b"\x7fELF", b"\x7fELF\x03\x01" + bytes(20), b"#!/bin/sh\n", bytes(64)])
def test_elf_header_of_non_elf_or_truncated_data_is_none(data):
    assert ElfHeader.parse(data) is None


def test_minimal_elf_rejects_unknown_architectures():
    with pytest.raises(ValidationError, match="architecture='sparc'"):
        minimal_elf("sparc")
    assert oci_architecture("x86_64") == "amd64" and oci_architecture("aarch64") == "arm64"


def test_reproduce_exec_format_error_shows_errno_8_on_this_host():
    result = reproduce_exec_format_error()
    assert result.host_machine == platform.machine()
    assert result.host_returncode == 0, "the native minimal ELF must really run and exit 0"
    assert result.foreign_elf.architecture != result.host_architecture
    if result.binfmt_handlers:  # an emulator is registered for the foreign CPU: it runs, and says so
        assert result.foreign_returncode == 0 and "binfmt_misc" in result.summary()
    else:
        assert result.foreign_errno == errno.ENOEXEC
        assert "Exec format error" in result.foreign_error and result.refused
        assert "exec format error" in result.summary()
    assert list(result.to_frame().columns) == ["binary", "elf", "outcome"]
    assert "<table" in result._repr_html_()


def _qemu(arch: str) -> str | None:
    import shutil

    return shutil.which(f"qemu-{QEMU_NAMES[arch]}")


def test_reproduce_with_an_emulator_shows_the_same_file_runs(tmp_path):
    plain = reproduce_exec_format_error(str(tmp_path))
    assert plain.emulator is None and plain.emulated_returncode is None  # off by default: machine-independent
    foreign = plain.foreign_architecture
    if _qemu(foreign) is None:
        pytest.skip(f"qemu-{QEMU_NAMES[foreign]} is not installed (Debian package qemu-user)")
    result = reproduce_exec_format_error(str(tmp_path), emulate=True)
    assert result.emulator == f"qemu-{QEMU_NAMES[foreign]}" and result.emulated_returncode == 0
    if result.refused:
        assert "exits 0: the file is sound" in result.summary()
    assert list(result.to_frame()["outcome"])[-1] == "exit 0"
    with pytest.raises(ValidationError, match="emulate="):
        reproduce_exec_format_error(emulate="yes")


@pytest.mark.parametrize("arch", MINIMAL_ARCHITECTURES)
def test_every_minimal_elf_really_runs_and_exits_0_on_its_cpu(tmp_path, arch):
    """Not only a header: each program is a real executable (natively, or under QEMU's user-mode emulator)."""
    import subprocess

    native = oci_architecture(platform.machine()) == arch
    if not native and _qemu(arch) is None:
        pytest.skip(f"not this CPU and qemu-{QEMU_NAMES[arch]} is not installed (Debian package qemu-user)")
    path = tmp_path / f"job-{arch}"
    path.write_bytes(minimal_elf(arch))
    path.chmod(0o755)
    done = subprocess.run([str(path)] if native else [_qemu(arch), str(path)], capture_output=True, timeout=30)
    assert done.returncode == 0 and done.stdout == b"" and done.stderr == b""


def test_binfmt_handlers_match_magic_under_mask_like_the_kernel(tmp_path):
    # The entry qemu-user-static registers for aarch64 (magic and mask as in its binfmt file).
    (tmp_path / "qemu-aarch64").write_text(
        "enabled\ninterpreter /usr/bin/qemu-aarch64-static\nflags: F\noffset 0\n"
        "magic 7f454c460201010000000000000000000200b700\nmask ffffffffffffff00fffffffffffffffffeffffff\n"
    )
    (tmp_path / "status").write_text("enabled\n")
    assert binfmt_handlers_for(minimal_elf("arm64"), str(tmp_path)) == ["qemu-aarch64 -> /usr/bin/qemu-aarch64-static"]
    assert binfmt_handlers_for(minimal_elf("amd64"), str(tmp_path)) == []
    assert binfmt_handlers_for(minimal_elf("arm64"), str(tmp_path / "absent")) == []


# ---- local images: the three formats, both CPUs -----------------------------------------------------------
@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("arch", ["amd64", "arm64"])
def test_local_formats_report_the_label_and_the_binary(tmp_path, fmt, arch):
    path = build_fixture_image(tmp_path / FORMATS[fmt], arch, fmt=fmt)
    result = local_platforms(path)
    assert result.cannot_tell is None and not result.is_index
    assert [p.architecture for p in result.platforms] == [arch]
    assert result.binary.program == "/app/job" and result.binary.elf.machine == ELF_MACHINE[arch]
    cpu = "X86_64" if arch == "amd64" else "ARM64"
    other = "ARM64" if cpu == "X86_64" else "X86_64"
    assert result.supports(cpu) and result.runs_on(cpu)
    assert result.supports(other) is False and result.runs_on(other) is False
    assert result.disagreements == ()


def test_gzip_compressed_layers_are_read(tmp_path):
    result = local_platforms(build_fixture_image(tmp_path / "gz.tar", "arm64", fmt="oci-tar", compress=True))
    assert result.binary.elf.architecture == "arm64"


@pytest.mark.parametrize("fmt", ["oci-layout", "oci-tar"])
def test_index_with_two_platforms(tmp_path, fmt):
    result = local_platforms(build_fixture_image(tmp_path / FORMATS[fmt], platforms=["amd64", "arm64"], fmt=fmt))
    assert result.is_index
    assert [str(p) for p in result.platforms] == ["linux/amd64", "linux/arm64"]
    assert sorted(b.elf.architecture for b in result.binaries) == ["amd64", "arm64"]
    assert result.runs_on("X86_64") and result.runs_on("ARM64")
    assert matches(result, "ARM64") and matches(["linux/amd64"], "X86_64")


def test_one_platform_index_with_attestation_lacks_the_other_platform(tmp_path):
    result = local_platforms(build_fixture_image(tmp_path / "att", "arm64", attestation=True))
    assert result.is_index and [str(p) for p in result.platforms] == ["linux/arm64"]
    assert any("attestation" in n for n in result.notes)
    assert result.supports("X86_64") is False and result.runs_on("X86_64") is False


def test_label_that_disagrees_with_the_binary_is_reported(tmp_path):
    result = local_platforms(
        build_fixture_image(tmp_path / "lie.tar", "amd64", label_architecture="arm64", fmt="docker-save")
    )
    assert [p.architecture for p in result.platforms] == ["arm64"]
    assert len(result.disagreements) == 1 and "/app/job" in result.disagreements[0]
    assert "x86-64" in result.disagreements[0]
    # The label passes the pull check for ARM64 but the kernel would refuse the binary there.
    assert result.supports("ARM64") and result.runs_on("ARM64") is False and result.runs_on("X86_64")


def test_index_entry_whose_binary_is_for_the_other_cpu(tmp_path):
    amd64_only = [{"/app/job": minimal_elf("amd64")}]
    result = local_platforms(build_fixture_image(tmp_path / "idx", platforms=["amd64", "arm64"], layers=amd64_only))
    assert result.supports("ARM64") and result.runs_on("ARM64") is False and result.runs_on("X86_64")
    assert any("linux/arm64" in d and "x86-64" in d for d in result.disagreements)


def test_symlinked_entrypoint_across_layers_absolute_and_relative(tmp_path):
    layers = [
        {"/opt/tool-1.2/bin/tool": minimal_elf("arm64")},
        {"/opt/current": Symlink("tool-1.2"), "/usr/local/bin/job": Symlink("../../../opt/current/bin/tool")},
        {"/app/job": Symlink("/usr/local/bin/job")},
    ]
    result = local_platforms(build_fixture_image(tmp_path / "ln", layers=layers))
    b = result.binary
    assert b.cannot_tell is None and b.executables[0][0] == "/opt/tool-1.2/bin/tool"
    assert b.elf.architecture == "arm64"
    assert b.chain == (
        "/app/job -> /usr/local/bin/job",
        "/usr/local/bin/job -> ../../../opt/current/bin/tool",
        "/opt/current -> tool-1.2",
    )
    # Labelled amd64 (the default label follows `architecture`) but the file found is arm64.
    assert result.disagreements


def test_symlink_loop_is_cannot_tell(tmp_path):
    layers = [{"/app/job": Symlink("/app/a"), "/app/a": Symlink("/app/job")}]
    b = local_platforms(build_fixture_image(tmp_path / "loop", layers=layers)).binary
    assert "too many levels of symbolic links" in b.cannot_tell


def test_whiteout_hides_a_binary_and_later_layers_win(tmp_path):
    hidden = [{"/app/job": minimal_elf("amd64")}, {"/app/.wh.job": b""}]
    b = local_platforms(build_fixture_image(tmp_path / "wh", layers=hidden)).binary
    assert b.elf is None and "not in the image's layers" in b.cannot_tell
    readded = hidden + [{"/app/job": minimal_elf("arm64")}]
    assert local_platforms(build_fixture_image(tmp_path / "wh2", layers=readded)).binary.elf.architecture == "arm64"
    replaced = [{"/app/job": minimal_elf("amd64")}, {"/app/job": minimal_elf("arm64")}]
    assert local_platforms(build_fixture_image(tmp_path / "wh3", layers=replaced)).binary.elf.architecture == "arm64"


def test_opaque_whiteout_empties_a_directory_from_lower_layers_only(tmp_path):
    layers = [
        {"/app/job": minimal_elf("amd64"), "/app/keep": minimal_elf("amd64")},
        {"/app/.wh..wh..opq": b"", "/app/new": minimal_elf("arm64")},
    ]
    gone = local_platforms(build_fixture_image(tmp_path / "opq", layers=layers)).binary
    assert "not in the image's layers" in gone.cannot_tell
    kept = local_platforms(build_fixture_image(tmp_path / "opq2", layers=layers, entrypoint="/app/new")).binary
    assert kept.elf.architecture == "arm64"


def test_shebang_script_is_followed_to_its_interpreter_through_env(tmp_path):
    layers = [
        {
            "/usr/bin/env": minimal_elf("arm64"),
            "/usr/local/bin/python3.12": minimal_elf("arm64"),
            "/usr/local/bin/python3": Symlink("python3.12"),
        },
        {"/app/run.py": "#!/usr/bin/env python3\nprint('hi')\n"},
    ]
    result = local_platforms(build_fixture_image(tmp_path / "py", "arm64", layers=layers, entrypoint="/app/run.py"))
    b = result.binary
    assert [p for p, _ in b.executables] == ["/usr/bin/env", "/usr/local/bin/python3.12"]
    assert "/app/run.py: #!/usr/bin/env python3" in b.chain and "env runs python3" in b.chain
    assert result.disagreements == () and result.runs_on("ARM64")


def test_shebang_to_a_foreign_shell_is_a_disagreement(tmp_path):
    layers = [
        {
            "/bin/busybox": minimal_elf("amd64"),
            "/bin/sh": Symlink("busybox"),
            "/entrypoint.sh": "#!/bin/sh -e\nexec /app/job\n",
        }
    ]
    result = local_platforms(build_fixture_image(tmp_path / "sh", "arm64", layers=layers, entrypoint="/entrypoint.sh"))
    assert result.binary.executables[0][0] == "/bin/busybox"
    assert result.runs_on("ARM64") is False


def test_windows_line_endings_in_the_shebang_are_named(tmp_path):
    layers = [{"/bin/sh": minimal_elf("amd64"), "/run.sh": "#!/bin/sh\r\necho hi\r\n"}]
    b = local_platforms(build_fixture_image(tmp_path / "crlf", layers=layers, entrypoint="/run.sh")).binary
    assert "carriage return" in b.cannot_tell


def test_text_entrypoint_without_shebang_is_cannot_tell_with_the_reason(tmp_path):
    layers = [{"/app/job": "echo hello\n"}]
    b = local_platforms(build_fixture_image(tmp_path / "txt", layers=layers)).binary
    assert "neither an ELF executable nor a #! script" in b.cannot_tell and "on every CPU" in b.cannot_tell


def test_program_found_through_path_cmd_only_and_hardlink(tmp_path):
    layers = [{"/usr/bin/python3.11": minimal_elf("arm64"), "/usr/bin/python3": Hardlink("/usr/bin/python3.11")}]
    path = build_fixture_image(tmp_path / "cmd", "arm64", layers=layers, entrypoint=None, cmd=["python3", "-V"])
    b = local_platforms(path).binary
    assert b.command == ("python3", "-V") and b.program == "/usr/bin/python3"
    assert b.elf.architecture == "arm64"
    missing = local_platforms(path, entrypoint=["nothere"]).binary
    assert "not found in PATH" in missing.cannot_tell


def test_entrypoint_override_and_ref_selection(tmp_path):
    path = build_fixture_image(tmp_path / "ovr", "amd64", tag="v1")
    assert local_platforms(path, ref="v1").platforms[0].architecture == "amd64"
    assert "no image named" in local_platforms(path, ref="v2").cannot_tell
    with pytest.raises(ValidationError, match="entrypoint"):
        local_platforms(path, entrypoint="/app/job")


def test_results_render_as_frame_html_and_json(tmp_path):
    result = local_platforms(build_fixture_image(tmp_path / "r", "amd64", label_architecture="arm64"))
    frame = result.to_frame()
    assert list(frame.columns) == ["source", "kind", "platform", "ecs_cpu_architecture", "detail"]
    assert set(frame["kind"]) == {"platform", "binary", "disagreement"}
    assert frame.loc[frame["kind"] == "binary", "ecs_cpu_architecture"].item() == "X86_64"
    assert "linux/arm64" in result._repr_html_()
    assert json.loads(json.dumps(result.to_dict()))["platforms"] == ["linux/arm64/v8"]


def test_manifest_platforms_reads_blobs_from_a_function(tmp_path):
    top, blobs = _layout_docs(build_fixture_image(tmp_path / "f", "amd64", label_architecture="arm64"))
    found = manifest_platforms(json.loads(blobs[top["digest"]]), blobs.get, source="store")
    assert found.source == "store" and [p.architecture for p in found.platforms] == ["arm64"]
    assert found.binary.elf.architecture == "amd64" and found.disagreements
    label_only = manifest_platforms(json.loads(blobs[top["digest"]]), blobs.get, inspect_binary=False)
    assert label_only.binaries == () and label_only.platforms == found.platforms
    missing = manifest_platforms({"config": {"digest": "sha256:" + "0" * 64}, "layers": []}, blobs.get)
    assert missing.platforms == () and "not available" in missing.cannot_tell
    assert "not a JSON object" in manifest_platforms("junk", blobs.get).cannot_tell


def test_manifest_platforms_reads_an_index_from_its_entries(tmp_path):
    top, blobs = _layout_docs(build_fixture_image(tmp_path / "multi", platforms=["amd64", "arm64"]))
    index = json.loads(blobs[top["digest"]])
    found = manifest_platforms(index, blobs.get)  # an OCI layout's blobs hold the entries' manifests too
    assert found.is_index and [str(p) for p in found.platforms] == ["linux/amd64", "linux/arm64"]
    assert sorted(b.elf.architecture for b in found.binaries) == ["amd64", "arm64"]
    layers_only = {d: b for d, b in blobs.items() if b"schemaVersion" not in b}  # configs and layers
    labels = manifest_platforms(index, layers_only.get)  # a registry's blob store: no manifests in it
    assert labels.is_index and labels.supports("ARM64") and labels.cannot_tell is None and labels.binaries == ()


# ---- malformed input never raises ------------------------------------------------------------------------
def _tar_bytes(files: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def test_truncated_and_corrupt_tarballs_are_cannot_tell(tmp_path):
    good = build_fixture_image(tmp_path / "good.tar", "arm64", fmt="oci-tar").read_bytes()
    cases = {
        "truncated.tar": good[: len(good) // 2],
        "header-only.tar": good[:700],
        "empty.tar": b"",
        "random.tar": bytes(range(256)) * 8,
        "bad.tar.gz": gzip.compress(b"not a tar at all" * 50)[:-10],
        "neither.tar": _tar_bytes({"hello.txt": b"hi"}),
        "bad-index.tar": _tar_bytes({"index.json": b"{not json"}),
        "escape.tar": _tar_bytes({"index.json": json.dumps({"manifests": [{"digest": "../../etc/passwd"}]}).encode()}),
        "missing-blob.tar": _tar_bytes(
            {
                "index.json": json.dumps(
                    {
                        "manifests": [
                            {"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": "sha256:" + "0" * 64}
                        ]
                    }
                ).encode()
            }
        ),
        "docker-bad.tar": _tar_bytes({"manifest.json": b'[{"Config": "/etc/passwd", "Layers": 3}]'}),
    }
    for name, data in cases.items():
        (tmp_path / name).write_bytes(data)
        result = local_platforms(tmp_path / name)
        assert isinstance(result, ImagePlatforms) and result.platforms == (), name
        assert result.cannot_tell, name
    assert "manifest.json" in local_platforms(tmp_path / "neither.tar").cannot_tell
    assert "not a valid digest" in local_platforms(tmp_path / "escape.tar").cannot_tell


def test_truncated_layer_leaves_the_label_and_explains_the_binary(tmp_path):
    layout = build_fixture_image(tmp_path / "lay", "arm64")
    manifest_digest = json.loads((layout / "index.json").read_text())["manifests"][0]["digest"]
    manifest = json.loads((layout / "blobs/sha256" / manifest_digest.split(":")[1]).read_text())
    layer = layout / "blobs/sha256" / manifest["layers"][0]["digest"].split(":")[1]
    layer.write_bytes(layer.read_bytes()[:600])
    result = local_platforms(layout)
    assert [p.architecture for p in result.platforms] == ["arm64"]
    assert result.binary.cannot_tell and result.binary.elf is None


def test_zstd_layer_is_cannot_tell_naming_zstd(tmp_path):
    layout = build_fixture_image(tmp_path / "z", "arm64")
    manifest_digest = json.loads((layout / "index.json").read_text())["manifests"][0]["digest"]
    manifest = json.loads((layout / "blobs/sha256" / manifest_digest.split(":")[1]).read_text())
    layer = layout / "blobs/sha256" / manifest["layers"][0]["digest"].split(":")[1]
    layer.write_bytes(b"\x28\xb5\x2f\xfd" + bytes(40))
    assert "zstd" in local_platforms(layout).binary.cannot_tell


def test_missing_path_is_a_validation_error(tmp_path):
    with pytest.raises(ValidationError, match="path="):
        local_platforms(tmp_path / "nope")


_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(
            st.sampled_from(
                [
                    "manifests",
                    "digest",
                    "mediaType",
                    "platform",
                    "architecture",
                    "os",
                    "config",
                    "layers",
                    "Config",
                    "Layers",
                    "RepoTags",
                    "schemaVersion",
                    "annotations",
                ]
            )
            | st.text(max_size=8),
            inner,
            max_size=5,
        )
    ),
    max_leaves=20,
)
_FUZZ = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@_FUZZ
@given(st.binary(max_size=3000))
def test_fuzz_random_bytes_never_raise(data):
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "img.tar"
        path.write_bytes(data)
        assert isinstance(local_platforms(path), ImagePlatforms)


@_FUZZ
@given(_json, st.sampled_from(["index.json", "manifest.json"]), st.booleans())
def test_fuzz_random_json_manifests_never_raise(doc, name, as_dir):
    with tempfile.TemporaryDirectory() as tmp:
        raw = json.dumps(doc).encode()
        if as_dir:
            path = Path(tmp) / "layout"
            path.mkdir()
            (path / name).write_bytes(raw)
        else:
            path = Path(tmp) / "img.tar"
            path.write_bytes(_tar_bytes({name: raw, "blobs/sha256/" + "a" * 64: raw}))
        result = local_platforms(path)
        assert isinstance(result, ImagePlatforms) and (result.platforms or result.cannot_tell)


@_FUZZ
@given(st.binary(max_size=300))
def test_fuzz_random_entrypoint_contents_never_raise(content):
    with tempfile.TemporaryDirectory() as tmp:
        path = build_fixture_image(Path(tmp) / "f", layers=[{"/app/job": content}])
        b = local_platforms(path).binary
        assert b.elf is not None or b.cannot_tell


# ---- platforms and ECS ----------------------------------------------------------------------------------
def test_platform_matching_and_validation():
    assert str(Platform.parse("linux/arm/v7")) == "linux/arm/v7"
    assert Platform("linux", "arm64", "v8").ecs_cpu_architecture == "ARM64"
    assert Platform("linux", "amd64").ecs_cpu_architecture == "X86_64"
    assert Platform("linux", "arm", "v7").ecs_cpu_architecture is None
    assert matches([Platform("linux", "arm64", "v8")], "ARM64") and not matches(["linux/arm64"], "X86_64")
    assert not matches(["windows/amd64"], "X86_64") and matches(["windows/amd64"], "X86_64", "WINDOWS_SERVER_2022_CORE")
    with pytest.raises(ValidationError, match="cpu_architecture='arm'"):
        matches([], "arm")
    with pytest.raises(ValidationError, match="platform="):
        Platform.parse("amd64")
    with pytest.raises(ValidationError, match="fmt="):
        build_fixture_image("x", fmt="zip")


def test_oci_platform_is_the_one_ecs_to_oci_map():
    assert str(oci_platform("X86_64")) == "linux/amd64" and str(oci_platform("ARM64")) == "linux/arm64"
    assert oci_platform("ARM64", "WINDOWS_SERVER_2022_CORE") == Platform("windows", "arm64")
    assert all(oci_platform(cpu).ecs_cpu_architecture == cpu for cpu in ECS_PLATFORMS)
    with pytest.raises(ValidationError, match="cpu_architecture='arm'"):
        oci_platform("arm")
    with pytest.raises(ValidationError, match="os_family='linux'"):
        oci_platform("X86_64", "linux")


# ---- ECR ------------------------------------------------------------------------------------------------
def _layout_docs(layout: Path) -> tuple[dict, dict[str, bytes]]:
    """index.json's top descriptor and every blob of a fixture layout, by digest."""
    top = json.loads((layout / "index.json").read_text())["manifests"][0]
    blobs = {"sha256:" + p.name: p.read_bytes() for p in (layout / "blobs/sha256").iterdir()}
    return top, blobs


class _LayerUrls:
    """moto's ECR has no GetDownloadUrlForLayer (NotImplementedError): this stub answers that one call
    and forwards everything else to the moto client unchanged."""

    def __init__(self, client):
        self._client = client

    def get_download_url_for_layer(self, repositoryName, layerDigest, **_):
        return {
            "downloadUrl": f"https://layers.example.invalid/{repositoryName}/{layerDigest}",
            "layerDigest": layerDigest,
        }

    def __getattr__(self, name):
        return getattr(self._client, name)


@pytest.fixture
def ecr():
    with mock_aws():
        client = boto3.client("ecr", region_name="us-east-1")
        client.create_repository(repositoryName="jobs")
        yield client


def test_ecr_index_lists_its_platforms(ecr, tmp_path):
    top, blobs = _layout_docs(build_fixture_image(tmp_path / "i", platforms=["amd64", "arm64"], attestation=True))
    ecr.put_image(
        repositoryName="jobs",
        imageTag="multi",
        imageManifest=blobs[top["digest"]].decode(),
        imageManifestMediaType=top["mediaType"],
    )
    result = ecr_platforms(ecr, "jobs", "multi")
    assert result.is_index and result.cannot_tell is None
    assert [str(p) for p in result.platforms] == ["linux/amd64", "linux/arm64"]
    assert result.source == "ecr:jobs:multi" and any("attestation" in n for n in result.notes)
    digest = ecr.describe_images(repositoryName="jobs")["imageDetails"][0]["imageDigest"]
    assert ecr_platforms(ecr, "jobs", digest).platforms == result.platforms


def test_ecr_single_manifest_reads_the_config_blob(ecr, tmp_path):
    top, blobs = _layout_docs(build_fixture_image(tmp_path / "s", "arm64", label_architecture="arm64"))
    ecr.put_image(
        repositoryName="jobs",
        imageTag="one",
        imageManifest=blobs[top["digest"]].decode(),
        imageManifestMediaType=top["mediaType"],
    )
    fetched = []

    def fetch(url):
        fetched.append(url)
        return blobs[url.rsplit("/", 1)[1]]

    result = ecr_platforms(_LayerUrls(ecr), "jobs", "one", fetch=fetch)
    assert [str(p) for p in result.platforms] == ["linux/arm64/v8"] and not result.is_index
    assert len(fetched) == 1 and result.binaries == ()  # only the config: layers are not downloaded by default
    deep = ecr_platforms(_LayerUrls(ecr), "jobs", "one", fetch=fetch, inspect_binary=True)
    assert deep.binary.elf.architecture == "arm64" and deep.runs_on("ARM64") and deep.runs_on("X86_64") is False


def test_ecr_failures_are_cannot_tell(ecr, tmp_path):
    assert "ImageNotFound" in ecr_platforms(ecr, "jobs", "missing").cannot_tell
    assert "RepositoryNotFound" in ecr_platforms(ecr, "nothere", "latest").cannot_tell
    top, blobs = _layout_docs(build_fixture_image(tmp_path / "s", "amd64"))
    ecr.put_image(
        repositoryName="jobs",
        imageTag="one",
        imageManifest=blobs[top["digest"]].decode(),
        imageManifestMediaType=top["mediaType"],
    )

    class Forbidden:
        status_code, content = 403, b""

        def raise_for_status(self):
            import requests

            raise requests.HTTPError("403 Client Error: Forbidden")

    result = ecr_platforms(_LayerUrls(ecr), "jobs", "one", fetch=lambda url: Forbidden())
    assert result.platforms == () and "403" in result.cannot_tell


def test_ecr_validates_before_calling(ecr):
    with pytest.raises(ValidationError, match="repository="):
        ecr_platforms(ecr, "Bad_Repo!", "latest")
    with pytest.raises(ValidationError, match="tag_or_digest="):
        ecr_platforms(ecr, "jobs", "has space")
    assert set(ACCEPTED_MEDIA_TYPES) >= {
        "application/vnd.oci.image.index.v1+json",
        "application/vnd.docker.distribution.manifest.v2+json",
    }


@pytest.mark.sandbox
def test_push_layout_to_the_sandbox_and_read_it_back_through_real_download_urls(target, tmp_path):
    """End to end: the sandbox implements the layer API and serves GetDownloadUrlForLayer's URL."""
    ecr = target.client("ecr")
    ecr.create_repository(repositoryName="images-e2e")
    push_oci_layout(
        ecr, build_fixture_image(tmp_path / "lie", "amd64", label_architecture="arm64"), "images-e2e", "lie"
    )
    push_oci_layout(ecr, build_fixture_image(tmp_path / "multi", platforms=["amd64", "arm64"]), "images-e2e", "multi")
    lie = ecr_platforms(ecr, "images-e2e", "lie", inspect_binary=True)  # default fetch: requests.get
    assert [p.architecture for p in lie.platforms] == ["arm64"]
    assert lie.binary.elf.architecture == "amd64" and lie.disagreements
    multi = ecr_platforms(ecr, "images-e2e", "multi", inspect_binary=True)
    assert multi.is_index and sorted(b.elf.architecture for b in multi.binaries) == ["amd64", "arm64"]
