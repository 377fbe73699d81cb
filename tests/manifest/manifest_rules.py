"""action.yml read the way the GitHub runner reads it, driven by the runner's own schema.

A port, kept to what an action manifest meets, of actions/runner (v2.336):
- src/Sdk/DTObjectTemplating/ObjectTemplating/TemplateReader.cs: the walk over the YAML,
  which definition each mapping key and sequence item leads to, the allowed expression
  context inherited from parent to child (a definition's `context` adds to its parent's), and
  every string parsed for `${{ }}`;
- .../Tokens/ExpressionToken.cs (IsValidExpression) and DTExpressions2/Tokens/LexicalAnalyzer.cs:
  an expression may name only the named-values and functions of its context (`hashFiles(1,255)`
  is a function with 1 to 255 arguments) plus the built-in functions; anything else is
  "Unrecognized named-value" / "Unrecognized function";
- TemplateReader.Validate: an expression where the context is empty (a `description`, a
  `branding` value) is "A template expression is not allowed in this context".
The schema itself is not re-typed here: it is read from the vendored action_yaml.json.
Messages are the runner's (Resources/TemplateStrings, ParseException), prefixed with the
position as the runner prints it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

SCHEMA_FILE = Path(__file__).with_name("action_yaml.json")
ROOT_TYPE = "action-root"  # ActionManifestManager.Load reads the file as this definition

# The schema's built-in definitions (TemplateSchema's constructor).
_BUILTIN: dict[str, dict[str, Any]] = {
    "null": {"null": {}},
    "boolean": {"boolean": {}},
    "number": {"number": {}},
    "string": {"string": {}},
    "sequence": {"sequence": {"item-type": "any"}},
    "mapping": {"mapping": {"loose-key-type": "string", "loose-value-type": "any"}},
    "any": {"one-of": ["null", "boolean", "number", "string", "sequence", "mapping"]},
}
# Expressions2/ExpressionConstants.cs: always available, whatever the context.
_BUILTIN_FUNCTIONS = {
    "case": (3, 255),
    "contains": (2, 2),
    "endswith": (2, 2),
    "format": (1, 255),
    "join": (1, 2),
    "startswith": (2, 2),
    "tojson": (1, 1),
    "fromjson": (1, 1),
}
_FUNCTION_ITEM = re.compile(r"^([a-zA-Z0-9_]+)\(([0-9]+),([0-9]+|MAX)\)$")
_KEYWORD = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*")  # ExpressionUtility.IsLegalKeyword
_BOUNDARY = set("()[],.!><=&|") | {" ", "\t", "\n", "\r"}
_LITERAL_WORDS = {"null", "true", "false", "NaN", "Infinity"}

NOT_ALLOWED = "A template expression is not allowed in this context"


@dataclass(frozen=True)
class Problem:
    line: int  # 1-based, as the runner prints it
    column: int
    message: str

    def __str__(self) -> str:
        return f"(Line: {self.line}, Col: {self.column}): {self.message}"


class Schema:
    """The runner's manifest schema: definitions by name, one-of expanded on demand."""

    def __init__(self, definitions: dict[str, dict[str, Any]]) -> None:
        self._definitions = {**_BUILTIN, **definitions}

    @classmethod
    def load(cls, path: Path = SCHEMA_FILE) -> Schema:
        text = path.read_text(encoding="utf-8-sig")
        body = "\n".join(line for line in text.splitlines() if not line.startswith("//"))
        return cls(json.loads(body)["definitions"])

    def context(self, name: str) -> tuple[str, ...]:
        return tuple(self._definitions[name].get("context", ()))

    def expand(self, name: str) -> list[dict[str, Any]]:
        """The definition, or the members of its one-of (TemplateSchema.Get<T>)."""
        definition = self._definitions[name]
        if "one-of" in definition:
            return [self._definitions[member] for member in definition["one-of"]]
        return [definition]

    def of_kind(self, name: str, kind: str) -> list[dict[str, Any]]:
        return [d[kind] for d in self.expand(name) if kind in d]


def _inherit(parent: tuple[str, ...], schema: Schema, name: str) -> tuple[str, ...]:
    """DefinitionInfo(parent, name): a definition's context adds to its parent's."""
    own = schema.context(name)
    return tuple(dict.fromkeys([*parent, *own])) if own else parent


def check_manifest(text: str, schema: Schema | None = None) -> list[Problem]:
    """Every error the runner's template reader reports for this action.yml (empty: it loads)."""
    node = yaml.compose(text)
    if node is None:
        return [Problem(1, 1, "Expected a mapping")]
    reader = _Reader(schema or Schema.load())
    reader.read(node, ROOT_TYPE, reader.schema.context(ROOT_TYPE))
    return reader.problems


