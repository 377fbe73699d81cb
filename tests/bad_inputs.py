"""The bad-input suite (issue 15): each case is one kind of mistake a user can make in a flow
folder (or its project, or the config file), written beside a good folder that must still
deploy, with where it must be reported and what the message must tell the user to do.

A case is data: the files to write, the file and line the error or warning must point at,
and a piece of the advice. `stage` is the first command that can tell: "read" (`validate`,
and so `plan` and `deploy`), "plan" (needs the registry or the Prefect server), "build"
(only the build or the built image can tell) or "write" (the server's answer). The unit
suite runs every "read" case through `validate` one by one (exit status, file, line, advice);
tests/integration/test_bad_inputs.py runs all of them at once through `validate`, `plan` and
`deploy` against the real stack. `make reliability` counts them (`CASES`).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

Stage = Literal["read", "plan", "build", "write"]
Content = str | bytes | int | None
STAGES: tuple[Stage, ...] = ("read", "plan", "build", "write")
# The first command that reports a case of each stage; later commands report it too.
COMMAND_STAGES: dict[str, tuple[Stage, ...]] = {
    "validate": ("read",),
    "plan": ("read", "plan"),
    "deploy": STAGES,
}

# A flow whose function is the case's name (`{flow}`): its line 4 is `@flow`, line 5 `def`.
FLOW = "from prefect import flow\n\n\n@flow\ndef {flow}(n: int = 1) -> int:\n    return n\n"
GOOD = "good"  # the folder beside every case that must deploy
CONFIG = "prefect-flow-deploy.yaml"  # at the repository root, beside the projects root


# A flow with a parameter typed with a library's class: only the built image can tell its
# schema (the engine never imports the repository's code). `{flow}`: the case's flow.
_LIBRARY_TYPED = (
    "import httpx\nfrom prefect import flow\n\n\n@flow\n"
    "def {flow}(n: int = 1, url: httpx.URL | None = None) -> int:\n    return n\n"
)


@dataclass(frozen=True)
class Case:
    kind: str  # the folder's name; one kind of mistake per case
    # Relative path → text, bytes, a sparse file's size, or None: not written (flow.py, else
    # the case's flow, is written by default).
    files: dict[str, Content]
    at: str  # the file reported, relative to the case folder ("." itself, ".." its project)
    line: int | None  # None: the file as a whole
    advice: str  # a piece of the message: what to do
    severity: Literal["error", "warning"] = "error"
    stage: Stage = "read"
    # The case's deployment after `deploy`: "failed", "created", or None (it has none).
    outcome: str | None = "failed"
    links: dict[str, str] = field(default_factory=dict)  # relative path → link target
    # Other folders of the project the case needs (a collision), by name → files.
    others: dict[str, dict[str, Content]] = field(default_factory=dict)
    project: str = ""  # "": the suite's project; else a project of its own
    # Settings of the tenant's block of prefect-flow-deploy.yaml (key → flow-style YAML):
    # the case is then reported in that file (`at`) at that key's line (`line` is ignored).
    config: dict[str, str] = field(default_factory=dict)

    @property
    def flow(self) -> str:
        return self.kind.replace("-", "_")

    @property
    def flow_name(self) -> str:
        return self.kind


def yaml_entry(kind: str, *lines: str) -> str:
    """A prefect.yaml with one deployment of the case's flow, then `lines` (indented)."""
    body = "".join(f"  {line}\n" for line in lines)
    return f"deployments:\n- entrypoint: flow.py:{kind.replace('-', '_')}\n{body}"


