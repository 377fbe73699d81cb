"""`FrozenMap`: a dict that refuses to change, for the mappings of the values passed down the
pipeline (still a dict, so that plan files write and compare it as one)."""

from __future__ import annotations

from typing import Any, TypeVar

K = TypeVar("K")


V = TypeVar("V")


class FrozenMap(dict[K, V]):
    """A dict that refuses to change: the mappings of the values passed down the pipeline
    (a dict still, so that it is written to a plan file and compared as one)."""

    def _refuse(self, *args: object, **kwargs: object) -> Any:
        raise TypeError(f"{type(self).__name__} is read-only: make a new value instead")

    __setitem__ = __delitem__ = __ior__ = _refuse
    clear = pop = popitem = setdefault = update = _refuse
