"""Programs that run inside an image, under the image's own Python, not the engine's.

`check_image` runs in each built flow image (`builder` passes its source to `python -c`):
that Python may be as old as 3.9 (prefecthq/prefect:3-python3.9), so these files keep to
3.9's grammar and standard library (ruff checks them as py39; tests/unit/test_in_image.py
parses them with 3.9's grammar). `import_check` runs in the action's own image while it is
built (the Dockerfile). Neither imports this package: a part of a program (`prefect_names`, of
`check_image`) is inlined into its text by `image_programs.in_image_program`.
"""
