"""The `clkg` command line: build, query (SPARQL and named), and its errors."""
from __future__ import annotations

import json

import pytest

from clkg import cli


@pytest.fixture()
def mini_env(tmp_path, monkeypatch):
    """Point the command line at the miniature graph."""
    from conftest import mini_settings

    settings = mini_settings(tmp_path)
    monkeypatch.setattr(cli.Settings, "from_env", classmethod(lambda cls: settings))
    return settings


def test_build_then_up_to_date(mini_env, capsys):
    assert cli.main(["build", "--no-reason"]) == 0
    assert "store rebuilt" in capsys.readouterr().out
    assert cli.main(["build", "--no-reason"]) == 0
    assert "up to date" in capsys.readouterr().out


def test_query_prints_a_table(mini_env, capsys):
    cli.main(["build", "--no-reason"])
    capsys.readouterr()
    code = cli.main(["query", "PREFIX clo: <https://w3id.org/clkg/ontology/> "
                              "SELECT ?c WHERE { ?c a clo:Claim } ORDER BY ?c"])
    out = capsys.readouterr().out
    assert code == 0 and out.splitlines()[0].strip() == "c" and "(6 rows)" in out


def test_named_query_as_json(mini_env, capsys):
    cli.main(["build", "--no-reason"])
    capsys.readouterr()
    assert cli.main(["query", "--named", "studies-for-concept", "concept=M9", "--format", "json"]) == 0
    rows = json.loads(capsys.readouterr().out)["results"]["bindings"]
    assert [r["citation"]["value"] for r in rows] == ["Delta et al. (2017)"]


def test_named_query_csv(mini_env, capsys):
    cli.main(["build", "--no-reason"])
    capsys.readouterr()
    assert cli.main(["query", "-n", "studies-for-concept", "concept=M9", "--format", "csv"]) == 0
    assert "Delta et al. (2017)" in capsys.readouterr().out


def test_errors_exit_non_zero_with_a_message(mini_env, capsys):
    cli.main(["build", "--no-reason"])
    capsys.readouterr()
    assert cli.main(["query", "-n", "studies-for-concept"]) == 2
    assert "parameter 'concept': is required" in capsys.readouterr().err
    assert cli.main(["query", "SELECT * WHERE {"]) == 2
    assert "Malformed query" in capsys.readouterr().err
    assert cli.main(["query", "-n", "nope"]) == 2
    assert "no named query 'nope'" in capsys.readouterr().err


def test_broken_source_file_is_reported_and_nothing_replaced(mini_env, tmp_path, capsys):
    assert cli.main(["build", "--no-reason"]) == 0
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "bad.ttl").write_text("@prefix ex: <http://example.org/> .\nex:a ex:b \n")
    mini_env.source_dirs["evidence"].append(broken)
    capsys.readouterr()
    assert cli.main(["build", "--no-reason"]) == 1
    err = capsys.readouterr().err
    assert "bad.ttl" in err and "cannot build the store" in err
    mini_env.source_dirs["evidence"].remove(broken)
    assert cli.main(["query", "ASK { ?s ?p ?o }", "--format", "json"]) == 0


def test_inconsistent_data_stops_the_build_with_a_message(tmp_path, monkeypatch, capsys):
    """With the reasoner on: HermiT's refusal is a clean error, and no store is swapped in."""
    from clkg import config
    from conftest import mini_settings

    evidence = tmp_path / "evidence"
    evidence.mkdir()
    (evidence / "clash.ttl").write_text(
        "@prefix clo: <https://w3id.org/clkg/ontology/> .\n"
        "<https://w3id.org/clkg/concept/odd> a clo:TaskMotive, clo:GrowthMotive .\n")
    settings = mini_settings(tmp_path / "data")
    settings.source_dirs = {"ontology": [config.ROOT / "ontology"], "evidence": [evidence]}
    monkeypatch.setattr(cli.Settings, "from_env", classmethod(lambda cls: settings))
    assert cli.main(["build"]) == 1
    err = capsys.readouterr().err
    assert "cannot build the store" in err and "reasoner" in err and "odd" in err
    assert not (tmp_path / "data" / "store").exists()


def test_syntax_error_is_reported_before_reasoning(tmp_path, monkeypatch, capsys):
    from clkg import config
    from conftest import mini_settings

    evidence = tmp_path / "evidence"
    evidence.mkdir()
    (evidence / "broken.ttl").write_text("@prefix ex: <http://example.org/> .\nex:a ex:b .\n")
    settings = mini_settings(tmp_path / "data")
    settings.source_dirs = {"ontology": [config.ROOT / "ontology"], "evidence": [evidence]}
    monkeypatch.setattr(cli.Settings, "from_env", classmethod(lambda cls: settings))
    assert cli.main(["build"]) == 1
    err = capsys.readouterr().err
    assert "broken.ttl" in err and "line 2" in err
