"""The three moves in order: `gather` reads the world into `Inputs` (I/O, in parallel),
`rules.decide` makes the Plan, `execute` carries it out (the only place with threads,
retries, deadlines and signals) into a RunResult; `engine` puts them in order; keep-images,
plan files, provenance.

Imports everything above it: `core` … `docker`.
"""