class _Reader:
    def __init__(self, schema: Schema) -> None:
        self.schema = schema
        self.problems: list[Problem] = []

    def error(self, node: yaml.Node, message: str) -> None:
        self.problems.append(Problem(node.start_mark.line + 1, node.start_mark.column + 1, message))

    def read(self, node: yaml.Node, name: str, context: tuple[str, ...]) -> None:
        if isinstance(node, yaml.ScalarNode):
            self._scalar(node, name, context)
        elif isinstance(node, yaml.SequenceNode):
            items = self.schema.of_kind(name, "sequence")
            if not items:
                self.error(node, "A sequence was not expected")
                return
            item_type = items[0]["item-type"]
            for item in node.value:
                self.read(item, item_type, _inherit(context, self.schema, item_type))
        elif isinstance(node, yaml.MappingNode):
            self._mapping(node, name, context)

    def _scalar(self, node: yaml.ScalarNode, name: str, context: tuple[str, ...]) -> None:
        is_string = node.tag == "tag:yaml.org,2002:str"
        has_expression = is_string and "${{" in node.value
        if has_expression:
            # None: a parse error, reported (the runner goes on with the raw string);
            # []: only quoted literals, a plain string after all.
            has_expression = bool(self._parse_string(node, context))
        if has_expression:
            if not context:
                self.error(node, NOT_ALLOWED)
            return
        if not self._literal_fits(node, name):
            self.error(node, f"Unexpected value '{node.value}'")

    def _literal_fits(self, node: yaml.ScalarNode, name: str) -> bool:
        kinds = self.schema.expand(name)
        tag = node.tag.rsplit(":", 1)[-1]
        scalar_kind = {"str": "string", "bool": "boolean", "int": "number", "float": "number"}
        kind = scalar_kind.get(tag, "null" if tag == "null" else "string")
        strings = [d["string"] for d in kinds if "string" in d]
        if any(kind in d for d in kinds) and kind != "string":
            return True
        # A non-string literal is converted to a string when only strings fit (Validate).
        return any(_string_fits(spec, node.value) for spec in strings)

    def _mapping(self, node: yaml.MappingNode, name: str, context: tuple[str, ...]) -> None:
        candidates = self.schema.of_kind(name, "mapping")
        if not candidates:
            self.error(node, "A mapping was not expected")
            return
        seen: set[str] = set()
        for key_node, value_node in node.value:
            key = str(key_node.value)
            if isinstance(key_node, yaml.ScalarNode) and "${{" in key:
                self._parse_string(key_node, context)
                if not context:
                    self.error(key_node, NOT_ALLOWED)
                continue
            if key.lower() in seen:
                self.error(key_node, f"'{key}' is already defined")
                continue
            seen.add(key.lower())
            matching = [c for c in candidates if key in c.get("properties", {})]
            if matching:
                candidates = matching
                prop = matching[0]["properties"][key]
                value_type = prop if isinstance(prop, str) else prop["type"]
            elif candidates[0].get("loose-key-type"):
                key_type = candidates[0]["loose-key-type"]
                if not any(_string_fits(s, key) for s in self.schema.of_kind(key_type, "string")):
                    self.error(key_node, f"Unexpected value '{key}'")
                value_type = candidates[0]["loose-value-type"]
            else:
                self.error(key_node, f"Unexpected value '{key}'")
                continue
            self.read(value_node, value_type, _inherit(context, self.schema, value_type))
        if len(candidates) > 1:
            once = _properties_in_one(candidates)
            self.error(
                node,
                "There's not enough info to determine what you meant. "
                f"Add one of these properties: {', '.join(once)}",
            )
            return
        for prop_name, prop in candidates[0].get("properties", {}).items():
            if isinstance(prop, dict) and prop.get("required") and prop_name.lower() not in seen:
                self.error(node, f"Required property is missing: {prop_name}")

    def _parse_string(self, node: yaml.ScalarNode, context: tuple[str, ...]) -> list[str] | None:
        """The expressions of a string (ParseScalar); None after reporting a parse error.
        An expression that is only quoted literals is not one: `${{ '{{ x }}' }}`."""
        expressions: list[str] = []
        for expression in _segments(node.value):
            if expression is None:
                self.error(
                    node,
                    "The expression is not closed. An unescaped ${{ sequence was found, "
                    "but the closing }} sequence was not found.",
                )
                return None
            message = _expression_error(expression.strip(), context)
            if message:
                self.error(node, message)
                return None
            if not re.fullmatch(r"\s*('([^']|'')*'\s*)\s*", expression):
                expressions.append(expression)
        return expressions


def _string_fits(spec: dict[str, Any], value: str) -> bool:
    if spec.get("require-non-empty") and not value:
        return False
    constant = spec.get("constant")
    if constant is None:
        return True
    return value.lower() == constant.lower() if spec.get("ignore-case") else value == constant


