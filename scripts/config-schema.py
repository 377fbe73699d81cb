"""Write the config file's JSON Schema, `prefect-flow-deploy.schema.json` at the repository's
root, from its model (settings/config_file.py). Editors that use the YAML language server
check and complete `prefect-flow-deploy.yaml` against it (docs/tenants.md).
`tests/unit/settings/test_config_file.py` fails while the committed file is out of date.

    .venv/bin/python scripts/config-schema.py          # rewrite it
    .venv/bin/python scripts/config-schema.py --check  # exit 1 when it is out of date
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from prefect_flow_deploy.settings.config_file import config_schema

ROOT = Path(__file__).resolve().parents[1]
SCHEMA_FILE = ROOT / "prefect-flow-deploy.schema.json"


def text() -> str:
    return json.dumps(config_schema(), indent=2, ensure_ascii=False) + "\n"


def main(argv: list[str]) -> int:
    if "--check" in argv:
        current = SCHEMA_FILE.read_text(encoding="utf-8") if SCHEMA_FILE.is_file() else ""
        if current != text():
            print(f"{SCHEMA_FILE.name} is out of date: run python scripts/config-schema.py")
            return 1
        return 0
    SCHEMA_FILE.write_text(text(), encoding="utf-8")
    print(f"wrote {SCHEMA_FILE}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
