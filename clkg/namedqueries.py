"""Named queries: one competency question per `.rq` file in `queries/`.

The convention follows grlc: a header of `#+ key: value` comment lines, read as YAML, then a plain
SPARQL 1.1 query. Parameters are variables whose names start with `_` (required) or `__` (optional):
`?_concept`, `?__polarity`. The header documents each under `params`:

    #+ summary: Studies cited as evidence for a concept
    #+ params:
    #+   concept: {type: concept, description: "a concept code (M1) or IRI"}
    #+   polarity: {type: string, enum: [supports, nuances, contradicts]}

Types: `concept` (a code or an IRI of a skos:Concept, bound as its IRI), `iri`, `string`, `integer`.
Values are bound as a VALUES row at the top of the outer WHERE group, written by Oxigraph's own term
serialisation (never pasted as text); use parameter variables in that outer group, since a FILTER
inside a nested group does not see them. An unbound optional parameter stays unbound, so the same
file runs unchanged on any SPARQL 1.1 endpoint.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import pyoxigraph as ox
import yaml

from clkg import config

_PARAM_VARIABLE = re.compile(r"[?$](__?)([A-Za-z][A-Za-z0-9]*)\b")
TYPES = {"concept", "iri", "string", "integer"}
LOCAL_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")  # what a minted IRI ends with (study/feys-devos-2015)
INTEGER_MIN, INTEGER_MAX = -(2 ** 63), 2 ** 63 - 1  # xsd:integer as the engine holds it


class ParameterError(Exception):
    """A missing or bad parameter; the message names it."""

    def __init__(self, name: str, message: str):
        super().__init__(f"parameter '{name}': {message}")
        self.name = name


@dataclass
class Parameter:
    name: str
    required: bool
    type: str = "string"
    description: str = ""
    enum: list = field(default_factory=list)
    default: str | None = None
    namespace: str | None = None  # an `iri` parameter's namespace: a local name in it stands for the IRI

    @property
    def must_be_given(self) -> bool:
        """Whether a caller must give it: a required variable (`?_name`) with a default need not be."""
        return self.required and self.default is None

    def describe(self) -> dict:
        info = {"name": self.name, "required": self.must_be_given, "type": self.type, "description": self.description}
        if self.enum:
            info["enum"] = self.enum
        if self.default is not None:
            info["default"] = self.default
        return info


@dataclass
class NamedQuery:
    name: str
    summary: str
    description: str
    text: str
    parameters: list[Parameter]
    path: Path

    def describe(self) -> dict:
        return {"name": self.name, "summary": self.summary, "description": self.description,
                "parameters": [p.describe() for p in self.parameters]}


def parse(path: Path, base_iri: str = config.CANONICAL_BASE) -> NamedQuery:
    """Read one `.rq` file: its decorator header and its parameters."""
    text = path.read_text(encoding="utf-8")
    header = "\n".join(line[2:] for line in text.splitlines() if line.startswith("#+"))
    meta = yaml.safe_load(header) or {}
    declared = meta.get("params") or {}
    found = {}
    for underscores, name in _PARAM_VARIABLE.findall(text):
        found.setdefault(name, underscores == "_")
    parameters = []
    for name, required in found.items():
        spec = declared.get(name) or {}
        kind = spec.get("type", "string")
        if kind not in TYPES:
            raise ValueError(f"{path.name}: parameter '{name}' has unknown type '{kind}'")
        namespace = spec.get("namespace")
        if namespace is not None and (kind != "iri" or not LOCAL_NAME.fullmatch(str(namespace).rstrip("/"))):
            raise ValueError(f"{path.name}: parameter '{name}': a namespace (a path under the base, e.g. study/) "
                             "is for parameters of type iri")
        parameters.append(Parameter(name, required, kind, spec.get("description", ""),
                                    [str(v) for v in spec.get("enum", [])], spec.get("default"),
                                    base_iri + namespace if namespace else None))
    if base_iri != config.CANONICAL_BASE:
        text = text.replace(config.CANONICAL_BASE, base_iri)
    return NamedQuery(path.stem, meta.get("summary", ""), meta.get("description", ""), text, parameters, path)


def load_all(directory: Path, base_iri: str = config.CANONICAL_BASE) -> dict[str, NamedQuery]:
    return {q.name: q for q in (parse(p, base_iri) for p in sorted(Path(directory).glob("*.rq")))}


def bind(query: NamedQuery, args: dict, resolve_concept) -> dict:
    """Wire-format substitutions for the given arguments; raises ParameterError naming the parameter.

    `resolve_concept(value)` returns the IRI of a concept given by code or IRI, or None.
    """
    known = {p.name for p in query.parameters}
    for name in args:
        if name not in known:
            raise ParameterError(name, f"unknown parameter (this query takes: {', '.join(sorted(known)) or 'none'})")
    bound = {}
    for parameter in query.parameters:
        value = args.get(parameter.name) or parameter.default  # an empty value is no value
        if value in (None, ""):
            if parameter.required:
                raise ParameterError(parameter.name, "is required")
            continue
        variable = ("_" if parameter.required else "__") + parameter.name
        bound[variable] = _term(parameter, str(value), resolve_concept)
    return bound


def _term(parameter: Parameter, value: str, resolve_concept):
    if parameter.enum and value not in parameter.enum:
        raise ParameterError(parameter.name, f"'{value}' is not one of {', '.join(parameter.enum)}")
    if parameter.type == "concept":
        iri = resolve_concept(value)
        if iri is None:
            raise ParameterError(parameter.name, f"no concept has the code or IRI '{value}'")
        return ("iri", iri, None)
    if parameter.type == "iri":
        if parameter.namespace and LOCAL_NAME.fullmatch(value):  # what a person types: feys-devos-2015
            value = parameter.namespace + value
        try:  # Oxigraph's own IRI parser decides, as it will when the value is bound
            ox.NamedNode(value)
        except ValueError as error:
            also = f" or a local name in {parameter.namespace}" if parameter.namespace else ""
            raise ParameterError(parameter.name, f"'{value}' is not an absolute IRI{also} ({error})") from None
        return ("iri", value, None)
    if parameter.type == "integer":
        return ("typed", str(parse_integer(parameter.name, value)), "http://www.w3.org/2001/XMLSchema#integer")
    return ("typed", value, None)


def parse_integer(name: str, value: str) -> int:
    """An integer parameter: ASCII digits with an optional sign (Python's int() and regex \\d also take
    other scripts' digits, such as Arabic-Indic), within the 64-bit range the engine computes with."""
    digits = value[1:] if value[:1] in "+-" else value
    if not digits or not digits.isascii() or not digits.isdigit():
        raise ParameterError(name, f"'{value}' is not an integer (ASCII digits 0-9, optionally signed)")
    number = int(value)
    if not INTEGER_MIN <= number <= INTEGER_MAX:
        raise ParameterError(name, f"'{value}' is out of range ({INTEGER_MIN} to {INTEGER_MAX})")
    return number
