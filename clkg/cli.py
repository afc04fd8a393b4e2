"""The `clkg` command line: build the store, reason, query it, serve it, validate and contribute entries."""
from __future__ import annotations

import argparse
import csv
import io
import json
import sys
from pathlib import Path

from clkg import resources, store, stores
from clkg.stores.remote import RemoteStoreError
from clkg.config import Settings

FORMATS = {"table": "application/sparql-results+json", "json": "application/sparql-results+json",
           "csv": "text/csv", "tsv": "text/tab-separated-values"}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="clkg", description="Collective Learning Knowledge Graph")
    commands = parser.add_subparsers(dest="command", required=True)

    build = commands.add_parser("build", help="(re)build the store from ontology/ and kg/")
    build.add_argument("--force", action="store_true", help="rebuild even when no source changed")
    build.add_argument("--no-reason", action="store_true", help="skip the reasoner (no `inferred` graph)")

    query = commands.add_parser("query", help="run a SPARQL query or a named query against the store")
    source = query.add_mutually_exclusive_group()
    source.add_argument("--file", "-f", type=Path, help="file with a SPARQL query")
    source.add_argument("--named", "-n", help="name of a query in queries/ (see --list)")
    source.add_argument("--list", action="store_true", help="list the named queries")
    query.add_argument("words", nargs="*", metavar="SPARQL | NAME=VALUE",
                       help="the SPARQL query text, or with --named its parameters as NAME=VALUE")
    query.add_argument("--format", choices=sorted(FORMATS), default="table")

    entry_help = ("the report: text (default) or json; or the entries' syntax: turtle, json-ld, n-triples "
                  "(by default from the file extension); may be given twice")
    validate = commands.add_parser("validate", help="validate entries against the shapes and the local store")
    validate.add_argument("files", nargs="+", type=Path, metavar="FILE", help="Turtle, JSON-LD or N-Triples")
    validate.add_argument("--format", action="append", default=[], metavar="FORMAT", help=entry_help)
    validate.add_argument("--lang", choices=["en", "nl"], default="en", help="language of the messages")
    ingest = commands.add_parser("ingest", help="validate entries and store each as a contribution (local store)")
    ingest.add_argument("files", nargs="+", type=Path, metavar="FILE", help="one entry per file")
    ingest.add_argument("--format", action="append", default=[], metavar="FORMAT", help=entry_help)
    ingest.add_argument("--lang", choices=["en", "nl"], default="en", help="language of the messages")
    ingest.add_argument("--contributor", default=None, help="who contributes (default: $CLKG_CONTRIBUTOR or the user)")
    imports = commands.add_parser("import-case", help="turn a case's CSV files (network map, partnerships, ...) "
                                                       "into a validated entry (Turtle); see templates/case/")
    imports.add_argument("folder", type=Path, help="folder with case.csv, informants.csv, actors.csv, ties.csv, "
                                                   "partnerships.csv, observations.csv")
    imports.add_argument("--output", "-o", type=Path, help="write the Turtle here (default: standard output)")
    imports.add_argument("--lang", choices=["en", "nl"], default="en", help="language of the messages")
    delete = commands.add_parser("delete", help="delete contributions from the local store")
    delete.add_argument("ids", nargs="*", metavar="ID", help="contribution ids (see --list)")
    delete.add_argument("--list", action="store_true", help="list the contributions")

    serve = commands.add_parser("serve", help="serve the web app with gunicorn (127.0.0.1 by default)")
    serve.add_argument("--host")
    serve.add_argument("--port", type=int)
    serve.add_argument("--threads", type=int, default=None,
                       help="web threads (default: query workers + waiting queue + 4, from the settings)")

    args = parser.parse_args(argv)
    try:
        settings = Settings.from_env()
    except ValueError as error:  # SettingError and the other settings' checks
        print(f"clkg: bad setting: {error}", file=sys.stderr)
        return 2
    handlers = {"build": build_store, "query": run_query, "serve": serve_app, "validate": validate_entries,
                "ingest": ingest_entries, "delete": delete_entries, "import-case": import_case}
    try:
        return handlers[args.command](args, settings)
    except store.BuildError as error:
        print(f"clkg: cannot build the store: {error}", file=sys.stderr)
    except resources.ResourceError as error:
        print(f"clkg: the installation is broken: {error}", file=sys.stderr)
    except RemoteStoreError as error:
        print(f"clkg: {error}", file=sys.stderr)
    return 1


def build_store(args, settings: Settings) -> int:
    rebuilt = store.build(settings, force=args.force, reason=not args.no_reason, progress=True)
    print("store rebuilt" if rebuilt else "store is up to date", f"({store.current_store(settings.data_dir)})")
    return load_remote_store(settings) if settings.store == "remote" else 0


