"""The kinds of export that can run in the background, registered by the apps that own them.

An app registers each of its exports once, in its ``AppConfig.ready``::

    register_export("metrology.instruments", _("Instrument ledger"), build, model=Instrument)

``build(user, params)`` returns ``(headers, rows)``: the column headers and an iterator of
rows. It must apply the search to what ``user`` may see *now* (``for_user``), because it runs
in the task, perhaps long after the person asked; and it must produce the rows in chunks
(``.iterator(chunk_size=…)``), never all of them in memory. Optional: ``count(user, params)``
gives the number of rows to expect (for the progress shown on the downloads page),
``allowed(user)`` whether the person may ask for this export at all, ``model`` the model the
audit record names (what was exported), ``terms(user, params)`` the search as (label, value)
pairs in the reader's language for the lines above the header (without it the parameters are
written as given).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

Build = Callable[[Any, Mapping[str, str]], tuple[Sequence[str], Iterable[Sequence]]]


@dataclass(frozen=True)
class ExportKind:
    kind: str
    title: Any  # text, usually lazy: read in the language of the person asking
    build: Build
    model: Any = None
    count: Callable[[Any, Mapping[str, str]], int] | None = None
    allowed: Callable[[Any], bool] | None = None
    terms: Callable[[Any, Mapping[str, str]], list[tuple[str, str]]] | None = None


_registry: dict[str, ExportKind] = {}


def register_export(
    kind: str,
    title,
    build: Build,
    *,
    model=None,
    count: Callable[[Any, Mapping[str, str]], int] | None = None,
    allowed: Callable[[Any], bool] | None = None,
    terms: Callable[[Any, Mapping[str, str]], list[tuple[str, str]]] | None = None,
) -> None:
    """Register (or replace) the export called ``kind``."""
    _registry[kind] = ExportKind(
        kind=kind, title=title, build=build, model=model, count=count, allowed=allowed, terms=terms
    )


def get_export(kind: str) -> ExportKind | None:
    return _registry.get(kind)


def registered_exports() -> dict[str, ExportKind]:
    return dict(_registry)
