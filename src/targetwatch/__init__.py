"""targetwatch: track declared targets against time-series indicators.

Importing the package is cheap: the library API below is loaded on first use, and no plugin
runs until a registry is built.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

from .hookspecs import hookimpl

__version__ = "0.1.0"

__all__ = [
    "CheckResult", "Config", "Dataset", "Engine", "Indicator", "Period", "Calendar", "Registry",
    "Rule", "Series", "Status", "Verdict", "__version__", "evaluate", "hookimpl", "load_config",
    "load_rules",
]

_LAZY = {
    "CheckResult": "engine", "Engine": "engine", "evaluate": "engine",
    "Config": "config", "load_config": "config", "load_rules": "rules", "Dataset": "data",
    "Indicator": "model", "Rule": "model", "Series": "model", "Status": "model", "Verdict": "model",
    "Period": "periods", "Calendar": "periods", "Registry": "plugins",
}

if TYPE_CHECKING:
    from .config import Config, load_config
    from .data import Dataset
    from .engine import CheckResult, Engine, evaluate
    from .model import Indicator, Rule, Series, Status, Verdict
    from .periods import Calendar, Period
    from .plugins import Registry
    from .rules import load_rules


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'targetwatch' has no attribute {name!r}")
    value = getattr(import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value
