# The container image of the GitHub Action (action.yml: runs.using docker, image Dockerfile).
# The runner builds it with `docker build -t TAG -f Dockerfile .` and no --build-arg, so the
# default base below is the one used on github.com; scripts/action-image.sh builds it on a
# local stand-in (--build-arg BASE_IMAGE=...) where Docker Hub cannot be reached.
#
# Works on the official python image (python3 in /usr/local/bin) and on a plain Debian with
# python3 in /usr/bin: Python is only ever reached as `python3 -m venv`, into /opt/venv.
# Needs no BuildKit-only syntax, so the classic builder builds it too.
ARG BASE_IMAGE=python:3.12-slim-trixie

# --- stage 1: the package and its dependencies in a venv -----------------------------------
FROM ${BASE_IMAGE} AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_ROOT_USER_ACTION=ignore
# binutils' strip, for the compiled extensions below (this stage only).
RUN apt-get update && apt-get install -y --no-install-recommends binutils \
 && rm -rf /var/lib/apt/lists/* \
 && python3 -m venv /opt/venv
# Dependencies first, from the lock alone, so that editing src/ does not reinstall them. Every
# package, the build backend included, is pinned with its hashes (requirements.lock, made by
# `make lock`): the same files on every build, or the build fails.
COPY requirements.lock /src/
RUN /opt/venv/bin/pip install --no-compile --require-hashes -r /src/requirements.lock
# import-check.py record|verify FILE: import every module of the package and every module
# that an import statement under /src/src names (those inside functions too); `record` writes
# the ones that import, `verify` fails, naming them, if one of those no longer imports, and
# else writes to FILE.loaded the source files of every module now loaded from /opt/venv: the
# ones worth precompiling.
RUN printf '%s\n' \
  'import ast, importlib, json, pathlib, sys' \
  'mode, path = sys.argv[1:3]' \
  'names = set()' \
  'for f in pathlib.Path("/src/src").rglob("*.py"):' \
  '    names.add(".".join(f.relative_to("/src/src").with_suffix("").parts).removesuffix(".__init__"))' \
  '    for n in ast.walk(ast.parse(f.read_text())):' \
  '        if isinstance(n, ast.Import):' \
  '            names.update(a.name for a in n.names)' \
  '        elif isinstance(n, ast.ImportFrom) and n.level == 0 and n.module:' \
  '            names.add(n.module)' \
  'if mode == "verify":' \
  '    names = json.loads(pathlib.Path(path).read_text())' \
  'good, bad = [], []' \
  'for m in sorted(names):' \
  '    try:' \
  '        importlib.import_module(m)' \
  '        good.append(m)' \
  '    except Exception as e:' \
  '        bad.append(f"{m}: {type(e).__name__}: {e}")' \
  'if mode == "record":' \
  '    pathlib.Path(path).write_text(json.dumps(good))' \
  '    print(f"import-check: {len(good)} modules import")' \
  'elif bad:' \
  '    sys.exit("import-check: pruning broke these imports:\n" + "\n".join(bad))' \
  'else:' \
  '    print(f"import-check: all {len(good)} modules still import")' \
  '    loaded = {getattr(m, "__file__", None) or "" for m in list(sys.modules.values())}' \
  '    loaded = sorted(f for f in loaded if f.startswith("/opt/venv/") and f.endswith(".py"))' \
  '    pathlib.Path(path + ".loaded").write_text("\n".join(loaded) + "\n")' \
  >/tmp/import-check.py
COPY pyproject.toml README.md /src/
COPY src /src/src
# Prefect's server, its database drivers and its notification and queue back-ends come with
# the `prefect` distribution but are never imported by a client that registers deployments:
# about 110 MB. They are uninstalled, and import-check proves that every module the package
# imports still imports (Prefect's CLI, cyclopts, stays: its schedule parsing is under
# prefect.cli; SQLAlchemy and greenlet stay: prefect.utilities.schema_tools, which checks job variables
# against a pool's template, imports it for a type; PyGithub's cryptography, cffi and PyNaCl
# stay: `import github` imports them). `--build-arg PRUNE=` keeps everything.
ARG PRUNE="alembic Mako asyncpg aiosqlite apprise redis burner-redis \
pydocket py-key-value-aio beartype fastapi uvicorn dateparser regex \
Markdown requests-oauthlib oauthlib setuptools"
# The package itself: no dependency resolution (the lock did it), and its build backend is
# the locked setuptools (pruned with the rest afterwards), not one fetched at build time.
RUN /opt/venv/bin/pip install --no-compile --no-deps --no-build-isolation /src \
 && export PYTHONDONTWRITEBYTECODE=1 \
 && /opt/venv/bin/python /tmp/import-check.py record /tmp/importable.json \
 && if [ -n "$PRUNE" ]; then /opt/venv/bin/pip uninstall -y $PRUNE; fi \
 # Never used by the action: the Prefect server's UI bundles and database migrations (run
 # by alembic, pruned above); SQLAlchemy's database dialects, test kit and compiled
 # speed-ups (it is imported, never run: the pure-Python modules of the same names load);
 # the symbols of compiled extensions (12 MB), then test suites, pip itself.
 && cd /opt/venv/lib/python3*/site-packages \
 && rm -rf prefect/server/ui prefect/server/ui-v2 prefect/server/database/_migrations \
           sqlalchemy/dialects/mssql sqlalchemy/dialects/mysql sqlalchemy/dialects/oracle \
           sqlalchemy/dialects/postgresql sqlalchemy/testing \
 && find sqlalchemy -name '*_cy.*.so' -delete \
 && find . -name '*.so*' -type f -exec strip --strip-unneeded {} + \
 && cd / \
 && /opt/venv/bin/python /tmp/import-check.py verify /tmp/importable.json \
 && find /opt/venv -depth -type d \( -name tests -o -name __pycache__ \) -path '*site-packages*' \
      -exec rm -rf {} + \
 && /opt/venv/bin/pip uninstall -y pip \
 # Precompile once, in unchecked-hash mode: the .pyc files stay valid although COPY gives
 # the sources new mtimes, so every start imports bytecode and writes nothing. Only the
 # modules the package loads (about 1,160; compiling every module would add 19 MB more):
 # the rest of Prefect is never imported by the action.
 && /opt/venv/bin/python -c 'import py_compile as c, sys; [c.compile(f, doraise=True, invalidation_mode=c.PycInvalidationMode.UNCHECKED_HASH) for f in open(sys.argv[1]).read().split()]' /tmp/importable.json.loaded

