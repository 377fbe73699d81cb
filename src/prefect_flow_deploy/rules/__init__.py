"""Every decision of a run, as pure functions over immutable data: `decide.plan(inputs,
options) -> Plan` and each rule it applies (collisions, take-over, job variables and work
pools, server variables in parameters, spec checks, deploy order, previews, shards, the plan's
hash). No I/O: a test runs a whole plan with sockets and file access forbidden, and this
package imports no HTTP, Docker or filesystem module.

Imports `core`, `settings`, `deployment` and `reading` (its constants and pure helpers).
"""
