"""find_provider_mirror: the env var override, auto-detection over fake mirror trees, platform names."""

from __future__ import annotations

from pathlib import Path

import pytest

from ssepatterns.errors import ProjectError
from ssepatterns.provider_mirror import (
    AWS_PROVIDER_VERSION,
    MIRROR_ENV_VAR,
    candidate_dirs,
    find_provider_mirror,
    has_aws_provider,
    terraform_platform,
)

PLATFORM = terraform_platform()


def make_mirror(root: Path, version: str = AWS_PROVIDER_VERSION, platform: str = PLATFORM) -> Path:
    """An unpacked filesystem mirror, as `terraform providers mirror` lays it out."""
    target = root / "registry.terraform.io" / "hashicorp" / "aws" / version / platform
    target.mkdir(parents=True)
    (target / f"terraform-provider-aws_v{version}_x5").write_text("binary")
    return root


def test_aws_provider_version() -> None:
    assert AWS_PROVIDER_VERSION == "5.100.0"


@pytest.mark.parametrize(
    ("system", "machine", "expected"),
    [
        ("Linux", "x86_64", "linux_amd64"),
        ("Linux", "aarch64", "linux_arm64"),
        ("Darwin", "arm64", "darwin_arm64"),
        ("Darwin", "x86_64", "darwin_amd64"),
        ("Windows", "AMD64", "windows_amd64"),
        ("Linux", "armv7l", "linux_arm"),
        ("Linux", "i686", "linux_386"),
        ("FreeBSD", "amd64", "freebsd_amd64"),
    ],
)
def test_terraform_platform(system: str, machine: str, expected: str) -> None:
    assert terraform_platform(system, machine) == expected


def test_has_aws_provider_layouts(tmp_path: Path) -> None:
    assert has_aws_provider(make_mirror(tmp_path / "unpacked"))
    packed = tmp_path / "packed" / "registry.terraform.io" / "hashicorp" / "aws"
    packed.mkdir(parents=True)
    (packed / f"terraform-provider-aws_{AWS_PROVIDER_VERSION}_{PLATFORM}.zip").write_text("zip")
    assert has_aws_provider(tmp_path / "packed")
    empty = (
        tmp_path / "empty" / "registry.terraform.io" / "hashicorp" / "aws" / AWS_PROVIDER_VERSION / PLATFORM
    )
    empty.mkdir(parents=True)
    assert not has_aws_provider(tmp_path / "empty"), "a version directory without the binary does not count"
    assert not has_aws_provider(make_mirror(tmp_path / "other", platform="plan9_mips"))
    assert not has_aws_provider(tmp_path / "absent")


def test_env_var_wins(tmp_path: Path) -> None:
    make_mirror(tmp_path / "auto")
    chosen = make_mirror(tmp_path / "chosen")
    env = {MIRROR_ENV_VAR: str(chosen)}
    assert find_provider_mirror(env, search_dirs=[tmp_path / "auto"]) == chosen


def test_env_var_relative_path_made_absolute(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    make_mirror(tmp_path / "mirror")
    monkeypatch.chdir(tmp_path)
    assert find_provider_mirror({MIRROR_ENV_VAR: "mirror"}, search_dirs=[]) == tmp_path / "mirror"


def test_env_var_missing_directory(tmp_path: Path) -> None:
    with pytest.raises(
        ProjectError, match=f"^{MIRROR_ENV_VAR} points to .*nope, which is not an existing dir"
    ):
        find_provider_mirror({MIRROR_ENV_VAR: str(tmp_path / "nope")}, search_dirs=[])


def test_env_var_without_the_provider(tmp_path: Path) -> None:
    mirror = make_mirror(tmp_path / "old", version="5.99.0")
    with pytest.raises(ProjectError) as caught:
        find_provider_mirror({MIRROR_ENV_VAR: str(mirror)}, search_dirs=[])
    message = str(caught.value)
    expected = mirror / "registry.terraform.io/hashicorp/aws" / AWS_PROVIDER_VERSION / PLATFORM
    assert f"has no hashicorp/aws {AWS_PROVIDER_VERSION} for {PLATFORM}" in message
    assert f"expected {expected}/terraform-provider-aws_*" in message
    assert f"it has only 5.99.0/{PLATFORM}" in message


def test_empty_env_var_means_auto_detect(tmp_path: Path) -> None:
    mirror = make_mirror(tmp_path / "auto")
    assert find_provider_mirror({MIRROR_ENV_VAR: ""}, search_dirs=[mirror]) == mirror


def test_auto_detect_first_with_provider(tmp_path: Path) -> None:
    wrong_version = make_mirror(tmp_path / "a", version="5.99.0")
    good = make_mirror(tmp_path / "b")
    also_good = make_mirror(tmp_path / "c")
    assert find_provider_mirror({}, search_dirs=[tmp_path / "none", wrong_version, good, also_good]) == good


def test_no_mirror_means_registry(tmp_path: Path) -> None:
    assert find_provider_mirror({}, search_dirs=[tmp_path / "none", tmp_path]) is None


def test_candidate_dirs_order(tmp_path: Path) -> None:
    env = {"HOME": str(tmp_path), "XDG_DATA_DIRS": f"/usr/local/share::{tmp_path / 'xdg'}"}
    assert candidate_dirs(env) == [
        Path("/opt/tf-plugins"),
        tmp_path / ".terraform.d/plugins",
        tmp_path / ".local/share/terraform/plugins",
        Path("/usr/local/share/terraform/plugins"),
        Path("/usr/share/terraform/plugins"),
        tmp_path / "xdg/terraform/plugins",
    ]


def test_auto_detect_uses_home_from_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    home_mirror = make_mirror(tmp_path / ".terraform.d" / "plugins")
    # Only the home-based candidates, so the machine's own /opt/tf-plugins does not interfere.
    monkeypatch.setattr(
        "ssepatterns.provider_mirror.candidate_dirs",
        lambda env: [d for d in candidate_dirs(env) if tmp_path in d.parents],
    )
    assert find_provider_mirror({"HOME": str(tmp_path)}) == home_mirror
