"""What a user reads, from the Plan and the RunResult only (never the engine): the terminal
(live progress, then tables), JSON, the GitHub job summary, outputs and annotations, the plan
and previews comments on a pull request, GitHub deployments.

Imports everything above it: `core` … `run` (for types), and `clients.github_api` to post.
"""
