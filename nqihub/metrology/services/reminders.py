"""Due-date reminders for mandatory verification, and the traffic-light lists.

Every day ``send_due_reminders`` finds the mandatory, not scrapped instruments whose
verification falls due within a reminder stage (30, 15 and 7 days before the due date by
default: ``MetrologyPolicy.reminder_days``, editable data) or has passed (stage ``-1``), and
tells each enterprise once per stage: one ``ReminderLog`` row per instrument, due date and
stage (unique, so nothing is sent twice), one in-app notice per organisation and stage, and
one email per organisation to its contacts and members. A run writes one audit record.

Stages are windows, not exact days, so a missed day (a server down over a weekend, an
instrument imported with a near due date) still sends the reminder: an instrument due in
``d`` days (0 <= d) belongs to the most urgent stage ``N`` with ``d <= N`` — with the default
stages 30 (15 < d <= 30), 15 (7 < d <= 15) or 7 (0 <= d <= 7) — and an instrument past its
due date to stage -1. Only that one stage is sent: an instrument first seen 10 days before
its due date gets the 15-day reminder, never a late 30-day one as well. A new due date (after
verification) starts the stages again.

The selection is set based: one query per stage, a range on ``next_due_on`` through the
index ``instrument_due_idx`` (is_mandatory, status, next_due_on), with ``NOT EXISTS`` against
``ReminderLog``'s unique index for "not sent yet"; rows are streamed in chunks. Nothing loops
over all instruments in Python (``bench/reminder_bench.py`` times it over 1,000,000).

The second half of the module holds the reads of the due lists (the enterprise's own and the
regulator's jurisdiction), shared by the page, its Excel export and ``/api/v1/due-instruments/``,
with ``due_status`` the one definition of the colours.
"""

from __future__ import annotations

import heapq
import logging
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import partial

from django.conf import settings
from django.core.mail import send_mass_mail
from django.db import connection, models, transaction
from django.db.models import Count, Exists, OuterRef, Q, QuerySet
from django.db.models.constants import OnConflict
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext, ngettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _
from django_filters import rest_framework as filters

from nqihub.audit.actions import register as register_audit_action
from nqihub.audit.services import audit_record
from nqihub.notifications.models import Notice

from ..models import Instrument, ReminderLog
from ..selectors import InstrumentFilter, ListExport, fit_search
from .policy import current_policy

logger = logging.getLogger(__name__)

register_audit_action("reminder.run", _("Due reminders sent"))

OVERDUE = -1
DEFAULT_STAGES = (30, 15, 7)
# Scrapped instruments are never reminded; stopped ones are (they must be verified before
# they are used again, and the enterprise decides whether to scrap them).
REMINDED_STATUSES = (Instrument.Status.IN_USE, Instrument.Status.STOPPED)
NOTICE_KIND = "due_reminder"
# How many instruments a notice names before it says "and N more".
NAMED_IN_NOTICE = 10
CHUNK_SIZE = 2000

# --- Colours ---------------------------------------------------------------------------------


class DueColour(models.TextChoices):
    RED = "red", _("Overdue")
    AMBER = "amber", _("Due soon")
    GREEN = "green", _("Not due soon")
    GREY = "grey", _("No due date")


# The colour as a word in exports (officials filter spreadsheets by it): 红 / 黄 / 绿 / 灰.
COLOUR_WORDS = {
    DueColour.RED: pgettext_lazy("due status colour", "Red"),
    DueColour.AMBER: pgettext_lazy("due status colour", "Amber"),
    DueColour.GREEN: pgettext_lazy("due status colour", "Green"),
    DueColour.GREY: pgettext_lazy("due status colour", "Grey"),
}


def reminder_stages() -> list[int]:
    """The policy's stages (days before the due date), largest first; the defaults when the
    policy row has not been made or lists none."""
    stages = current_policy().reminder_stages()
    return [s for s in stages if s >= 0] or list(DEFAULT_STAGES)


def amber_days(stages: Sequence[int] | None = None) -> int:
    """An instrument is amber from the first reminder stage on (30 days by default)."""
    return max(stages or reminder_stages())


def due_status(next_due_on: date | None, today: date, *, is_mandatory: bool = True, window: int = 30) -> str:
    """The traffic light of one instrument: red when its verification is overdue, amber when
    it falls due within ``window`` days (today included), green otherwise or when it is not
    subject to mandatory verification; grey for a mandatory instrument with no due date yet
    (never verified on the platform)."""
    if not is_mandatory:
        return DueColour.GREEN
    if next_due_on is None:
        return DueColour.GREY
    if next_due_on < today:
        return DueColour.RED
    if next_due_on <= today + timedelta(days=window):
        return DueColour.AMBER
    return DueColour.GREEN


