"""The Docker engine and BuildKit: build (where the plan says: this engine, a remote one, a
BuildKit daemon; which command builds; what a failed build's log points at), check what the
image holds (programs of `in_image/` run inside it), push and pull; the engine a run uses;
base image digests; what a killed run left (containers, folders) and signals.

Imports everything above it: `core` … `clients`.
"""
