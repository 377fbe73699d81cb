"""Run in the built image: Prefect's own loader (the one a flow run uses) on each entrypoint,
and Prefect's own parameter schema of the flow. This imports the flow's module, so it runs the
repository's code: only here, in the image (it has the flow's dependencies, which the engine
lacks), with no network and nothing of the engine's environment (no registry or Prefect
credentials), never in the engine's process.

Argument: JSON {"code_dir": dir, "entrypoints": ["flow.py:name", ...]}. Prints, last, one line
`PFD-SCHEMAS {entrypoint: {"schema": ...} or {"error": "Type: message"}}` (the flows' own
prints come before it).
"""

from __future__ import annotations

import json
import os
import sys
from typing import Any

MARKER = "PFD-SCHEMAS "


def schemas(code_dir: str, entrypoints: list[str]) -> dict[str, dict[str, Any]]:
    os.chdir(code_dir)
    sys.path.insert(0, code_dir)
    out: dict[str, dict[str, Any]] = {}
    for entrypoint in entrypoints:
        try:  # the import too: an image whose Prefect is broken fails each flow, clearly
            from prefect.flows import Flow, load_flow_from_entrypoint

            flow: Flow[..., Any] = load_flow_from_entrypoint(entrypoint)
            out[entrypoint] = {"schema": flow.parameters.model_dump_for_openapi()}
        except BaseException as exc:  # SystemExit in module code too
            out[entrypoint] = {"error": f"{type(exc).__name__}: {exc}"}
    return out


if __name__ == "__main__":
    args = json.loads(sys.argv[1])
    print(MARKER + json.dumps(schemas(args["code_dir"], args["entrypoints"])))