# --- stage 2: the action image -----------------------------------------------------------
FROM ${BASE_IMAGE}
# BuildKit builds: Debian 13's buildx plugin, run on its own (`docker-buildx build`), talks
# to the runner's engine through the mounted /var/run/docker.sock. The docker CLI itself
# (30 MB) is not needed: pulls, pushes and checks go through the engine API.
RUN apt-get update \
 && apt-get install -y --no-install-recommends docker-buildx \
 && apt-get clean \
 && rm -rf /var/lib/apt/lists/* /var/cache/apt/* /var/log/apt/* /var/log/dpkg.log \
           /usr/share/doc/* /usr/share/man/*
COPY --from=build /opt/venv /opt/venv
RUN ln -s /opt/venv/bin/prefect-flow-deploy /usr/local/bin/prefect-flow-deploy \
 && ln -s /opt/venv/bin/prefect-flow-deploy-action /usr/local/bin/prefect-flow-deploy-action
ENV PATH=/opt/venv/bin:$PATH \
    PFD_BUILDX=/usr/libexec/docker/cli-plugins/docker-buildx \
    PYTHONUNBUFFERED=1 \
    PREFECT_SERVER_ANALYTICS_ENABLED=false \
    PREFECT_TELEMETRY_ENABLED=false
# Root: the runner mounts the workspace and the file-command files, owned by its own user,
# and runs no --user. It also sets --workdir, hence the absolute entrypoint.
USER root
ENTRYPOINT ["/usr/local/bin/prefect-flow-deploy-action"]
