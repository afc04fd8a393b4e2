"""Imported by the fork server of the workers (clkg/forking.py) and nowhere else: every packaged
query is analysed once there (clkg/sparqlguard.py), so that the SPARQL parser's first-use work is done
before any worker is forked. A worker started in place of a long one (clkg/pool.py) then answers its
first short query as fast as an old one, instead of spending its first ~0.1 s warming the parser."""
from clkg import config, resources, sparqlguard


def warm_up() -> None:
    for path in sorted(resources.queries().rglob("*.rq")):
        try:
            sparqlguard.analyse(path.read_text(encoding="utf-8"), config.Settings.max_query_depth)
        except Exception:  # noqa: BLE001 - a query the guard refuses still warmed the parser
            pass


warm_up()
