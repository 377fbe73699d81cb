"""The settings cascade: defaults → config file → environment → explicit input, resolved once
into one typed `Options`, with the source of every value kept (`--verbose`). Also where the
run builds (`builder`) and which repository it acts as.

Imports only `core`.
"""
