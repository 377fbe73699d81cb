"""The outside world over HTTP (and git): the Prefect API (reads without importing Prefect,
writes with Prefect's client under the write lock), OCI registries, GHCR's Packages API,
GitHub's REST API, Docker logins, the checkout's history; one retry policy and deadline for
every request (`http_retry`), many threads spread over a few connection pools
(`http_pools`), and a registry's HEADs sent from the reading thread (`pumped_heads`).

Imports `core`, `settings`, `deployment`, `reading` and `rules`.
"""
