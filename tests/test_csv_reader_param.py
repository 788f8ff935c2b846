"""The ``csv`` source's ``reader`` parameter: which reader builds the dataset, and when."""

from __future__ import annotations

import sys
import types
from pathlib import Path
from typing import Any

import pytest

from targetwatch.data import Dataset
from targetwatch.default_plugins import csv_source
from targetwatch.default_plugins.csv_source import CsvParams, CsvSource
from targetwatch.errors import SourceError
from targetwatch.model import Series
from targetwatch.params import ParseContext, parse
from targetwatch.periods import Calendar
from targetwatch.source import SourceContext, SourceRequest

MODULE = "targetwatch.default_plugins.arrow_reader"
CAL = Calendar("UTC")


def open_source(tmp_path: Path, reader: str | None) -> Any:
    (tmp_path / "data.csv").write_text("indicator,period,value\na,2023-01,1\na,2023-02,2\n", encoding="utf-8")
    raw = {"path": "data.csv"} | ({} if reader is None else {"reader": reader})
    params, problems = parse(CsvParams, raw, ParseContext())
    assert params is not None and not problems
    return CsvSource().open(params, SourceContext("obs", tmp_path, lambda p: None, CAL))


def periods(data: Dataset) -> list[list[str]]:
    return [[str(p) for p in s.periods] for s in data]


class FakeArrow:
    """Stands in for the pyarrow reader module; records its calls."""

    def __init__(self, result: Dataset | None | Exception) -> None:
        self.result = result
        self.calls = 0
        self.module = types.ModuleType(MODULE)
        self.module.read_csv_dataset = self  # type: ignore[attr-defined]

    def __call__(self, params: CsvParams, context: SourceContext, path: Path, request: SourceRequest, rows: Any) -> Dataset | None:
        self.calls += 1
        assert params.path == "data.csv" and context.name == "obs" and path.name == "data.csv"
        if isinstance(self.result, Exception):
            raise self.result
        return self.result


def install(monkeypatch: pytest.MonkeyPatch, fake: FakeArrow, *, pyarrow: bool = True) -> None:
    monkeypatch.setitem(sys.modules, MODULE, fake.module)
    monkeypatch.setattr(csv_source, "have_pyarrow", lambda: pyarrow)
    monkeypatch.setattr(csv_source, "AUTO_ARROW_BYTES", 0)


def test_default_is_auto(tmp_path: Path) -> None:
    assert open_source(tmp_path, None).params.reader == "auto"
    _, problems = parse(CsvParams, {"path": "d.csv", "reader": "pandas"}, ParseContext())
    assert problems and "reader" in str(problems[0]) and "'pandas'" in str(problems[0])


def test_python_never_asks_the_arrow_reader(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fake = FakeArrow(AssertionError("the arrow reader was asked"))
    install(monkeypatch, fake)
    data = open_source(tmp_path, "python").read_dataset(SourceRequest(), lambda n: None)
    assert periods(data) == [["2023-01", "2023-02"]] and fake.calls == 0


def test_auto_uses_the_arrow_reader_when_pyarrow_is_installed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    made = Dataset([Series("z", (), (), (), "obs")])
    fake = FakeArrow(made)
    install(monkeypatch, fake)
    for reader in ("auto", "arrow"):
        assert open_source(tmp_path, reader).read_dataset(SourceRequest(), lambda n: None) is made
    assert fake.calls == 2


def test_auto_reads_a_small_file_without_pyarrow(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fake = FakeArrow(AssertionError("the arrow reader was asked"))
    install(monkeypatch, fake)
    source = open_source(tmp_path, "auto")
    monkeypatch.setattr(csv_source, "AUTO_ARROW_BYTES", source.path.stat().st_size + 1)
    assert periods(source.read_dataset(SourceRequest(), lambda n: None)) == [["2023-01", "2023-02"]] and fake.calls == 0
    monkeypatch.setattr(csv_source, "AUTO_ARROW_BYTES", source.path.stat().st_size)
    fake.result = None  # asked, then stands aside
    assert periods(source.read_dataset(SourceRequest(), lambda n: None)) == [["2023-01", "2023-02"]] and fake.calls == 1
    made = Dataset([Series("z", (), (), (), "obs")])
    fake.result = made
    assert open_source(tmp_path, "arrow").read_dataset(SourceRequest(), lambda n: None) is made  # arrow: whatever the size


def test_auto_and_arrow_fall_back_when_the_arrow_reader_cannot_take_the_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fake = FakeArrow(None)
    install(monkeypatch, fake)
    for reader in ("auto", "arrow"):
        assert periods(open_source(tmp_path, reader).read_dataset(SourceRequest(), lambda n: None)) == [["2023-01", "2023-02"]]
    assert fake.calls == 2


def test_auto_without_pyarrow_reads_in_python(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fake = FakeArrow(AssertionError("the arrow reader was asked"))
    install(monkeypatch, fake, pyarrow=False)
    data = open_source(tmp_path, "auto").read_dataset(SourceRequest(), lambda n: None)
    assert periods(data) == [["2023-01", "2023-02"]] and fake.calls == 0


def test_arrow_without_pyarrow_is_an_error_when_opened(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    install(monkeypatch, FakeArrow(None), pyarrow=False)
    with pytest.raises(SourceError) as info:
        open_source(tmp_path, "arrow")
    assert str(info.value) == "source 'obs': reader = \"arrow\" needs pyarrow: pip install 'targetwatch[fast]'"


def test_an_arrow_reader_that_does_not_import(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, MODULE, None)  # importing it raises ImportError
    monkeypatch.setattr(csv_source, "have_pyarrow", lambda: True)
    monkeypatch.setattr(csv_source, "AUTO_ARROW_BYTES", 0)
    assert periods(open_source(tmp_path, "auto").read_dataset(SourceRequest(), lambda n: None)) == [["2023-01", "2023-02"]]
    with pytest.raises(SourceError, match="needs pyarrow"):
        open_source(tmp_path, "arrow").read_dataset(SourceRequest(), lambda n: None)