def _bomb() -> str:
    lines = ["definitions:", '  a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for level in "bcdefgh":
        previous = chr(ord(level) - 1)
        lines.append(f"  {level}: &{level} [{', '.join([f'*{previous}'] * 8)}]")
    return "\n".join(lines) + "\n"


BOMB = _bomb()  # 8 lines: 8^8 = 16.7 million strings once expanded


CASES: list[Case] = [
    # -- Python source -------------------------------------------------------------------
    Case(
        "syntax-error",
        {"flow.py": "from prefect import flow\n\n\n@flow\ndef syntax_error(:\n    pass\n"},
        "flow.py", 5, "invalid syntax. Fix the file",
    ),
    Case(
        "source-not-utf8",
        {"flow.py": "# caf\xe9\n".encode("latin-1") + FLOW.format(flow="source_not_utf8").encode()},
        "flow.py", 1, "save it as UTF-8, or declare its encoding",
    ),
    Case(
        "prefect-1-flow",
        {"flow.py": "from prefect import Flow\n\nwith Flow('old') as old:\n    pass\n"},
        "flow.py", 3, "Port it",
    ),
    Case(
        # Prefect 2 code: the import fails before the flow starts, in every run.
        "prefect-2-removed-import",
        {"flow.py": "from prefect import flow\nfrom prefect.deployments import Deployment\n\n\n"
         "@flow\ndef {flow}() -> None:\n    pass\n"},
        "flow.py", 2, "Use `flow.serve()`, `flow.deploy()`, or `prefect deploy` instead.",
    ),
    Case(
        "flow-name-computed",
        {"flow.py": "import os\nfrom prefect import flow\n\n\n@flow(name=os.environ['X'])\n"
         "def flow_name_computed() -> None:\n    pass\n"},
        "flow.py", 5, "write the name as a string",
    ),
    Case(
        "flow-name-refused",
        {"flow.py": FLOW.replace("@flow", '@flow(name="daily/eu")')},
        "flow.py", 4, "Choose another name=",
    ),
    Case(
        "parameter-refused",
        {"flow.py": FLOW.replace("n: int = 1", "_secret: int = 1").replace("return n", "return 1")},
        "flow.py", 5, "Rename the parameter",
    ),
    Case(
        # An ANSI escape in a name passed Prefect's rule, then failed after the push with
        # httpx's InvalidURL; a right-to-left override shows another name than it is.
        "flow-name-control-character",
        {"flow.py": FLOW.replace("@flow", '@flow(name="daily\\x1b[31mred")')},
        "flow.py", 4, "Choose another name=",
    ),
    Case(
        "flow-name-bidi-override",
        {"flow.py": FLOW.replace("@flow", '@flow(name="report\\u202etxt.exe")')},
        "flow.py", 4, "Choose another name=",
    ),
    Case(
        "flow-name-twice",
        {"flow.py": FLOW.replace("@flow", '@flow(name="twice")') + "\n\n"
         + FLOW.replace("@flow", '@flow(name="twice")').replace("{flow}", "{flow}_2")
         .replace("from prefect import flow\n\n\n", "")},
        "flow.py", 5, "Give each its own `name=`",
    ),
    Case(
        "description-computed",
        {"flow.py": FLOW.replace("@flow", "@flow(description=str(1))")},
        "flow.py", 4, "Write the description as a string",
        severity="warning", outcome="created",
    ),
    Case(
        # A decorator of the folder's own that makes a flow one of two ways: only running it
        # tells which, so the built image names it (and the flow deploys).
        "flow-factory",
        {"flow.py": "from prefect import flow\n\n\ndef team_flow(fn):\n    if fn.__doc__:\n"
         "        return flow(fn, description=fn.__doc__)\n    return flow(fn)\n\n\n"
         "@team_flow\ndef made() -> None:\n    pass\n\n\n"
         + FLOW.replace("from prefect import flow\n\n\n", "")},
        "flow.py", 11, "Prefect computes it in the built image",
        severity="warning", outcome="created",
    ),
    Case(
        "flow-in-class",
        {"flow.py": "from prefect import flow\n\n\nclass Jobs:\n    @flow\n"
         "    def flow_in_class(self) -> None:\n        pass\n"},
        "flow.py", 6, "move it out of the class, to module level",
    ),
    Case(
        "flow-in-function",
        {"flow.py": "from prefect import flow\n\n\ndef make():\n    @flow\n"
         "    def flow_in_function() -> None:\n        pass\n\n    return flow_in_function\n"},
        "flow.py", 6, "move it to module level",
    ),
    Case(
        "no-flow",
        {"flow.py": None, "helpers.py": "def helper() -> int:\n    return 1\n"},
        ".", None, "start its name with `_` to skip it",
        severity="warning", outcome=None,
    ),
    # -- prefect.yaml --------------------------------------------------------------------
    Case(
        "yaml-tab",
        {"prefect.yaml": "deployments:\n\t- entrypoint: flow.py:yaml_tab\n"},
        "prefect.yaml", 2, "YAML indents with spaces",
    ),
    Case(
        "yaml-wrong-type",
        {"prefect.yaml": yaml_entry("yaml-wrong-type", "tags: 3")},
        "prefect.yaml", 3, "`tags` must be a list of strings",
    ),
    Case(
        "yaml-unknown-entrypoint",
        {"prefect.yaml": "deployments:\n- entrypoint: flow.py:nope\n"},
        "prefect.yaml", 2, "(flows read there: flow.py:yaml_unknown_entrypoint)",
    ),
    Case(
        "yaml-no-entrypoint",
        {"prefect.yaml": "deployments:\n- name: lost\n"},
        "prefect.yaml", 2, "a deployment needs `entrypoint: <file>.py:<function>`",
    ),
    Case(
        "yaml-cron-refused",
        {"prefect.yaml": yaml_entry("yaml-cron-refused", "schedules:", "- cron: '61 * * * *'")},
        "prefect.yaml", 4, 'Invalid cron string: "61 * * * *"',  # the schedule's own line
    ),
    Case(
        "yaml-schedule-shape",
        {"prefect.yaml": yaml_entry("yaml-schedule-shape", "schedules:", "- every: 5")},
        "prefect.yaml", 3, "each schedule is a mapping with `cron`, `interval` or `rrule`",
    ),
    Case(
        # `prefect deploy` refuses a list under the older key (Prefect 3.9's PrefectYamlModel).
        "yaml-schedule-key-list",
        {"prefect.yaml": yaml_entry("yaml-schedule-key-list", "schedule:", "- cron: '0 6 * * *'")},
        "prefect.yaml", 3, "Rename the key to `schedules`",
    ),
    Case(
        "yaml-name-refused",
        {"prefect.yaml": yaml_entry("yaml-name-refused", "name: daily/eu")},
        "prefect.yaml", 3, "Choose another `name:`",
    ),
    Case(
        "yaml-name-control-character",
        {"prefect.yaml": yaml_entry("yaml-name-control-character", 'name: "daily\\nnightly"')},
        "prefect.yaml", 3, "Choose another `name:`",
    ),
    Case(
        # PyYAML keeps the last of two keys: the first schedule was dropped without a word.
        "yaml-duplicate-key",
        {"prefect.yaml": yaml_entry("yaml-duplicate-key", "schedules:", "- cron: '0 6 * * *'",
                                    "schedules:", "- cron: '0 7 * * *'")},
        "prefect.yaml", 5, "Merge the two into one key",
    ),
    Case(
        "yaml-work-pool-refused",
        {"prefect.yaml": yaml_entry("yaml-work-pool-refused", "work_pool:", "  name: a&b")},
        "prefect.yaml", 4, "Name another work pool",
    ),
    Case(
        "yaml-alias-bomb",
        {"prefect.yaml": BOMB + "deployments:\n- entrypoint: flow.py:yaml_alias_bomb\n"
         "  parameters: {n: *h}\n"},
        "prefect.yaml", 9, "Write the values out",
    ),
    Case(
        "yaml-self-alias",
        {"prefect.yaml": yaml_entry("yaml-self-alias", "tags: &t [a, *t]")},
        "prefect.yaml", 3, "Remove that alias",
    ),
    Case(
        "yaml-too-large",
        {"prefect.yaml": yaml_entry("yaml-too-large") + "# " + "x" * 1_000_000 + "\n"},
        "prefect.yaml", None, "Keep large data out of it",
    ),
    Case(
        "yaml-parameter-type",
        {"prefect.yaml": yaml_entry("yaml-parameter-type", "parameters:", "  n: three")},
        "prefect.yaml", 4, "'three' is not of type 'integer'",
    ),
    Case(
        "yaml-parameter-unknown",
        {"prefect.yaml": yaml_entry("yaml-parameter-unknown", "parameters:", "  n: 2", "  m: 3")},
        "prefect.yaml", 5, "Remove it under `parameters:` in prefect.yaml, or fix its name",
    ),
    Case(
        "yaml-concurrency",
        {"prefect.yaml": yaml_entry(
            "yaml-concurrency", "concurrency_limit: {limit: 1, collision_strategy: DROP}")},
        "prefect.yaml", 3, "`collision_strategy` is ENQUEUE or CANCEL_NEW",
    ),
    Case(
        "yaml-build-section",
        {"prefect.yaml": "build:\n- prefect.deployments.steps.run_shell_script: {script: ls}\n"
         + yaml_entry("yaml-build-section")},
        "prefect.yaml", 1, "Remove it to silence this warning",
        severity="warning", outcome="created",
    ),
    Case(
        "yaml-image-variable",
        {"prefect.yaml": yaml_entry(
            "yaml-image-variable", "work_pool:", "  job_variables: {image: python:3.12}")},
        "prefect.yaml", 3, "the deployment runs from the image",
        severity="warning", outcome="created",
    ),
    Case(
        "yaml-template",
        {"prefect.yaml": yaml_entry("yaml-template", "description: '{{ $GIT_SHA }}'")},
        "prefect.yaml", 3, "the text is used as written",
        severity="warning", outcome="created",
    ),
    Case(
        "yaml-unknown-key",
        {"prefect.yaml": yaml_entry("yaml-unknown-key", "shedules: []")},
        "prefect.yaml", 3, "`shedules` is not used",
        severity="warning", outcome="created",
    ),
    # -- requirements.txt, Dockerfile, build context ---------------------------------------
    Case(
        "requirements-outside",
        {"requirements.txt": "httpx\n-r ../common.txt\n"},
        "requirements.txt", 2, "Copy it into the folder",
    ),
    Case(
        # pip: "Invalid requirement", in the middle of the build; `packaging` says it now.
        "requirements-bad-specifier",
        {"requirements.txt": "httpx\nrequests=>2\n"},
        "requirements.txt", 2, "Did you mean `requests>=2`?",
    ),
    Case(
        "requirements-missing-include",
        {"requirements.txt": "httpx\n-r common.txt\n"},
        "requirements.txt", 2, "Add the file to the folder, or remove the line",
    ),
    Case(
        "requirements-missing-editable",
        {"requirements.txt": "-e ./lib\n"},
        "requirements.txt", 1, "Add it to the folder, or install the package from an index",
    ),
    Case(
        "requirements-plain-http",
        {"requirements.txt": "--extra-index-url http://pypi.example.internal/simple\nprefect\n"},
        "requirements.txt", 1, "Use https://",
        severity="warning", outcome="created",
    ),
    Case(
        # A uv or Poetry project's folder: without a Dockerfile, only requirements.txt counts.
        "pyproject-dependencies",
        {"pyproject.toml": '[project]\nname = "flows"\ndependencies = [\n  "httpx",\n]\n'},
        "pyproject.toml", 3, "Write them to requirements.txt",
        severity="warning", outcome="created",
    ),
    Case(
        "dockerfile-no-from",
        {"Dockerfile": "# our image\nRUN pip install httpx\nCOPY . /app\n"},
        "Dockerfile", 2, "Add the FROM line above it",
    ),
    Case(
        "dockerfile-unknown-instruction",
        {"Dockerfile": "FROM {base}\nWORKDIR /app\nCOPPY . .\n"},
        "Dockerfile", 3, "unknown instruction `COPPY`",
    ),
    Case(
        # A Dockerfile written for the repository root as the build context (BuildKit: "failed
        # to walk … no such file or directory"); the context is the flow folder.
        "dockerfile-copy-from-repository-root",
        {"Dockerfile": "FROM {base}\nWORKDIR /opt/prefect/flows\n"
         "COPY deployments/{flow}/flow.py ./\n"},
        "Dockerfile", 3, "write it as `flow.py`",
    ),
    Case(
        "dockerfile-copy-outside-context",
        {"Dockerfile": "FROM {base}\nCOPY ../shared /opt/shared\nCOPY . /opt/prefect/flows/x\n"},
        "Dockerfile", 2, "cannot leave the build context",
    ),
    Case(
        "credentials-file",
        {".env": "TOKEN=not-for-the-image\n"},
        ".env", None, "Add it to the folder's .dockerignore",
        severity="warning", outcome="created",
    ),
    Case(
        "large-file",
        {"data.bin": 101 * 1024 * 1024},
        "data.bin", None, "Add it to the folder's .dockerignore and load it at run time",
        severity="warning", outcome="created",
    ),
    Case(
        # Deployed without a word; loading the flow fails at run time (ImportError).
        "circular-import",
        {"flow.py": "from prefect import flow\nfrom helpers import X\n\n\n@flow\n"
         "def circular_import() -> int:\n    return X\n",
         "helpers.py": "import other\nX = 1\n", "other.py": "import flow\n"},
        "flow.py", 2, "Move what both need into a module neither imports back",
        severity="warning", outcome="created",
    ),
    # -- entries of the repository -----------------------------------------------------------
    Case(
        "file-name-not-utf8",
        {os.fsdecode(b"data\xff.txt"): "x"},
        ".", None, "rename it, or delete it",
    ),
    Case(
        "symlink-loop",
        {},
        "loop", None, "remove the link, or point it at a real file or folder",
        links={"loop": "loop"},
    ),
    Case(
        "symlink-out",
        {},
        "etc", None, "Copy what it needs into the repository",
        links={"etc": "/etc"},
    ),
    Case(
        "image-name-collision",
        {},
        ".", None, "rename one folder",
        others={"Image-Name-Collision": {"flow.py": FLOW.format(flow="image_name_collision_2")}},
    ),
    Case(
        "deployment-collision",
        {"flow.py": FLOW.replace("@flow", '@flow(name="deployment-collision")')},
        "flow.py", 5, "Give one flow another name= or its prefect.yaml entry another name:",
        others={"deployment_collision_2": {
            "flow.py": FLOW.replace("@flow", '@flow(name="deployment-collision")')
            .replace("{flow}", "deployment_collision_2")}},
    ),
    Case(
        "project-name-refused",
        {},
        "..", None, "Rename the folder, or give the deployment a `name:`",
        project="r&d",
    ),
    # -- the config file -------------------------------------------------------------------
    Case(
        "tenant-parameter-type",
        {},
        CONFIG, None, "'three' is not of type 'integer'",
        config={"parameters": "{tenant-parameter-type: {n: three}}"},
    ),
    Case(
        "build-arg-plain-http",
        {},
        CONFIG, None, "Use https://",
        severity="warning", outcome="created",
        config={"build-args": "{PIP_EXTRA_INDEX_URL: 'http://pypi.example.internal/simple'}"},
    ),
    # -- what only the registry or the Prefect server can tell -------------------------------
    Case(
        "base-image-missing",
        {"Dockerfile": "FROM {registry}/no-such/base:1\nCOPY . /app\n"},
        "Dockerfile", 1, "does not exist in its registry",
        stage="plan",
    ),
    Case(
        "job-variable-unknown",
        {"prefect.yaml": yaml_entry(
            "job-variable-unknown", "work_pool:", "  job_variables:", "    gpu_count: 1")},
        "prefect.yaml", 5, "the worker would never read it",
        stage="plan",
    ),
    Case(
        "job-variable-type",
        {"prefect.yaml": yaml_entry(
            "job-variable-type", "work_pool:", "  job_variables:", "    auto_remove: sometimes")},
        "prefect.yaml", 5, "refuses these job variables",
        stage="plan",
    ),
    # -- what only the build or the built image can tell -------------------------------------
    Case(
        "pip-no-such-package",
        # `{run}`: each run's own content, so that BuildKit never runs this pip step for
        # another run's build at the same time (that build's log would get pip's output).
        {"requirements.txt": "# pinned\nnot-a-real-package-pfd-zz==1.0\n# {run}\n"},
        "requirements.txt", 2, "docker build failed",
        stage="build",
    ),
    Case(
        "pip-after-trusted-host",
        {"requirements.txt": "--trusted-host pypi.example.internal\n"
         "not-a-real-package-pfd-zz==1.0\n# {run}\n"},
        "requirements.txt", 2, "docker build failed",
        stage="build",
    ),
    Case(
        "dockerfile-run-fails",
        {"Dockerfile": "FROM {base}\nWORKDIR /app\nCOPY . .\nRUN exit 3\n"},
        "Dockerfile", 4, "docker build failed",
        stage="build",
    ),
    Case(
        "entrypoint-ignores-command",
        {"Dockerfile": 'FROM {base}\nWORKDIR /app\nCOPY . .\nENTRYPOINT ["python", "flow.py"]\n'},
        "Dockerfile", 4, "Remove the ENTRYPOINT",
        stage="build",
    ),
    Case(
        # pip's user scheme: a non-root USER's `pip install` puts the script in
        # ~/.local/bin, off the PATH (seacevedo/rekt_qa_system), emulated without a download
        "prefect-off-the-path",
        {"Dockerfile": "FROM {base}\nRUN useradd -m app && mkdir -p /home/app/.local/bin && "
         "mv /usr/local/bin/prefect /home/app/.local/bin/ && chown -R app /home/app\n"
         "USER app\nWORKDIR /home/app/flows\nCOPY . .\n"},
        "Dockerfile", 3, "Add `ENV PATH=/home/app/.local/bin:$PATH` after this line.",
        stage="build",
    ),
    Case(
        "image-without-prefect",
        {"Dockerfile": "FROM {python_base}\nRUN ln -s /usr/bin/python3 /usr/local/bin/python\n"
         "WORKDIR /app\nCOPY . .\n"},
        "Dockerfile", 1, "no `prefect` package",
        stage="build",
    ),
    Case(
        "image-without-python",
        {"Dockerfile": "FROM {python_base}\nRUN rm /usr/bin/python3*\nWORKDIR /app\nCOPY . .\n"},
        "Dockerfile", 1, "neither `python` nor `python3`",
        stage="build",
    ),
    Case(
        "image-with-code-in-a-builder-stage",
        {"Dockerfile": "FROM {base} AS build\nCOPY . /src/\nFROM {base}\nWORKDIR /app\n"},
        "Dockerfile", 3, "to the image's last stage",
        stage="build",
    ),
    Case(
        "image-without-code",
        {"Dockerfile": "FROM {base}\nCOPY requirements.txt /tmp/\n", "requirements.txt": ""},
        "Dockerfile", 1, "to the image's last stage",
        stage="build",
    ),
    Case(
        "import-missing-in-image",
        {"flow.py": "from prefect import flow\n\n\n@flow\ndef import_missing_in_image() -> None:\n"
         "    import not_installed_pfd_zz  # noqa: F401\n"},
        "flow.py", 6, "which the image does not have",
        severity="warning", stage="build", outcome="created",
    ),
    Case(
        # Prefect 2 code: a module the image's Prefect 3 does not have (read from its source).
        # Not `prefect.orion`, which reading already refuses (prefect_removed.REMOVED_MODULES).
        "prefect-module-not-in-image",
        {"flow.py": "from prefect import flow\nfrom prefect.software.pip import PipRequirement"
         "\n\n\n@flow\ndef {flow}() -> None:\n    pass\n"},
        "flow.py", 2, "if the code was written for a newer Prefect 3, require that version",
        stage="build",
    ),
    # A parameter typed with a library's class: the flow's schema is computed in the built
    # image, and the parameters are judged against it there, before any write (the server
    # would refuse `n` with a 422, and would accept `m`, failing every run).
    Case(
        "image-schema-refuses-parameters",
        {"flow.py": _LIBRARY_TYPED,
         "prefect.yaml": yaml_entry("image-schema-refuses-parameters", "parameters:", "  n: three")},
        "prefect.yaml", 4, "Fix the value under `parameters:` in prefect.yaml",
        stage="build",
    ),
    Case(
        "image-schema-unknown-parameter",
        {"flow.py": _LIBRARY_TYPED,
         "prefect.yaml": yaml_entry("image-schema-unknown-parameter", "parameters:", "  m: 3")},
        "prefect.yaml", 4, "Remove it under `parameters:` in prefect.yaml",
        stage="build",
    ),
]  # fmt: skip


def write_case(root: Path, project: str, case: Case, env: dict[str, str]) -> Path:
    """Write the case's folder (and the folders it needs) under `root/project`; return it."""
    folder = root / (f"{case.project}-{project}" if case.project else project) / case.kind
    _write(folder, case.files, case.flow, env)
    for target, where in case.links.items():
        (folder / target).symlink_to(where)
    for name, files in case.others.items():
        _write(folder.parent / name, files, name.lower().replace("-", "_"), env)
    return folder


def _write(folder: Path, files: dict[str, Content], flow: str, env: dict[str, str]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    wanted: dict[str, Content] = {"flow.py": FLOW.format(flow=flow), **files}
    for name, content in wanted.items():
        path = folder / name
        if content is None:
            continue
        if isinstance(content, int):
            with path.open("wb") as handle:
                handle.truncate(content)  # sparse: no disk, no time
        elif isinstance(content, bytes):
            path.write_bytes(content)
        else:
            for key, value in {"flow": flow, **env}.items():
                content = content.replace("{" + key + "}", value)
            path.write_text(content)


def write_config(root: Path, tenant: str, cases: list[Case]) -> dict[str, int]:
    """The tenant's block of the config file beside `root`, from the cases' settings (a
    mapping setting merges); return each config case's line."""
    settings: dict[str, list[str]] = {}
    for case in cases:
        for key, value in case.config.items():
            settings.setdefault(key, []).append(value.strip().removeprefix("{").removesuffix("}"))
    lines = ["tenants:", f"  {tenant}:" + ("" if settings else " {}")]
    line_of: dict[str, int] = {}
    for key, values in settings.items():
        line_of[key] = len(lines) + 1
        lines.append(f"    {key}: {{{', '.join(values)}}}")
    (root.parent / CONFIG).write_text("\n".join(lines) + "\n")
    return {c.kind: line_of[next(iter(c.config))] for c in cases if c.config}


def expected_path(root: Path, project: str, case: Case) -> Path:
    if case.config:
        return root.parent / CONFIG
    folder = root / (f"{case.project}-{project}" if case.project else project) / case.kind
    return (
        (folder / case.at)
        if case.at not in (".", "..")
        else (folder if case.at == "." else folder.parent)
    )