def colour_q(colour: str, today: date, *, window: int) -> Q:
    """``due_status`` as a filter (ranges on ``next_due_on``, so the index serves it)."""
    limit = today + timedelta(days=window)
    return {
        DueColour.RED: Q(next_due_on__lt=today),
        DueColour.AMBER: Q(next_due_on__gte=today, next_due_on__lte=limit),
        DueColour.GREEN: Q(next_due_on__gt=limit),
        DueColour.GREY: Q(next_due_on__isnull=True),
    }[colour]


# --- Selection -------------------------------------------------------------------------------


def stage_windows(today: date, stages: Sequence[int]) -> list[tuple[int, date | None, date | None]]:
    """``(stage, after, until)`` per stage: the stage applies when ``after < next_due_on <=
    until`` (an open end is None). Most urgent first: overdue, then the smallest stage."""
    ordered = sorted({int(s) for s in stages if int(s) >= 0})
    windows: list[tuple[int, date | None, date | None]] = [(OVERDUE, None, today - timedelta(days=1))]
    after = today - timedelta(days=1)
    for stage in ordered:
        until = today + timedelta(days=stage)
        windows.append((stage, after, until))
        after = until
    return windows


def stage_queryset(stage: int, after: date | None, until: date | None) -> QuerySet[Instrument]:
    """The instruments in one stage's window that have not had that stage's reminder for
    their current due date."""
    sent = ReminderLog.objects.filter(instrument_id=OuterRef("pk"), due_on=OuterRef("next_due_on"), stage=stage)
    # ``is_mandatory IN (true)`` rather than ``is_mandatory = true``: Django writes the latter as
    # the bare column, which SQLite cannot match to the index's first column without ANALYZE
    # statistics (it then scans the whole table); IN is an equality to it, and to PostgreSQL.
    qs = Instrument.objects.filter(is_mandatory__in=[True], status__in=REMINDED_STATUSES, next_due_on__isnull=False)
    if after is not None:
        qs = qs.filter(next_due_on__gt=after)
    if until is not None:
        qs = qs.filter(next_due_on__lte=until)
    # No ordering: the model's default (organisation, pk) would sort the whole selection.
    return qs.filter(~Exists(sent)).order_by()


def _chunk_size(requested: int) -> int:
    # A query's parameters are limited (999 on older SQLite); read-backs pass a chunk's ids.
    limit = connection.features.max_query_params
    return max(1, min(requested, limit - 10)) if limit else requested


def select_due(
    today: date, stages: Sequence[int] | None = None, *, chunk_size: int = CHUNK_SIZE
) -> Iterator[tuple[int, list[tuple[int, int, date]]]]:
    """The reminders to send ``today``: ``(stage, [(instrument_id, organization_id, due_on),
    ...])`` chunks, one query per stage, streamed. Each instrument is in at most one stage."""
    stages = reminder_stages() if stages is None else stages
    size = _chunk_size(chunk_size)
    for stage, after, until in stage_windows(today, stages):
        rows = stage_queryset(stage, after, until).values_list("pk", "organization_id", "next_due_on")
        chunk: list[tuple[int, int, date]] = []
        for row in rows.iterator(chunk_size=size):
            chunk.append(row)
            if len(chunk) >= size:
                yield stage, chunk
                chunk = []
        if chunk:
            yield stage, chunk


# --- Sending ---------------------------------------------------------------------------------


@dataclass
class _Group:
    """What one organisation is told about one stage: a count and the most urgent few."""

    count: int = 0
    # A max-heap (negated) of the NAMED_IN_NOTICE earliest (due_on ordinal, instrument id).
    urgent: list[tuple[int, int]] = field(default_factory=list)

    def add(self, instrument_id: int, due_on: date) -> None:
        self.count += 1
        item = (-due_on.toordinal(), -instrument_id)
        if len(self.urgent) < NAMED_IN_NOTICE:
            heapq.heappush(self.urgent, item)
        elif item > self.urgent[0]:
            heapq.heapreplace(self.urgent, item)

    def named_ids(self) -> list[int]:
        return [-i for _, i in sorted(self.urgent, reverse=True)]


