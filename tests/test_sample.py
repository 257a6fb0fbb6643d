"""sfnecs.images.sample: the sample image in the sandbox's ECR has the label and the real ELF binary it claims."""

from __future__ import annotations

import pytest

from sfnecs.exceptions import ImageError, ValidationError
from sfnecs.images import ecr_platforms
from sfnecs.images.sample import push_sample_image

REPO = "sample-images"


@pytest.fixture(scope="module")
def ecr(target):
    client = target.client("ecr")
    client.create_repository(repositoryName=REPO)
    yield client
    client.delete_repository(repositoryName=REPO, force=True)


@pytest.mark.sandbox
@pytest.mark.parametrize("arch, elf", [("amd64", "amd64"), ("arm64", "arm64")])
def test_single_platform_sample_has_a_matching_elf_entrypoint(target, ecr, arch, elf):
    uri = push_sample_image(target, REPO, arch, tag=f"one-{arch}")
    assert uri == f"123456789012.dkr.ecr.us-east-1.amazonaws.com/{REPO}:one-{arch}"
    found = ecr_platforms(ecr, REPO, f"one-{arch}", inspect_binary=True)
    assert not found.is_index and [p.architecture for p in found.platforms] == [arch]
    assert found.binary.program == "/app/job" and found.binary.elf.architecture == elf
    assert found.disagreements == ()


@pytest.mark.sandbox
def test_index_sample_lists_its_platforms_with_one_binary_each(target, ecr):
    push_sample_image(target, REPO, platforms=["amd64", "arm64"], tag="both")
    push_sample_image(target, REPO, platforms=["amd64"], tag="amd64-only")
    both = ecr_platforms(ecr, REPO, "both", inspect_binary=True)
    assert both.is_index and sorted(b.elf.architecture for b in both.binaries) == ["amd64", "arm64"]
    only = ecr_platforms(ecr, REPO, "amd64-only")
    assert only.is_index and only.supports("ARM64") is False and only.supports("X86_64")


@pytest.mark.sandbox
def test_a_sample_whose_label_lies_about_its_binary(target, ecr):
    push_sample_image(target, REPO, "amd64", label_architecture="arm64", tag="lie")
    lie = ecr_platforms(ecr, REPO, "lie", inspect_binary=True)
    assert [p.architecture for p in lie.platforms] == ["arm64"] and lie.binary.elf.architecture == "amd64"
    assert lie.supports("ARM64") and lie.runs_on("ARM64") is False and lie.disagreements


@pytest.mark.sandbox
def test_arguments_are_checked_before_any_call(target, sandbox):
    sandbox.control("DELETE", "calls", {})
    for kwargs, name in [
        ({"architecture": "x86_64"}, "architecture="),
        ({"platforms": []}, "platforms="),
        ({"platforms": ["amd64"], "label_architecture": "arm64"}, "label_architecture="),
        ({"tag": ""}, "tag="),
        ({"tag": "bad tag"}, "tag="),
        ({"tag": "-x"}, "tag="),
        ({"entrypoint": "job"}, "entrypoint="),
    ]:
        with pytest.raises(ValidationError, match=name):
            push_sample_image(target, REPO, **kwargs)
    with pytest.raises(ValidationError, match="repository="):
        push_sample_image(target, "Bad Repo")
    assert sandbox.control("GET", "calls", {})["total"] == 0
    with pytest.raises(ImageError, match="apply the stack first"):
        push_sample_image(target, "no-such-repo")


@pytest.mark.sandbox
def test_the_mystery_image_is_fixed_by_its_seed_and_both_cpus_occur(target, ecr):
    from sfnecs.images.sample import push_mystery_image

    found = {}
    for seed in range(6):
        uri = push_mystery_image(target, REPO, seed, tag=f"mystery-{seed}")
        assert uri.endswith(f"/{REPO}:mystery-{seed}")
        image = ecr_platforms(ecr, REPO, f"mystery-{seed}", inspect_binary=True)
        found[seed] = image.binary.elf.architecture
        assert [p.architecture for p in image.platforms] == [found[seed]]
    assert set(found.values()) == {"amd64", "arm64"}
    push_mystery_image(target, REPO, 3, tag="again")
    assert ecr_platforms(ecr, REPO, "again").platforms[0].architecture == found[3]
    with pytest.raises(ValidationError, match="seed="):
        push_mystery_image(target, REPO, "3")
