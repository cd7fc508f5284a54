"""Registries that let the apps above core plug their parts into core's machinery.

Core is the bottom layer: it imports no other app. Each app registers its own parts from its
``AppConfig.ready()``:

* **home panels** (``register_home_panel``): what each role's home page shows. The home view
  (``core.views.home``) picks the page by role and merges the context of every panel
  registered for that audience;
* **daily jobs** (``register_daily_job``): the management commands ``manage.py run_daily``
  runs once a day (the embedded installation's timers).

The other registries live with what they serve: stored-file retention rules
(``core.files.register_retention``), the actor provider (``core.access``), the audit writer
(``core.auditing``), export kinds (``nqihub.downloads.registry``) and audit action labels
(``nqihub.audit.actions``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

# --- Home panels ---------------------------------------------------------------------------

#: Who a home page is for, in the order ``core.views.home`` tries them.
HOME_AUDIENCES = ("system_admin", "security_admin", "audit_admin", "regulator", "organization", "applicant")


@dataclass(frozen=True)
class HomePanel:
    """``provide(user)`` returns template context: merged into the page's context, or set
    under ``key`` when one is given."""

    name: str
    provide: Callable[[Any], dict]
    audiences: frozenset[str]
    key: str | None = None


_HOME_PANELS: dict[str, HomePanel] = {}


def register_home_panel(
    name: str, provide: Callable[[Any], dict], *, audiences: Iterable[str], key: str | None = None
) -> None:
    """Register (or replace, by ``name``) a panel of the home pages of ``audiences``."""
    wanted = frozenset(audiences)
    unknown = wanted - set(HOME_AUDIENCES)
    if unknown:
        raise ValueError(f"Unknown home page audience: {', '.join(sorted(unknown))}")
    _HOME_PANELS[name] = HomePanel(name=name, provide=provide, audiences=wanted, key=key)


def home_panels(audience: str) -> list[HomePanel]:
    """The panels of one audience's home page, in registration order."""
    return [panel for panel in _HOME_PANELS.values() if audience in panel.audiences]


def home_context(user: Any, audience: str) -> dict:
    context: dict = {}
    for panel in home_panels(audience):
        provided = panel.provide(user)
        if panel.key is None:
            context.update(provided)
        else:
            context[panel.key] = provided
    return context


# --- Daily jobs ----------------------------------------------------------------------------


@dataclass(frozen=True)
class DailyJob:
    command: str
    order: int


_DAILY_JOBS: dict[str, DailyJob] = {}


def register_daily_job(command: str, *, order: int) -> None:
    """Have ``manage.py run_daily`` run the management command ``command`` every day; jobs
    run by ascending ``order``."""
    _DAILY_JOBS[command] = DailyJob(command=command, order=order)


def daily_jobs() -> list[str]:
    """The registered daily commands, in the order they run."""
    return [job.command for job in sorted(_DAILY_JOBS.values(), key=lambda job: (job.order, job.command))]
