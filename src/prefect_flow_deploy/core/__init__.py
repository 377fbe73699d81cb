"""The plain data passed along the pipeline and what every stage shares: the model (folders,
flows, recipes, the frozen Plan and its ImagePlans and DeploymentPlans, the server snapshot),
the run's result (RunResult), errors and their exit statuses, names (images, tags, labels),
the CI-aware logger, URLs without credentials, YAML bounds and loading, the run's own
temporary files.

Imports nothing of this package outside `core`.
"""
