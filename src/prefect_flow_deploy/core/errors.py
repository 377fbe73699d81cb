"""Fatal errors: each has its own class, exit code and a message that says what to do.

Problems confined to one flow folder are not exceptions that stop the run: they are
`Problem`s recorded on the folder (see model.py) so that the other folders still deploy.
"""

from __future__ import annotations


class FatalError(Exception):
    """Stops the whole run. `str(error)` is shown to the user as is."""

    exit_code = 2
    title = "prefect-flow-deploy failed"


class ConfigurationError(FatalError):
    """An option, an action input or the config file is wrong."""

    exit_code = 3
    title = "Invalid configuration"


class NoFlowFoldersError(ConfigurationError):
    """The repository holds no flow folder at all: the message says what it holds instead
    and what to do (layout_advice.py)."""

    title = "No flow folder found"


class DockerUnavailableError(FatalError):
    """No Docker engine (or no BuildKit-capable client) to build with."""

    exit_code = 4
    title = "Docker is not available"


class RegistryError(FatalError):
    """The registry refused us (authentication) or cannot be reached at all."""

    exit_code = 5
    title = "Registry error"


class PrefectUnavailableError(FatalError):
    """The Prefect API cannot be reached or refuses the credentials."""

    exit_code = 6
    title = "Prefect API error"


class PlanMovedError(FatalError):
    """`deploy --plan`: the repository, registry or server moved since the plan was made."""

    exit_code = 8
    title = "The plan no longer matches"


class DeployFailedError(FatalError):
    """Some folders or deployments failed; the others were deployed."""

    exit_code = 1
    title = "Some flows failed to deploy"


class DeadlineError(FatalError):
    """The run's deadline (timeout-minutes) passed: what was not started is reported skipped."""

    exit_code = 7
    title = "Deadline reached"


class FolderError(Exception):
    """A failure confined to one flow folder (build, check, push, register).

    Carries where the user should look: `file` and `line` become the annotation's position.
    """

    def __init__(self, message: str, file: str | None = None, line: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.file = file
        self.line = line
        # When each flow failed on its own (the image check): each one's, by entrypoint.
        self.flow_errors: dict[str, FolderError] = {}


DEADLINE = "deadline:"  # how a row not done for the deadline begins (status `skipped`)