def _load_addresses(organization_ids: set[int], into: dict[int, list[str]]) -> None:
    """The email addresses of organisations: their contacts' and their active members'."""
    from nqihub.organizations.models import Membership, OrganizationContact

    found: dict[int, set[str]] = {pk: set() for pk in organization_ids}
    ids = list(organization_ids)
    size = _chunk_size(CHUNK_SIZE)
    for start in range(0, len(ids), size):
        part = ids[start : start + size]
        contacts = OrganizationContact.objects.filter(organization_id__in=part).exclude(email="")
        members = Membership.objects.active().filter(organization_id__in=part).exclude(user__email="")
        for org_id, email in [
            *contacts.values_list("organization_id", "email"),
            *members.values_list("organization_id", "user__email"),
        ]:
            found[org_id].add(email.strip().lower())
    for org_id, emails in found.items():
        into[org_id] = sorted(e for e in emails if e)


def _stage_title(stage: int, count: int) -> str:
    if stage == OVERDUE:
        return ngettext(
            "%(count)d measuring instrument is overdue for mandatory verification",
            "%(count)d measuring instruments are overdue for mandatory verification",
            count,
        ) % {"count": count}
    return ngettext(
        "%(count)d measuring instrument is due for mandatory verification within %(days)d days",
        "%(count)d measuring instruments are due for mandatory verification within %(days)d days",
        count,
    ) % {"count": count, "days": stage}


def _notice_body(group: _Group, names: dict[int, tuple[str, str, str]], due: dict[int, date]) -> str:
    lines = []
    for pk in group.named_ids():
        name, factory_number, code = names.get(pk, ("", "", ""))
        lines.append(
            gettext("%(name)s (factory number %(number)s, platform code %(code)s), due %(due)s")
            % {"name": name, "number": factory_number, "code": code, "due": due[pk].isoformat()}
        )
    more = group.count - len(lines)
    if more > 0:
        lines.append(ngettext("and %(count)d more", "and %(count)d more", more) % {"count": more})
    return "\n".join(lines)


def _send_emails(messages: list[tuple[str, str, str, list[str]]]) -> None:
    """Runs after the reminders commit. A mail server failure is logged: the in-app notices
    stand, and the reminders are not sent again tomorrow by mail."""
    try:
        send_mass_mail(messages, fail_silently=False)
    except Exception:  # whatever the mail backend raises, the run has committed
        logger.exception("Due reminder emails could not be sent (%d messages)", len(messages))


class _LogInsert:
    """One prepared ``INSERT … ON CONFLICT DO NOTHING`` (``INSERT OR IGNORE`` on SQLite) for
    ``ReminderLog``, run with ``executemany`` per chunk.

    Why not ``bulk_create(ignore_conflicts=True)``: it compiles every value into the SQL text
    (a few µs each) and, on SQLite, caps a statement at 999 parameters, which made the first
    run after a large import spend most of its time there (``bench/reminder_bench.py``). The
    statement comes from the backend's own operations, so it is right for each database.
    """

    def __init__(self, *, sent_at):
        ops = connection.ops
        fields = [
            ReminderLog._meta.get_field(name) for name in ("instrument", "due_on", "stage", "sent_at", "channels")
        ]
        self.sql = "{} {} ({}) VALUES ({}) {}".format(
            ops.insert_statement(on_conflict=OnConflict.IGNORE),
            ops.quote_name(ReminderLog._meta.db_table),
            ", ".join(ops.quote_name(f.column) for f in fields),
            ", ".join(["%s"] * len(fields)),
            ops.on_conflict_suffix_sql(fields, OnConflict.IGNORE, None, None) or "",
        ).rstrip()
        self.sent_at = fields[3].get_db_prep_save(sent_at, connection)

    def execute(self, rows) -> None:
        prep = connection.ops.adapt_datefield_value
        params = [(pk, prep(due), stage, self.sent_at, channels) for pk, due, stage, channels in rows]
        with connection.cursor() as cursor:
            cursor.executemany(self.sql, params)


