"""What a Prefect deployment is, field by field, and nothing else: the one table of
deployment fields (how each is read from prefect.yaml, compared with the server's value,
written, and whether a hand-set value wins), schedules and triggers as Prefect reads them,
the ownership and commit records a write leaves in its tags, and the diff of a wanted
deployment against the server's. Pure: no network, no engine.

Imports `core` and `settings`.
"""