def load_remote_store(settings: Settings) -> int:
    """CLKG_STORE=remote: replace the remote store's graphs by those of the store just built."""
    from clkg.stores import mirror

    try:
        remote = stores.remote_of(settings)
        with store.lock(settings.data_dir, name=store.WRITERS_LOCK):
            report = mirror.load(settings, remote, progress=True)
    except RemoteStoreError as error:
        print(f"clkg: cannot load the remote store: {error}", file=sys.stderr)
        return 1
    dropped = f"; dropped {len(report.dropped)} graphs it no longer has" if report.dropped else ""
    print(f"loaded {len(report.graphs)} graphs ({report.triples} triples) into {remote.gsp_url or remote.update_url}"
          f"{dropped}")
    return 0


def run_query(args, settings: Settings) -> int:
    from clkg.namedqueries import ParameterError
    from clkg.service import Service
    from clkg.sparql import QueryError

    stores.prepare(settings, progress=True)
    service = Service(settings, pool_size=1)
    try:
        if args.list:
            for named in service.queries.values():
                params = " ".join(f"{p.name}={'<required>' if p.must_be_given else '[optional]'}" for p in named.parameters)
                print(f"{named.name} {params}\n    {named.summary}")
            return 0
        media_type = FORMATS[args.format]
        if args.named:
            if args.named not in service.queries:
                print(f"clkg: no named query '{args.named}' (try --list)", file=sys.stderr)
                return 2
            pairs = dict(p.split("=", 1) if "=" in p else (p, "") for p in args.words)
            body, media_type = service.run_named(args.named, pairs, media_type=media_type)
        else:
            text = args.file.read_text(encoding="utf-8") if args.file else " ".join(args.words)
            if not text.strip():
                print("clkg: give a SPARQL query, --file, --named or --list", file=sys.stderr)
                return 2
            body, media_type = service.run(text, media_type=media_type if args.format != "table" else None)
    except (QueryError, ParameterError) as error:
        print(f"clkg: {getattr(error, 'message', error)}", file=sys.stderr)
        return 2
    except OSError as error:
        print(f"clkg: {error}", file=sys.stderr)
        return 2
    finally:
        service.close()
    if args.format == "table" and media_type == "application/sparql-results+json":
        print(table(json.loads(body)))
    else:
        sys.stdout.write(body.decode("utf-8"))
    return 0


def table(results: dict) -> str:
    """SPARQL JSON results as an aligned plain-text table."""
    if "boolean" in results:
        return str(results["boolean"]).lower()
    names = results["head"]["vars"]
    rows = [[b.get(n, {}).get("value", "") for n in names] for b in results["results"]["bindings"]]
    widths = [min(60, max([len(n)] + [len(r[i]) for r in rows])) for i, n in enumerate(names)]
    out = io.StringIO()
    line = lambda cells: "  ".join(c[:w].ljust(w) for c, w in zip(cells, widths)).rstrip()
    out.write(line(names) + "\n" + line(["-" * w for w in widths]) + "\n")
    for row in rows:
        out.write(line(row) + "\n")
    out.write(f"({len(rows)} rows)")
    return out.getvalue()


def _entry_formats(values: list[str]) -> tuple[str, str | None]:
    """--format given for the report (text, json) and/or the entries' syntax (turtle, json-ld, ...)."""
    report, syntax = "text", None
    for value in values:
        if value.lower() in ("text", "json"):
            report = value.lower()
        else:
            syntax = value
    return report, syntax


def _read_entries(args, settings: Settings):
    """(file, triples) per file; EntryError and unreadable files as (file, message) with triples None."""
    from clkg import validation

    _, syntax = _entry_formats(args.format)
    for path in args.files:
        try:
            fmt = validation.format_for(path=path, name=syntax)
            yield path, validation.parse_entry(path.read_bytes(), fmt, settings.base_iri,
                                              validation.Limits.of(settings))
        except validation.EntryError as error:
            yield path, error.message
        except OSError as error:
            yield path, f"cannot read the file: {error.strerror or error}"


def validate_entries(args, settings: Settings) -> int:
    """`clkg validate FILE...`: 0 when every entry conforms, 1 on a violation, 2 when a file cannot be read."""
    from clkg import validation

    report_format, _ = _entry_formats(args.format)
    stores.prepare(settings)
    source = stores.validation_source(settings)
    reports, code = [], 0
    for path, entry in _read_entries(args, settings):
        if isinstance(entry, str):
            print(f"clkg: {path}: {entry}", file=sys.stderr)
            code = 2
            continue
        report = validation.validate_entry(entry, source, settings, origin=str(path))
        reports.append(report)
        code = max(code, 0 if report.conforms else 1)
    del source
    if report_format == "json":
        print(json.dumps({"conforms": code == 0, "reports": [r.to_json(args.lang) for r in reports]},
                         indent=2, ensure_ascii=False))
    else:
        print("\n\n".join(r.to_text(args.lang) for r in reports))
    return code


