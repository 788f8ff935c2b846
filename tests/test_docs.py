"""Documentation generated from declarations must match what ships."""

from __future__ import annotations

from pathlib import Path

from targetwatch.docs import reference
from targetwatch.params import specs
from targetwatch.plugins import Registry

ROOT = Path(__file__).resolve().parent.parent


def test_committed_reference_is_up_to_date() -> None:
    committed = (ROOT / "docs" / "reference.md").read_text(encoding="utf-8")
    assert committed == reference(Registry(entry_points=False)), "run: targetwatch docs > docs/reference.md"


def test_reference_documents_every_parameter_of_every_kind_and_source() -> None:
    registry = Registry(entry_points=False)
    text = reference(registry)
    for plugin in [*registry.kinds.values(), *registry.sources.values(), *registry.notifiers.values()]:
        assert f"### `{plugin.name}`" in text
        for key, spec in specs(plugin.Params).items():
            assert spec.doc.strip(), f"{plugin.name}.{key} has no doc"
            assert f"| `{key}` |" in text


def test_one_kind_reference() -> None:
    text = reference(Registry(entry_points=False), kind="growth")
    assert text.startswith("### `growth`")
    assert "year_on_year" in text
