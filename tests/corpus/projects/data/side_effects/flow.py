import os
import pathlib

from pydantic import BaseModel
from prefect import flow

from helpers import Options

pathlib.Path(os.environ.get("PFD_MARKER_DIR", "/tmp"), "flow-ran").write_text("ran")


class Params(BaseModel):
    n: int = pathlib.Path(os.environ.get("PFD_MARKER_DIR", "/tmp"), "default-ran").write_text("x")


@flow
def effects(params: Params, options: Options = None, when=print("default evaluated")) -> None:
    pass