def ingest_entries(args, settings: Settings) -> int:
    """`clkg ingest FILE...`: each file one contribution to the local store, all or nothing."""
    import getpass
    import os

    from clkg import contributions

    report_format, _ = _entry_formats(args.format)
    contributor = args.contributor or os.environ.get("CLKG_CONTRIBUTOR") or getpass.getuser()
    stores.prepare(settings)
    results, code = [], 0
    for path, entry in _read_entries(args, settings):
        if isinstance(entry, str):
            print(f"clkg: {path}: {entry}", file=sys.stderr)
            code = 2
            continue
        try:
            contribution, report = contributions.ingest(settings, entry, contributor)
        except contributions.Refused as refused:
            refused.report.source = str(path)
            results.append({"source": str(path), "accepted": False} | refused.report.to_json(args.lang))
            if report_format == "text":
                print(refused.report.to_text(args.lang))
                print(f"{path}: refused, nothing was stored")
            code = max(code, 1)
            continue
        results.append({"source": str(path), "accepted": True} | contribution.to_json()
                       | {"report": report.to_json(args.lang)})
        if report_format == "text":
            print(f"{path}: stored as contribution {contribution.id} in <{contribution.graph}>")
            if report.results:
                report.source = str(path)
                print(report.to_text(args.lang))
    if report_format == "json":
        print(json.dumps(results, indent=2, ensure_ascii=False))
    return code


def import_case(args, settings: Settings) -> int:
    """`clkg import-case FOLDER`: the case's CSV files as one validated entry in Turtle. Every problem is
    reported as "file.csv line N, column X: message" on standard error; with an error nothing is written
    and the exit code is 1 (2 when the folder cannot be read); warnings do not stop the import."""
    import os

    from clkg import caseimport

    if not args.folder.is_dir():
        print(f"clkg: {args.folder}: not a folder (give the folder holding case.csv, actors.csv, ...)", file=sys.stderr)
        return 2
    stores.prepare(settings)
    source = stores.validation_source(settings)
    try:
        result = caseimport.import_case(args.folder, settings, source)
    except (OSError, UnicodeDecodeError, csv.Error) as error:
        print(f"clkg: {args.folder}: cannot read the files: {error}", file=sys.stderr)
        return 2
    finally:
        del source
    for problem in result.problems:
        print(problem.text(args.lang), file=sys.stderr)
    if not result.ok:
        count = len(result.errors)
        print(f"clkg: {args.folder}: {count} error(s); nothing was written" if args.lang == "en" else
              f"clkg: {args.folder}: {count} fout(en); er werd niets geschreven", file=sys.stderr)
        return 1
    body = result.turtle(str(args.folder))
    if args.output is None:
        sys.stdout.write(body.decode("utf-8"))
        return 0
    temporary = args.output.with_name(f".{args.output.name}.{os.getpid()}.tmp")
    temporary.write_bytes(body)
    os.replace(temporary, args.output)
    print(f"{args.folder}: {len(result.triples)} triples written to {args.output}", file=sys.stderr)
    return 0


def delete_entries(args, settings: Settings) -> int:
    """`clkg delete ID...` (or --list): the local store's contributions."""
    from clkg import contributions

    store.recover(settings)  # an interrupted write settled before the list is read
    if args.list:
        for item in contributions.list_all(settings):
            print(f"{item.id}  {item.generated_at}  {item.contributor}  {' '.join(item.entries)}")
        return 0
    if not args.ids:
        print("clkg: give contribution ids to delete, or --list", file=sys.stderr)
        return 2
    code = 0
    for contribution_id in args.ids:
        try:
            contributions.delete(settings, contribution_id)
            print(f"deleted contribution {contribution_id}")
        except (contributions.NotFound, contributions.Conflict) as error:
            print(f"clkg: {error}", file=sys.stderr)
            code = 2
    return code


def serve_app(args, settings: Settings) -> int:
    """`clkg serve`: gunicorn on the configured (or given) address; see clkg.server."""
    from clkg import server

    settings.host = args.host or settings.host
    settings.port = args.port or settings.port
    try:
        return server.serve(settings, threads=args.threads or settings.web_threads)
    except server.StartupError as error:
        print(f"clkg: cannot start the server: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
