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
COPY pyproject.toml README.md /src/
COPY src /src/src
# The import check (src/prefect_flow_deploy/in_image/import_check.py, run from the installed
# package with -m): `record` lists the modules that import, `verify` fails if one of them no
# longer does, `compile` precompiles the ones the package loads.
# Prefect's server, its database drivers and its notification and queue back-ends come with
# the `prefect` distribution but are never imported by a client that registers deployments:
# about 110 MB. They are uninstalled, and import-check proves that every module the package
# imports still imports (Prefect's CLI, cyclopts, stays: its schedule parsing is under
# prefect.cli; PyGithub's cryptography, cffi and PyNaCl stay: `import github` imports them).
# SQLAlchemy and greenlet go too (14 MB): only prefect.utilities.schema_tools imported them
# (for a type), and the package checks parameters and job variables with its own copy of
# schema_tools' check (rules/schema_rules.py). `--build-arg PRUNE=` keeps everything.
ARG PRUNE="alembic Mako asyncpg aiosqlite apprise redis burner-redis \
pydocket py-key-value-aio beartype fastapi uvicorn dateparser regex \
Markdown requests-oauthlib oauthlib setuptools SQLAlchemy greenlet"
# The package itself: no dependency resolution (the lock did it), and its build backend is
# the locked setuptools (pruned with the rest afterwards), not one fetched at build time.
RUN /opt/venv/bin/pip install --no-compile --no-deps --no-build-isolation /src \
 && export PYTHONDONTWRITEBYTECODE=1 \
 && /opt/venv/bin/python -m prefect_flow_deploy.in_image.import_check record /tmp/importable.json \
 && if [ -n "$PRUNE" ]; then /opt/venv/bin/pip uninstall -y $PRUNE; fi \
 # Never used by the action: the Prefect server's UI bundles and database migrations (run
 # by alembic, pruned above); the symbols of compiled extensions, then test suites, pip itself.
 && cd /opt/venv/lib/python3*/site-packages \
 && rm -rf prefect/server/ui prefect/server/ui-v2 prefect/server/database/_migrations \
 && find . -name '*.so*' -type f -exec strip --strip-unneeded {} + \
 && cd / \
 && /opt/venv/bin/python -m prefect_flow_deploy.in_image.import_check verify /tmp/importable.json \
 && find /opt/venv -depth -type d \( -name tests -o -name __pycache__ \) -path '*site-packages*' \
      -exec rm -rf {} + \
 && /opt/venv/bin/pip uninstall -y pip \
 # Precompile once, in unchecked-hash mode: the .pyc files stay valid although COPY gives
 # the sources new mtimes, so every start imports bytecode and writes nothing. Only the
 # modules the package loads (about 1,160; compiling every module would add 19 MB more):
 # the rest of Prefect is never imported by the action.
 && /opt/venv/bin/python -m prefect_flow_deploy.in_image.import_check compile /tmp/importable.json.loaded

# --- stage 2: the action's root file system ----------------------------------------------
FROM ${BASE_IMAGE} AS runtime
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
# What the base brings for installing software, which the running action never does (about
# 35 MB): the package managers (apt, and perl-base, which only dpkg's tooling runs), the
# base Python's pip and the wheels ensurepip installs from (the venv above is made), and
# glibc's iconv modules (Python's codecs are its own). Removed with dpkg where dpkg installed
# them, so that its database (which image scanners read) lists what the image holds; dpkg
# itself stays. Stage 3 copies the result into an empty image: a file deleted in a layer on
# top of the base would still be in the base's layer, and count.
RUN set -eu \
 && purge="" \
 && for package in apt perl-base python3-pip python3-pip-whl python3-setuptools-whl; do \
      if [ "$(dpkg-query -W -f '${db:Status-Status}' "$package" 2>/dev/null)" = installed ]; then \
        purge="$purge $package"; \
      fi; \
    done \
 && if [ -n "$purge" ]; then dpkg --purge --force-remove-essential --force-depends $purge; fi \
 && rm -rf /var/lib/apt /var/cache/apt /var/cache/debconf /usr/lib/*-linux-gnu/gconv \
           /usr/local/bin/pip /usr/local/bin/pip3* /usr/local/lib/python3*/site-packages/pip \
           /usr/local/lib/python3*/site-packages/pip-*.dist-info /usr/local/lib/python3*/ensurepip \
           /usr/lib/python3*/ensurepip \
 && /opt/venv/bin/prefect-flow-deploy --version

# --- stage 3: the action image: that root, in one layer -----------------------------------
FROM scratch
COPY --from=runtime / /
# A database URL: without one, Prefect's settings build a server's from the environment's
# PREFECT_SERVER_DATABASE_* (a workflow may set them for a server it runs), with SQLAlchemy,
# which the image has not. The action is a client and never opens it.
# An image FROM scratch inherits no environment: PATH and LANG are the base images' own.
ENV PATH=/opt/venv/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    LANG=C.UTF-8 \
    PFD_BUILDX=/usr/libexec/docker/cli-plugins/docker-buildx \
    PYTHONUNBUFFERED=1 \
    PREFECT_SERVER_ANALYTICS_ENABLED=false \
    PREFECT_TELEMETRY_ENABLED=false \
    PREFECT_SERVER_DATABASE_CONNECTION_URL=sqlite+aiosqlite:///unused-by-a-client.db
# Root: the runner mounts the workspace and the file-command files, owned by its own user,
# and runs no --user. It also sets --workdir, hence the absolute entrypoint.
USER root
ENTRYPOINT ["/usr/local/bin/prefect-flow-deploy-action"]
