"""What the web layer asks of the core: the ontology's documentation under another base, rebased on the
RDF (not on the HTML), and the store's generation as the store layer reports it."""
from __future__ import annotations

from clkg import resources, store

OTHER = "http://data.example.org/kg/"


def test_the_ontology_documentation_speaks_the_deployments_iris():
    from clkg.ontology_docs import ontology_html

    page = ontology_html(sorted(resources.ontology().glob("*.ttl")), OTHER)
    assert "https://w3id.org/clkg/" not in page  # IRIs, namespaces and IRI literals alike
    assert f"{OTHER}ontology/TeacherOutcomeClaim" in page
    assert "clo:about some clo:TeacherOutcomeLevel" in page  # the class expressions still read by prefix


def test_the_generation_changes_with_a_write(tmp_path):
    from conftest import mini_settings

    settings = mini_settings(tmp_path)
    assert store.generation_info(settings).changed == 0.0  # before any build
    store.build(settings, reason=False)
    built = store.generation_info(settings)
    assert built.built is not None and built.changed > 0
    store.mark_written(settings)
    written = store.generation_info(settings)
    assert written.token != built.token and written.built == built.built
