"""One verb a module: plan, deploy, validate, new, adopt. The command line (`cli.py`) and the
action (`action.py`) turn their arguments into Options and call one of these.

Imports everything above it.
"""