def _properties_in_one(candidates: list[dict[str, Any]]) -> list[str]:
    counts: dict[str, int] = {}
    for candidate in candidates:
        for key in candidate.get("properties", {}):
            counts[key] = counts.get(key, 0) + 1
    return sorted(key for key, count in counts.items() if count == 1)


def _segments(raw: str) -> Iterator[str | None]:
    """The text between each `${{` and its `}}` (quotes respected); None when unclosed."""
    start = raw.find("${{")
    while start != -1:
        index, in_string = start + 3, False
        while index < len(raw):
            if raw[index] == "'":
                in_string = not in_string
            elif not in_string and raw[index] == "}" and raw[index - 1] == "}":
                break
            index += 1
        if index >= len(raw):
            yield None
            return
        yield raw[start + 3 : index - 1]
        start = raw.find("${{", index + 1)


@dataclass(frozen=True)
class _Token:
    kind: str  # "function", "named-value", "property", "literal", "punct", "unexpected"
    raw: str
    index: int


def _tokens(expression: str) -> Iterator[_Token]:
    """LexicalAnalyzer, as far as telling named-values, functions and properties apart."""
    index, last = 0, None
    while index < len(expression):
        char = expression[index]
        if char.isspace():
            index += 1
            continue
        if char == "'":
            end = index + 1
            while end < len(expression):
                if expression[end] == "'":
                    if end + 1 < len(expression) and expression[end + 1] == "'":
                        end += 2
                        continue
                    break
                end += 1
            token = _Token("literal", expression[index : end + 1], index)
            index = end + 1
        elif (
            char in "()[],*" or char in "!<>=&|" or (char == "." and last and last.kind != "punct")
        ):
            width = (
                2 if expression[index : index + 2] in ("!=", ">=", "<=", "==", "&&", "||") else 1
            )
            token = _Token("punct", expression[index : index + width], index)
            index += width
        else:
            end = index + 1
            while end < len(expression) and expression[end] not in _BOUNDARY:
                end += 1
            if char == "." or char in "+-" or char.isdigit():
                while end < len(expression) and (
                    expression[end] == "." or expression[end] not in _BOUNDARY
                ):
                    end += 1
            word = expression[index:end]
            token = _classify(word, index, last, expression[end:])
            index = end
        last = token
        yield token


def _classify(word: str, index: int, last: _Token | None, rest: str) -> _Token:
    if word[0] in "+-." or word[0].isdigit() or word in _LITERAL_WORDS:
        return _Token("literal", word, index)
    if not _KEYWORD.fullmatch(word):
        return _Token("unexpected", word, index)
    if last is not None and last.raw == ".":
        return _Token("property", word, index)
    if rest.lstrip().startswith("("):
        return _Token("function", word, index)
    return _Token("named-value", word, index)


def _expression_error(expression: str, context: tuple[str, ...]) -> str | None:
    """ExpressionToken.IsValidExpression: the context's items are named-values, or functions
    when written `name(min,max)`; the message is ParseException's."""
    if not expression:
        return "An expression was expected"
    functions = dict(_BUILTIN_FUNCTIONS)
    named: set[str] = set()
    for item in context:
        match = _FUNCTION_ITEM.match(item)
        if match:
            high = 2**31 - 1 if match[3] == "MAX" else int(match[3])
            functions[match[1].lower()] = (int(match[2]), high)
        else:
            named.add(item.lower())
    tokens = list(_tokens(expression))

    def located(kind: str, token: _Token) -> str:
        return (
            f"{kind}: '{token.raw}'. Located at position {token.index + 1} "
            f"within expression: {expression}"
        )

    for position, token in enumerate(tokens):
        if token.kind == "unexpected":
            return located("Unexpected symbol", token)
        if token.kind == "named-value" and token.raw.lower() not in named:
            return located("Unrecognized named-value", token)
        if token.kind == "function":
            bounds = functions.get(token.raw.lower())
            if bounds is None:
                return located("Unrecognized function", token)
            count = _argument_count(tokens[position + 1 :])
            if count < bounds[0]:
                return located("Too few parameters supplied", token)
            if count > bounds[1]:
                return located("Too many parameters supplied", token)
    return None


def _argument_count(after: list[_Token]) -> int:
    """Arguments of the call whose `(` opens `after`."""
    depth, count, empty = 0, 0, True
    for token in after:
        if token.raw in ("(", "["):
            depth += 1
            if depth == 1:
                continue
        elif token.raw in (")", "]"):
            depth -= 1
            if depth == 0:
                return 0 if empty else count + 1
        elif token.raw == "," and depth == 1:
            count += 1
            continue
        if depth >= 1:
            empty = False
    return 0 if empty else count + 1
