"""Prefect's own reading of flow folders: every module-level Flow of every file, with its
name, description and `parameters` (Prefect's `parameter_schema(fn)`, what `flow.to_deployment`
registers). It imports, so runs, the folders' code: tests run it in a subprocess, never the
engine. Usage: python oracle.py '{"<folder>": ["<file relative to it>", ...], ...}'
→ JSON {folder: {file: {attribute: {name, description, schema}} | {"error": ...}}}.
"""

import importlib.util
import json
import sys

from prefect.flows import Flow

result: dict[str, dict[str, object]] = {}
for number, (folder, files) in enumerate(json.loads(sys.argv[1]).items()):
    sys.path.insert(0, folder)
    answers: dict[str, object] = {}
    for index, relative in enumerate(files):
        name = f"__oracle_{number}_{index}__"
        spec = importlib.util.spec_from_file_location(name, f"{folder}/{relative}")
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        try:
            spec.loader.exec_module(module)
        except Exception as exc:  # Prefect refuses the file: that is an answer too
            answers[relative] = {"error": f"{type(exc).__name__}: {exc}"}
            continue
        answers[relative] = {
            attr: {
                "name": value.name,
                "description": value.description,
                "schema": value.parameters.model_dump_for_openapi(),
            }
            for attr, value in vars(module).items()
            if isinstance(value, Flow)
        }
    result[folder] = answers
    # Each folder on its own, as deployed: forget its modules (two folders' models.py).
    sys.path.remove(folder)
    for key, loaded in list(sys.modules.items()):
        if (getattr(loaded, "__file__", None) or "").startswith(folder + "/"):
            del sys.modules[key]
print(json.dumps(result))
