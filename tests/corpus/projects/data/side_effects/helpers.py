import os
import pathlib

pathlib.Path(os.environ.get("PFD_MARKER_DIR", "/tmp"), "sibling-ran").write_text("ran")


class Options:
    pass
