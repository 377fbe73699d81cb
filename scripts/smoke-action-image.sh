#!/usr/bin/env bash
# Smoke-test an action image: run it the way the GitHub runner runs a Docker container action
# (shared/ACTION-RUNNER.md: the docker socket, the workspace and file-command mounts, INPUT_*
# variables with their hyphens) on a one-flow projects folder, as a dry run, and check that it
# exits 0 and plans that flow in its outputs. The release workflow calls it on the pushed image,
# once per platform, before any tag moves.
#
#   scripts/smoke-action-image.sh IMAGE [PLATFORM]     # e.g. ghcr.io/acme/x@sha256:… linux/arm64
#
# Environment: PREFECT_API_URL (required): a Prefect server the container reaches through the
#              host network; PFD_SMOKE_BASE_IMAGE (default prefecthq/prefect:3-python3.12): the
#              base image the flow folder's plan resolves; DOCKER (default docker).
set -euo pipefail

IMAGE="${1:?usage: smoke-action-image.sh IMAGE [PLATFORM]}"
PLATFORM="${2:-}"
API_URL="${PREFECT_API_URL:?set PREFECT_API_URL to a Prefect server the image can reach}"
BASE_IMAGE="${PFD_SMOKE_BASE_IMAGE:-prefecthq/prefect:3-python3.12}"
DOCKER="${DOCKER:-docker}"

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/workspace/projects/smoke/hello" "$work/file_commands"
cat >"$work/workspace/projects/smoke/hello/flow.py" <<'EOF'
from prefect import flow


@flow
def hello(name: str = "world") -> str:
    return f"hello {name}"
EOF
: >"$work/file_commands/set_output"
: >"$work/file_commands/step_summary"

# A tenant of its own: the plan reads no other run's deployments on a shared server.
tenant="smoke-$(date +%s)-$$"
status=0
"$DOCKER" run --rm ${PLATFORM:+--platform "$PLATFORM"} --network host \
  --workdir /github/workspace \
  -v /var/run/docker.sock:/var/run/docker.sock \
  -v "$work/workspace:/github/workspace" \
  -v "$work/file_commands:/github/file_commands" \
  -e GITHUB_ACTIONS=true -e CI=true -e HOME=/github/home \
  -e GITHUB_WORKSPACE=/github/workspace \
  -e GITHUB_OUTPUT=/github/file_commands/set_output \
  -e GITHUB_STEP_SUMMARY=/github/file_commands/step_summary \
  -e INPUT_DRY-RUN=true -e INPUT_PROJECTS-ROOT=projects -e "INPUT_TENANT=$tenant" \
  -e "INPUT_PREFECT-API-URL=$API_URL" -e "INPUT_BASE-IMAGE=$BASE_IMAGE" \
  "$IMAGE" >"$work/log" 2>&1 || status=$?

fail() { cat "$work/log" >&2; echo "smoke test of $IMAGE ${PLATFORM:-}: $*" >&2; exit 1; }
[ "$status" = 0 ] || fail "the dry run exited $status (its log is above)"
grep -q '^deployments' "$work/file_commands/set_output" || fail "no deployments output"
grep -q '"hello/smoke"' "$work/file_commands/set_output" \
  || fail "the plan does not hold the flow hello/smoke: $(cat "$work/file_commands/set_output")"
echo "smoke test of $IMAGE ${PLATFORM:-}: the dry run planned hello/smoke"
