"""The build reasons only when the ontology or the evidence changed: HermiT's answer is kept by the
digest of what it read, and a rebuild for any other reason (another base IRI, a case file, a forced
build) reuses it, with the same inferred graph."""
from __future__ import annotations

import shutil

import pyoxigraph as ox

from clkg import reasoning, store
from clkg.config import Settings


def inferred(settings) -> set:
    reader = store.open_read_only(settings)
    graph = ox.NamedNode(settings.graph_iri(store.INFERRED))
    triples = {(q.subject.value, q.object.value) for q in reader.quads_for_pattern(None, None, None, graph)}
    del reader
    return triples


def test_a_rebuild_reuses_the_reasoners_answer_until_a_source_changes(tmp_path, real_settings, monkeypatch):
    sources = {graph: [tmp_path / "src" / graph] for graph in real_settings.source_dirs}
    for graph, dirs in real_settings.source_dirs.items():
        shutil.copytree(dirs[0], sources[graph][0])
    settings = Settings(data_dir=tmp_path / "data")
    settings.source_dirs = sources
    shutil.copytree(real_settings.data_dir / store.REASONED, settings.data_dir / store.REASONED)  # as a build left it
    calls = []
    real_materialise = reasoning.materialise
    monkeypatch.setattr(reasoning, "materialise", lambda paths: calls.append(paths) or real_materialise(paths))

    assert store.build(settings, reason=True)
    first = inferred(settings)
    assert calls == [] and len(first) > 1000, "the same sources: the kept answer, no reasoner"
    assert store.build(settings, force=True, reason=True) and calls == []
    other = Settings(data_dir=settings.data_dir, base_iri="http://127.0.0.1:8000/kg/")
    other.source_dirs = sources
    assert store.build(other, reason=True) and calls == [], "another base: the same answer, rebased"
    assert all(s.startswith("http://127.0.0.1:8000/kg/") for s, _ in inferred(other))

    evidence = sorted(sources["evidence"][0].rglob("*.ttl"))[0]
    evidence.write_text(evidence.read_text() + "\n# changed\n")
    assert store.build(settings, reason=True)
    assert len(calls) == 1, "a changed evidence file: the reasoner runs again"
    assert inferred(settings) == first


def test_a_build_without_the_reasoner_has_no_inferred_graph(tmp_path):
    settings = Settings(data_dir=tmp_path / "data")
    store.build(settings, reason=False)
    assert inferred(settings) == set()
