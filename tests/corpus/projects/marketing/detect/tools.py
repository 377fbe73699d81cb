import functools

from prefect import flow


def flow_like(fn):  # a decorator named like Prefect's, from the repository
    return fn


def team_flow(fn):
    """The repository's own factory: makes a Prefect flow with a team prefix."""
    return flow(name=f"team-{fn.__name__}")(fn)


def traced(fn):
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        return fn(*args, **kwargs)

    return wrapper
