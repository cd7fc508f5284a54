"""Per-request facts that deep layers need without threading the request through them.

The audit trail records the source address and groups the records of one user operation
under one request id (as Wagtail does); services take the acting user explicitly, but the
network facts come from here. Management commands run with the channel "cli" (set in
manage.py); a background task wraps its work in ``task_context()``, so each run has its own
request id and the channel "task".
"""

from __future__ import annotations

import contextlib
import contextvars
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field


@dataclass(frozen=True)
class RequestContext:
    request_id: str = field(default_factory=lambda: uuid.uuid4().hex)
    source_address: str = ""
    user_agent: str = ""
    channel: str = "system"  # web, api, cli, task, system


_current: contextvars.ContextVar[RequestContext | None] = contextvars.ContextVar("nqihub_request_context", default=None)


def current() -> RequestContext:
    ctx = _current.get()
    if ctx is None:
        ctx = RequestContext()
        _current.set(ctx)
    return ctx


@contextmanager
def use(ctx: RequestContext) -> Iterator[RequestContext]:
    token = _current.set(ctx)
    try:
        yield ctx
    finally:
        _current.reset(token)


def task_context() -> contextlib.AbstractContextManager[RequestContext]:
    """The context of one background task run: its own request id, channel "task"."""
    return use(RequestContext(channel="task"))
