"""Where the files the product reads at run time are: the one place that knows, read through
`importlib.resources` so that a checkout, an editable install and an installed wheel behave alike.

The repository keeps these files at its top, as the README describes (`ontology/`, `kg/`, `shapes/`,
`queries/`, `templates/`); this package holds links to those folders, and a built wheel holds copies
of them (setuptools follows the links; `pyproject.toml` lists what is packaged). The web app's
templates, static files and translations are package data of `clkg.web`.
"""
from __future__ import annotations

from importlib import resources
from pathlib import Path


class ResourceError(RuntimeError):
    """A file the product needs is not where the package keeps it (a broken install)."""


def _package_folder(package: str) -> Path:
    root = resources.files(package)
    if not isinstance(root, Path):  # e.g. imported from a zip: the store and the parsers need real files
        raise ResourceError(f"{package} is not installed as files on disk ({root!r}); install the wheel with pip")
    return root


def _here(*parts: str) -> Path:
    return _package_folder(__name__).joinpath(*parts)


def ontology() -> Path:
    """The OWL ontology and the report's concepts (Turtle): the named graph `ontology`."""
    return _here("ontology")


def evidence() -> Path:
    """The curated studies and claims (Turtle): the named graph `evidence`."""
    return _here("kg", "evidence")


def illustrative() -> Path:
    """The two invented example cases (Turtle): the named graph `illustrative`, never evidence."""
    return _here("kg", "cases", "illustrative")


def source_dirs() -> dict[str, list[Path]]:
    """The Turtle folders of each named graph the store is built from, unless CLKG_SOURCE_DIRS says otherwise."""
    return {"ontology": [ontology()], "evidence": [evidence()], "illustrative": [illustrative()]}


def shapes() -> Path:
    """The SHACL shapes that entries are validated with."""
    return _here("shapes")


def queries() -> Path:
    """The named queries (competency questions), one `.rq` file each."""
    return _here("queries")


def page_queries() -> Path:
    """The queries behind the linked-data views and the pages."""
    return _here("queries", "pages")


def internal_query(name: str) -> Path:
    """A query the service itself runs (e.g. `resolve-concept`)."""
    return _here("queries", "internal", f"{name}.rq")


def case_templates() -> Path:
    """The Turtle template and the CSV spreadsheets for entering a school case."""
    return _here("templates", "case")


def translations() -> Path:
    """The interface strings of the web pages, one JSON file per language."""
    return _package_folder("clkg.web") / "translations"


# what must be present for the product to run: (description, path, pattern of the files it holds)
def _required() -> list[tuple[str, Path, str]]:
    return [("the ontology", ontology(), "*.ttl"), ("the evidence", evidence(), "*.ttl"),
            ("the illustrative cases", illustrative(), "*.ttl"), ("the SHACL shapes", shapes(), "*.ttl"),
            ("the named queries", queries(), "*.rq"), ("the page queries", page_queries(), "*.rq"),
            ("the service's queries", internal_query("resolve-concept").parent, "*.rq"),
            ("the case templates", case_templates(), "*.csv"), ("the interface strings", translations(), "*.json")]


def check() -> None:
    """Raise ResourceError naming every required folder that is missing or empty (a broken install)."""
    missing = [f"{what} ({folder})" for what, folder, pattern in _required()
               if not folder.is_dir() or not any(folder.rglob(pattern))]
    if missing:
        raise ResourceError("the package's files are incomplete, missing: " + "; ".join(missing))