def send_due_reminders(*, today: date | None = None, stages: Sequence[int] | None = None) -> dict:
    """Send today's due reminders (see the module's docstring); returns the counts.

    Running it again the same day sends nothing new: the selection leaves out what
    ``ReminderLog`` holds, and of the rows written only those this run inserted (marked by
    its ``sent_at``) count as sent — so two runs at once still send each reminder once.
    """
    today = today or timezone.localdate()
    stages = reminder_stages() if stages is None else list(stages)
    now = timezone.now()
    groups: dict[tuple[int, int], _Group] = {}
    addresses: dict[int, list[str]] = {}
    sent = {str(stage): 0 for stage, _after, _until in stage_windows(today, stages)}
    batch = _chunk_size(CHUNK_SIZE)
    with transaction.atomic():
        insert = _LogInsert(sent_at=now)
        for stage, rows in select_due(today, stages, chunk_size=batch):
            unknown = {org for _pk, org, _due in rows if org not in addresses}
            if unknown:
                _load_addresses(unknown, addresses)
            insert.execute((pk, due, stage, "notice,email" if addresses[org] else "notice") for pk, org, due in rows)
            ours = set(
                ReminderLog.objects.filter(
                    instrument_id__in=[r[0] for r in rows], stage=stage, sent_at=now
                ).values_list("instrument_id", flat=True)
            )
            for pk, org, due in rows:
                if pk in ours:
                    groups.setdefault((org, stage), _Group()).add(pk, due)
            sent[str(stage)] += len(ours)

        notices, emails = _notify(groups, addresses, today=today, now=now)
        audit_record(
            action="reminder.run",
            target=("metrology.reminderlog", "", f"{today.isoformat()}"),
            details={
                "date": today.isoformat(),
                "stages": sorted(stages, reverse=True),
                "sent": sent,
                "instruments": sum(sent.values()),
                "organizations": len({org for org, _stage in groups}),
                "notices": notices,
                "emails": len(emails),
            },
        )
        if emails:
            transaction.on_commit(partial(_send_emails, emails))
    return {
        "date": today.isoformat(),
        "sent": sent,
        "instruments": sum(sent.values()),
        "organizations": len({org for org, _stage in groups}),
        "notices": notices,
        "emails": len(emails),
    }


def _notify(
    groups: dict[tuple[int, int], _Group], addresses: dict[int, list[str]], *, today: date, now
) -> tuple[int, list]:
    """One notice per organisation and stage, one email per organisation; in the platform's
    language (whoever reads them, the record reads one way)."""
    if not groups:
        return 0, []
    from nqihub.organizations.models import Organization

    named = [pk for group in groups.values() for pk in group.named_ids()]
    names: dict[int, tuple[str, str, str]] = {}
    due: dict[int, date] = {}
    size = _chunk_size(CHUNK_SIZE)
    for start in range(0, len(named), size):
        for pk, name, number, code, due_on in Instrument.objects.filter(pk__in=named[start : start + size]).values_list(
            "pk", "name", "factory_number", "platform_code", "next_due_on"
        ):
            names[pk] = (name, number, code)
            due[pk] = due_on
    org_ids = sorted({org for org, _stage in groups})
    org_names: dict[int, str] = {}
    for start in range(0, len(org_ids), size):
        org_names.update(Organization.objects.filter(pk__in=org_ids[start : start + size]).values_list("pk", "name"))

    base_keys = {stage: f"due:{today.isoformat()}:{stage}" for _org, stage in groups}
    # A second run the same day (new instruments came into a stage since): its notice gets
    # its own key, so it is not swallowed by the first one.
    taken = set(
        Notice.objects.filter(kind=NOTICE_KIND, key__in=base_keys.values()).values_list("organization_id", "key")
    )
    list_url = reverse("metrology:due_list")
    notices: list[Notice] = []
    texts: dict[int, list[str]] = {}
    with translation.override(settings.LANGUAGE_CODE):
        for (org, stage), group in sorted(groups.items(), key=lambda kv: (kv[0][0], _stage_order(kv[0][1]))):
            key = base_keys[stage]
            if (org, key) in taken:
                key = f"{key}:{now:%H%M%S%f}"
            colour = DueColour.RED if stage == OVERDUE else DueColour.AMBER
            title = _stage_title(stage, group.count)
            body = _notice_body(group, names, due)
            notices.append(
                Notice(
                    organization_id=org,
                    kind=NOTICE_KIND,
                    key=key,
                    title=title,
                    body=body,
                    link=f"{list_url}?colour={colour}",
                )
            )
            texts.setdefault(org, []).append(f"{title}\n{body}")
        subject = gettext("NQI Hub: measuring instruments due for mandatory verification")
        footer = gettext("See the list of instruments due on NQI Hub: %(url)s") % {
            "url": (settings.NQI_PUBLIC_BASE_URL or "") + list_url
        }
        emails = [
            (
                f"{subject} ({org_names.get(org, '')})",
                "\n\n".join([*parts, footer]),
                settings.DEFAULT_FROM_EMAIL,
                addresses[org],
            )
            for org, parts in texts.items()
            if addresses.get(org)
        ]
    Notice.objects.bulk_create(notices, ignore_conflicts=True)
    return len(notices), emails


