"""The registry of case kinds (办件类型).

A domain app describes each kind of casework it runs with a ``CaseKind`` and registers it from
its ``AppConfig.ready``; the kernel never imports a domain app. A kind chooses:

- its readable number prefix (``QY``, ``BA``, ``BJ`` …): numbers read ``<prefix><year><seq>``;
- the review states it uses (a subset of ``Case.State``) and the states it may be withdrawn from;
- whether a correction after a return goes back to ``submitted`` or to ``resubmitted``;
- its promised time limit in working days (a callable, so it may be policy data), or none;
- the labels of its own timeline steps, beside the common ones;
- where its page is: ``subject``, the related name of its domain row's one-to-one link to the
  case (``registration`` …), and ``url(row)``, the owning module's page of that row, so "my
  cases" and reminders link to it without the kernel importing the module;
- whether the applicant may attach materials (``attachments``) and rates the case (``rated``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

# The kernel's states (see ``Case.State``), repeated here as plain strings so this module loads
# before the models.
DRAFT, SUBMITTED, RETURNED, RESUBMITTED = "draft", "submitted", "returned", "resubmitted"
ACCEPTED, APPROVED, REJECTED, WITHDRAWN = "accepted", "approved", "rejected", "withdrawn"
ALL_STATES = frozenset({DRAFT, SUBMITTED, RETURNED, RESUBMITTED, ACCEPTED, APPROVED, REJECTED, WITHDRAWN})

# Timeline steps every kind shares, by the step's code; a kind adds or rewords its own.
COMMON_STEPS: Mapping[str, object] = {
    "opened": _("Opened"),
    "submitted": _("Submitted"),
    "returned": _("Returned for correction"),
    "resubmitted": _("Corrected and resubmitted"),
    "accepted": _("Accepted"),
    "approved": _("Approved"),
    "rejected": _("Rejected"),
    "withdrawn": _("Withdrawn"),
    "closed": _("Closed"),
    "rated": _("Rated"),
    "attached": _("File attached"),
}


@dataclass(frozen=True)
class CaseKind:
    code: str
    prefix: str
    label: object
    states: frozenset[str]
    withdraw_from: frozenset[str] = frozenset()
    resubmit_to: str = SUBMITTED
    # Working days from submission to the promised answer; ``None``: no time limit.
    time_limit: Callable[[], int | None] | None = None
    steps: Mapping[str, object] = field(default_factory=dict)
    # Whether its cases are rated by the applicant (好差评) once decided.
    rated: bool = False
    # Whether the applicant may attach materials (申请材料) on the case's page while it is open.
    attachments: bool = False
    sequence_digits: int = 6
    # Labels of its named deadlines (``CaseDeadline.code`` → label), beside the promised answer.
    deadlines: Mapping[str, object] = field(default_factory=dict)
    # The domain row's related name on ``Case`` and the URL of its page (see the module doc).
    subject: str = ""
    url: Callable[[Any], str] | None = field(default=None, compare=False)

    def __post_init__(self) -> None:
        unknown = set(self.states) - ALL_STATES
        if unknown:
            raise ValueError(f"case kind {self.code}: unknown states {sorted(unknown)}")
        if not (
            self.prefix.isascii() and self.prefix.isalpha() and self.prefix.isupper() and 1 <= len(self.prefix) <= 6
        ):
            raise ValueError(f"case kind {self.code}: the prefix must be 1-6 capital letters")
        if self.resubmit_to not in (SUBMITTED, RESUBMITTED):
            raise ValueError(f"case kind {self.code}: resubmit_to is submitted or resubmitted")

    def uses(self, state: str) -> bool:
        return state in self.states

    def step_label(self, step: str):
        if step.startswith("deadline_") and step not in self.steps:
            return format_lazy(_("Time limit started: {}"), self.deadline_label(step.removeprefix("deadline_")))
        return self.steps.get(step) or COMMON_STEPS.get(step) or step

    def deadline_label(self, code: str):
        return self.deadlines.get(code) or code

    def format_number(self, year: int, seq: int) -> str:
        return f"{self.prefix}{year:04d}{seq:0{self.sequence_digits}d}"

    def number_stem(self, year: int) -> str:
        return f"{self.prefix}{year:04d}"

    def page_url(self, case) -> str:
        """The owning module's page of ``case`` ("" when the kind names none)."""
        if self.url is None or not self.subject:
            return ""
        row = getattr(case, self.subject, None)
        return self.url(row) if row is not None else ""

    @property
    def number_length(self) -> int:
        return len(self.prefix) + 4 + self.sequence_digits


_KINDS: dict[str, CaseKind] = {}


def register(kind: CaseKind) -> CaseKind:
    """Register ``kind`` (idempotent for the same description; a different one under a code or
    prefix already taken is a programming error)."""
    existing = _KINDS.get(kind.code)
    if existing is not None and existing != kind:
        raise ValueError(f"case kind {kind.code} is already registered differently")
    for other in _KINDS.values():
        if other.code != kind.code and other.prefix == kind.prefix:
            raise ValueError(f"case kind {kind.code}: prefix {kind.prefix} is taken by {other.code}")
    _KINDS[kind.code] = kind
    return kind


def get(code: str) -> CaseKind:
    try:
        return _KINDS[code]
    except KeyError:
        raise LookupError(f"no case kind {code!r} is registered") from None


def all_kinds() -> list[CaseKind]:
    return sorted(_KINDS.values(), key=lambda k: k.code)


def choices() -> list[tuple[str, object]]:
    return [(k.code, k.label) for k in all_kinds()]


def subjects() -> list[str]:
    """The related names of every kind's domain row (for ``select_related`` on a case list)."""
    return sorted({k.subject for k in _KINDS.values() if k.subject})
