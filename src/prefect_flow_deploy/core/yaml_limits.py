"""Bounds on the YAML files the engine reads (a folder's prefect.yaml, the config file),
checked before anything is built from them.

An alias (`*name`) is a copy of what its anchor (`&name`) holds, and anchors may hold
aliases: a 1 KB file can expand to gigabytes of values (a "billion laughs"; one expanded to
69 MB of parameters and reached the Prefect server). PyYAML composes an alias as a second
reference to the anchor's node, so the composed graph stays as small as the text: its
expanded size is counted on that graph, in one pass, and refused past the limit before
anything is constructed from it.

A key given twice in one mapping is refused too, at the second key: PyYAML keeps the last
value without a word (a second `schedules:` silently dropped the first one's schedules).
"""

from __future__ import annotations

import re
from pathlib import Path

import yaml

# A prefect.yaml or a config file is a few KB; 1 MB is far beyond any real one and still
# cheap to compose. The Prefect server refuses a deployment's parameters past 512 KB
# (server.api.max_parameter_size's default), so nothing larger could be deployed anyway.
MAX_BYTES = 1_000_000
# Values (scalars, lists, mappings), counting each alias as the copy it makes. Anchors and
# aliases used as intended (a schedule or job variables shared by a few deployments) stay
# in the hundreds.
MAX_NODES = 100_000


class YamlTooLarge(ValueError):
    """The file is refused; `line`: where to look (None: the file as a whole)."""

    def __init__(self, message: str, line: int | None = None) -> None:
        super().__init__(message)
        self.message, self.line = message, line


def check_duplicate_keys(root: yaml.Node | None) -> None:
    """Refuse a mapping that gives one key twice (YamlTooLarge at the second key's line)."""
    seen_nodes: set[int] = set()
    stack = [root] if root is not None else []
    while stack:
        node = stack.pop()
        if id(node) in seen_nodes:
            continue
        seen_nodes.add(id(node))
        if isinstance(node, yaml.MappingNode):
            first: dict[str, int] = {}
            for key, _ in node.value:
                if not isinstance(key, yaml.ScalarNode) or key.tag == "tag:yaml.org,2002:merge":
                    continue
                line = key.start_mark.line + 1
                if key.value in first:
                    raise YamlTooLarge(
                        f"the key `{key.value}` is given twice in one mapping (first at line "
                        f"{first[key.value]}): YAML keeps only the last one, so what the first "
                        "holds would be dropped without a word. Merge the two into one key.",
                        line,
                    )
                first[key.value] = line
        stack.extend(_children(node))


def check_file_size(path: Path) -> None:
    """Refuse a file too large to be a prefect.yaml or config file, before reading it."""
    size = path.stat().st_size
    if size > MAX_BYTES:
        raise YamlTooLarge(
            f"{path.name} is {size:,} bytes, more than the {MAX_BYTES:,} a YAML file read "
            "here may hold: it is not read. Keep large data out of it (the Prefect server "
            "refuses parameters over 512 KB anyway): load it in the flow, from a file or "
            "a Prefect block."
        )


def check_expansion(root: yaml.Node | None, text: str) -> None:
    """Refuse a composed document whose aliases expand it past MAX_NODES values, or that
    refers to itself (an anchor holding its own alias)."""
    if root is None:
        return
    if "&" not in text and _tree_size(root) <= MAX_NODES:
        return  # no anchor, so no alias: a tree, as large as its nodes (no bookkeeping)
    sizes, uses = _expanded_sizes(root)
    total = sizes[id(root)]
    if total <= MAX_NODES:
        return
    culprit = max(
        (n for n in uses.values() if n[1] > 1),
        key=lambda pair: (sizes[id(pair[0])] * (pair[1] - 1), -pair[0].start_mark.line),
        default=(root, 1),
    )[0]
    line = culprit.start_mark.line + 1
    anchor = _anchor_at(text, culprit)
    what = f"the anchor `&{anchor}` (line {line})" if anchor else f"line {line}"
    raise YamlTooLarge(
        f"YAML aliases expand this file to {total:,} values (at most {MAX_NODES:,} are "
        f"read): each `*alias` is a full copy of what its `&anchor` holds, and {what} is "
        "copied again and again through aliases of aliases. Write the values out, or keep "
        "large data out of the file (load it in the flow).",
        line,
    )


def _tree_size(root: yaml.Node) -> int:
    """The nodes of a document without aliases (each node reached once)."""
    count, stack = 0, [root]
    while stack:
        node = stack.pop()
        count += 1
        stack.extend(_children(node))
    return count


def _expanded_sizes(
    root: yaml.Node,
) -> tuple[dict[int, int], dict[int, tuple[yaml.Node, int]]]:
    """Each node's size with aliases expanded, and how often each node is referenced:
    one iterative post-order pass over the graph (a deep nesting cannot overflow the
    stack). A node reached again while its own subtree is being counted is a cycle."""
    sizes: dict[int, int] = {}
    uses: dict[int, tuple[yaml.Node, int]] = {}
    active: set[int] = set()
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    uses[id(root)] = (root, 1)
    while stack:
        node, children_done = stack.pop()
        key = id(node)
        children = _children(node)
        if children_done:
            active.discard(key)
            sizes[key] = 1 + sum(sizes[id(c)] for c in children)
            continue
        if key in sizes:
            continue
        active.add(key)
        stack.append((node, True))
        for child in children:
            seen = uses.get(id(child))
            uses[id(child)] = (child, seen[1] + 1 if seen else 1)
            if id(child) in active:
                raise YamlTooLarge(
                    "an anchor holds an alias of itself (a value that contains itself): "
                    "it has no end, and cannot be read. Remove that alias.",
                    child.start_mark.line + 1,
                )
            if id(child) not in sizes:
                stack.append((child, False))
    return sizes, uses


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    if isinstance(node, yaml.MappingNode):
        return [n for pair in node.value for n in pair]
    return []


def _anchor_at(text: str, node: yaml.Node) -> str | None:
    """The anchor's name as written where the node starts (`&name`), if it is there."""
    lines = text.splitlines()
    if node.start_mark.line >= len(lines):
        return None
    match = re.search(r"&([^\s\[\]{},]+)", lines[node.start_mark.line])
    return match.group(1) if match else None


def yaml_error(exc: yaml.MarkedYAMLError, text: str) -> tuple[str, int | None]:
    """PyYAML's complaint in words a person can act on, and its line."""
    mark = exc.problem_mark or exc.context_mark
    line = mark.line + 1 if mark else None
    problem = (exc.problem or str(exc)).replace("character '\\t'", "a tab")  # PyYAML's repr
    lines = text.splitlines()
    if line and line <= len(lines) and "\t" in lines[line - 1]:
        problem += "; YAML indents with spaces, and this line has a tab"
    return f"invalid YAML: {problem}", line
