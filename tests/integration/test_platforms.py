"""Flow images for several architectures: one build per platform, joined into one manifest
list in the real local registry; a RUN step for arm64 runs under QEMU (binfmt), as on a
runner with docker/setup-qemu-action. The arm64 base is built once by
`scripts/stack.sh multi-arch` (debootstrap --arch=arm64, cached under /var/tmp/pfd-stack)."""

from __future__ import annotations

import subprocess

import httpx
import pytest

from ..conftest import ROOT, Scenario, Stack, write_flow
from ..helpers import deploy, plan, read_deployment

pytestmark = pytest.mark.stack
PLATFORMS = "linux/amd64,linux/arm64"
DOCKERFILE = """ARG BASE_IMAGE
FROM $BASE_IMAGE
RUN python3 -c "import platform; open('/machine', 'w').write(platform.machine())"
COPY . /opt/prefect/flows/multi
WORKDIR /opt/prefect/flows/multi
"""


@pytest.fixture(scope="module")
def multi_arch_base(stack: Stack) -> str:
    done = subprocess.run(
        ["bash", str(ROOT / "scripts" / "stack.sh"), "multi-arch"], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    return stack.env.get("PFD_MULTI_ARCH_BASE") or "localhost:5000/stand-in/multi-arch:bookworm"


def manifest(reference: str) -> dict[str, object]:
    host, _, rest = reference.partition("/")
    repository, _, tag = rest.rpartition(":")
    response = httpx.get(
        f"http://{host}/v2/{repository}/manifests/{tag}",
        headers={"Accept": "application/vnd.docker.distribution.manifest.list.v2+json"},
    )
    response.raise_for_status()
    data: dict[str, object] = response.json()
    return data


def test_a_multi_platform_image_lands_as_one_manifest_list(
    stack: Stack, scenario: Scenario, multi_arch_base: str
) -> None:
    write_flow(scenario.folder("p", "multi"), "multi", Dockerfile=DOCKERFILE)
    result = deploy(scenario, stack, base_image=multi_arch_base, platforms=PLATFORMS)
    [row] = result.results
    assert row.status == "created", row.error
    assert row.image is not None

    listed = manifest(row.image)
    assert listed["mediaType"] == "application/vnd.docker.distribution.manifest.list.v2+json"
    platforms = {
        f"{m['platform']['os']}/{m['platform']['architecture']}"  # type: ignore[index]
        for m in listed["manifests"]  # type: ignore[attr-defined]
    }
    assert platforms == {"linux/amd64", "linux/arm64"}
    assert row.digest and row.digest.startswith("sha256:")
    assert read_deployment(f"multi/{scenario.project('p')}").job_variables["image"] == row.image

    # The arm64 image is a real arm64 image: its RUN step ran under emulation.
    machine = subprocess.run(
        ["/usr/bin/docker", "run", "--rm", "--platform", "linux/arm64",
         f"{row.image}-linux-arm64", "cat", "/machine"],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert machine.stdout == "aarch64", machine.stderr

    # The content tag covers the platforms: amd64 alone is another image; the same set is
    # the same image (nothing to build).
    single = plan(scenario, stack, base_image=multi_arch_base, platforms="linux/amd64")
    assert single.images[0].tag != row.image.rsplit(":", 1)[1]
    again = plan(scenario, stack, base_image=multi_arch_base, platforms="linux/arm64,linux/amd64")
    assert again.images[0].action == "exists" and again.images[0].reference == row.image