def _stage_order(stage: int) -> int:
    return -1_000_000 if stage == OVERDUE else stage


# --- The due lists ---------------------------------------------------------------------------


def due_instruments_for(user, action: str = "view") -> QuerySet[Instrument]:
    """The mandatory, not scrapped instruments ``user`` may see (an enterprise its own, a
    regulator its jurisdiction's; nobody else any), most urgent first: the most overdue, then
    the soonest due, those without a due date last."""
    return (
        Instrument.objects.for_user(user, action)
        .filter(is_mandatory=True, status__in=REMINDED_STATUSES)
        .select_related("catalogue_item", "organization", "division")
        .order_by(models.F("next_due_on").asc(nulls_last=True), "pk")
    )


class DueInstrumentFilter(InstrumentFilter):
    """The ledger's filters (catalogue item, use field, status, division for regulators) and
    the colour. ``today`` and the amber window are fixed when the filter is made."""

    colour = filters.ChoiceFilter(
        choices=DueColour.choices, empty_label=_("All"), method="filter_colour", label=_("Due status")
    )
    status = filters.ChoiceFilter(
        choices=[c for c in Instrument.Status.choices if c[0] in REMINDED_STATUSES],
        empty_label=_("All"),
        label=_("Status"),
    )

    class Meta:
        model = Instrument
        fields: list[str] = []

    def __init__(self, *args, today: date | None = None, window: int | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.today = today or timezone.localdate()
        self.window = amber_days() if window is None else window
        self.filters.pop("is_mandatory", None)  # every instrument here is mandatory

    def filter_colour(self, queryset, name, value):
        return queryset.filter(colour_q(value, self.today, window=self.window)) if value else queryset


def due_search(user, data, *, action: str = "view", today: date | None = None) -> DueInstrumentFilter:
    return DueInstrumentFilter(data or None, queryset=due_instruments_for(user, action), today=today)


def due_colour_counts(queryset: QuerySet[Instrument], *, today: date, window: int) -> dict[str, int]:
    """How many instruments of each colour, in one query."""
    counts = queryset.order_by().aggregate(
        **{colour: Count("pk", filter=colour_q(colour, today, window=window)) for colour in DueColour.values}
    )
    return {colour: counts[colour] or 0 for colour in DueColour.values}


def due_export_headers() -> list[str]:
    return [
        gettext("Due status"),
        gettext("Next verification due"),
        gettext("Days left"),
        gettext("Platform code"),
        gettext("Enterprise"),
        gettext("Division"),
        gettext("Catalogue code"),
        gettext("Catalogue item"),
        gettext("Instrument name"),
        gettext("Factory number"),
        gettext("Use field"),
        gettext("Status"),
        gettext("Last verified"),
    ]


def due_export_rows(queryset: QuerySet[Instrument], *, today: date, window: int, limit: int) -> Iterator[list]:
    words = {colour: str(word) for colour, word in COLOUR_WORDS.items()}
    for i in queryset[:limit].iterator(chunk_size=2000):
        item = i.catalogue_item
        yield [
            words[due_status(i.next_due_on, today, window=window)],
            i.next_due_on,
            (i.next_due_on - today).days if i.next_due_on else None,
            i.platform_code,
            i.organization.name,
            i.division.name,
            item.code if item else "",
            item.name if item else "",
            i.name,
            i.factory_number,
            i.get_use_field_display(),
            i.get_status_display(),
            i.last_verified_on,
        ]


def _due_export(user, data):
    # One day and one amber window for the search (colour) and the rows (days left).
    today, window = timezone.localdate(), amber_days()
    search = DueInstrumentFilter(data or None, queryset=due_instruments_for(user, "export"), today=today, window=window)
    fit_search(search, user)
    return search, lambda qs, limit: due_export_rows(qs, today=today, window=window, limit=limit)


# The due list's Excel export (the page's download and the background export): it lives here,
# beside the search it exports, because the selectors must not import this module.
DUE_EXPORT = ListExport(
    kind="metrology.due",
    title=_("Instruments due for verification"),
    filename=_("instruments-due"),
    headers=due_export_headers,
    prepare=_due_export,
)
