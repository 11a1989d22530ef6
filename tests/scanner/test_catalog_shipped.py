"""``parsed.json``: the catalogue's YAML files parsed ahead, used only while it matches them."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tutela.scanner.catalog import load_catalog, shipped
from tutela.scanner.catalog.model_retirements import load_model_retirements
from tutela.scanner.catalog.scoping import load_ai_scope_rules

LOADERS = (load_catalog, load_ai_scope_rules, load_model_retirements)


@pytest.fixture
def fresh_loads() -> object:
    """Every loader and parsed.json's reading cleared before and after the test."""
    caches = (*LOADERS, shipped._parsed)  # the cached functions, whatever a test patches
    for cached in caches:
        cached.cache_clear()
    yield
    for cached in caches:
        cached.cache_clear()


def test_parsed_json_is_made_from_the_yaml_as_it_is() -> None:
    made = shipped.make_parsed()
    kept = (shipped.catalog_directory() / shipped.PARSED).read_bytes()
    assert kept == made, "a catalogue YAML changed: run `python -m tutela.scanner.catalog`"


@pytest.mark.usefixtures("fresh_loads")
def test_the_loaders_give_the_same_data_from_json_as_from_yaml(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert shipped._parsed() is not None
    from_json = [load() for load in LOADERS]
    for load in LOADERS:
        load.cache_clear()
    monkeypatch.setattr(shipped, "_parsed", lambda: None)
    from_yaml = [load() for load in LOADERS]
    assert from_json == from_yaml


@pytest.mark.usefixtures("fresh_loads")
def test_a_yaml_changed_after_the_json_is_read_as_yaml(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    copy = tmp_path / "catalog"
    shutil.copytree(shipped.catalog_directory(), copy)
    plans = copy / "plans.yaml"
    plans.write_text(plans.read_text(encoding="utf-8").replace("Starter", "Beginner", 1))
    monkeypatch.setattr(shipped, "catalog_directory", lambda: copy)
    assert shipped._parsed() is None  # its digest is no longer the files'
    names = [plan["name"] for plan in shipped.read_document("plans.yaml")["plans"]]
    assert "Beginner" in names


@pytest.mark.usefixtures("fresh_loads")
def test_an_unchanged_copy_is_read_from_json(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    copy = tmp_path / "catalog"
    shutil.copytree(shipped.catalog_directory(), copy)
    monkeypatch.setattr(shipped, "catalog_directory", lambda: copy)
    monkeypatch.setattr(shipped, "parse_yaml", lambda _text: pytest.fail("YAML parsed"))
    assert shipped.read_document("plans.yaml") == shipped._parsed()["plans.yaml"]  # type: ignore[index]
