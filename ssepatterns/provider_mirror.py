"""Find a local filesystem mirror of the hashicorp/aws provider, so `terraform init` can run offline.

`terraform init -plugin-dir=DIR` makes Terraform look for providers ONLY in DIR, so we pass a directory only
when it really holds the pinned provider for this machine; otherwise the caller inits from the registry.
A mirror may use either layout Terraform accepts:

- unpacked: DIR/registry.terraform.io/hashicorp/aws/5.100.0/linux_amd64/terraform-provider-aws_v5.100.0_x5
- packed:   DIR/registry.terraform.io/hashicorp/aws/terraform-provider-aws_5.100.0_linux_amd64.zip
"""

from __future__ import annotations

import os
import platform
from collections.abc import Iterable, Mapping
from pathlib import Path

from ssepatterns.errors import ProjectError

AWS_PROVIDER_VERSION = "5.100.0"  # must match the version pinned in the committed .terraform.lock.hcl
AWS_PROVIDER_ADDRESS = "registry.terraform.io/hashicorp/aws"
MIRROR_ENV_VAR = "SSE_PATTERNS_PROVIDER_MIRROR"

# Go's GOARCH names, which Terraform uses in provider paths, for what platform.machine() reports.
_ARCH = {
    "x86_64": "amd64",
    "amd64": "amd64",
    "aarch64": "arm64",
    "arm64": "arm64",
    "i386": "386",
    "i686": "386",
}


def terraform_platform(system: str | None = None, machine: str | None = None) -> str:
    """This machine's platform as Terraform spells it in provider paths: linux_amd64, darwin_arm64, ..."""
    os_name = (system or platform.system()).lower()  # linux, darwin, windows, freebsd: already Go's GOOS
    arch = (machine or platform.machine()).lower()
    arch = _ARCH.get(arch, "arm" if arch.startswith("arm") else arch)
    return f"{os_name}_{arch}"


def candidate_dirs(env: Mapping[str, str] = os.environ) -> list[Path]:
    """Well-known filesystem-mirror locations, in search order, without duplicates."""
    home = Path(env["HOME"]) if env.get("HOME") else Path.home()
    dirs = [
        Path("/opt/tf-plugins"),
        home / ".terraform.d" / "plugins",
        home / ".local" / "share" / "terraform" / "plugins",
        Path("/usr/local/share/terraform/plugins"),
        Path("/usr/share/terraform/plugins"),
    ]
    dirs += [Path(d) / "terraform" / "plugins" for d in env.get("XDG_DATA_DIRS", "").split(os.pathsep) if d]
    return list(dict.fromkeys(dirs))


def has_aws_provider(mirror: Path, platform_name: str | None = None) -> bool:
    """True if `mirror` holds hashicorp/aws AWS_PROVIDER_VERSION for this platform, in either layout."""
    platform_name = platform_name or terraform_platform()
    provider_root = mirror / AWS_PROVIDER_ADDRESS
    unpacked = provider_root / AWS_PROVIDER_VERSION / platform_name
    packed = provider_root / f"terraform-provider-aws_{AWS_PROVIDER_VERSION}_{platform_name}.zip"
    # An empty version directory would only make `init` fail later, so require the plugin binary itself.
    return packed.is_file() or (unpacked.is_dir() and any(unpacked.glob("terraform-provider-aws*")))


def find_provider_mirror(
    env: Mapping[str, str] = os.environ, *, search_dirs: Iterable[Path] | None = None
) -> Path | None:
    """Return an absolute mirror directory to pass as `-plugin-dir`, or None to init from the registry.

    SSE_PATTERNS_PROVIDER_MIRROR wins; if it is set (non-empty) but unusable, that is an error rather than
    a silent fall-back, because the user asked for that directory. Otherwise the first of `search_dirs`
    (default: candidate_dirs(env)) that holds the provider.
    """
    platform_name = terraform_platform()
    override = env.get(MIRROR_ENV_VAR)
    if override:
        mirror = Path(override).expanduser().absolute()  # terraform runs in the env dir: no relative paths
        if not mirror.is_dir():
            raise ProjectError(f"{MIRROR_ENV_VAR} points to {mirror}, which is not an existing directory")
        if not has_aws_provider(mirror, platform_name):
            raise ProjectError(_missing_provider_message(mirror, platform_name))
        return mirror
    for mirror in candidate_dirs(env) if search_dirs is None else search_dirs:
        if has_aws_provider(mirror, platform_name):
            return mirror.absolute()
    return None


def _missing_provider_message(mirror: Path, platform_name: str) -> str:
    provider_root = mirror / AWS_PROVIDER_ADDRESS
    expected = provider_root / AWS_PROVIDER_VERSION / platform_name / "terraform-provider-aws_*"
    found = sorted(
        f"{v.name}/{p.name}" for v in provider_root.glob("*") if v.is_dir() for p in v.iterdir() if p.is_dir()
    )
    have = f"; it has only {', '.join(found)}" if found else ""
    return (
        f"{MIRROR_ENV_VAR} points to {mirror}, which has no hashicorp/aws {AWS_PROVIDER_VERSION} for "
        f"{platform_name}: expected {expected} (or the packed terraform-provider-aws_{AWS_PROVIDER_VERSION}_"
        f"{platform_name}.zip){have}. Fix the mirror or unset {MIRROR_ENV_VAR} to auto-detect."
    )
