"""The rules of an instrument record, in one place.

The ledger form, the API and the Excel/CSV import all clean input with
``clean_instrument_input``: the same values are accepted and the same messages given
("第 17 行 出厂编号：…" in the import is this module's message with a row number). It is pure
(no queries): callers pass the catalogue as a lookup, so the import can check 100,000 rows
without a query per row.
"""

from __future__ import annotations

from collections import ChainMap
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from operator import itemgetter

from django.utils import translation
from django.utils.translation import gettext, ngettext, pgettext
from django.utils.translation import gettext as _

from nqihub.tables.columns import Column

from .models import CatalogueItem, Instrument, UseField, is_mandatory

# The ledger's columns, in template order. Headers are fixed strings (not translated at run
# time) because they identify columns in files that travel between people and systems.
COLUMNS: tuple[Column, ...] = (
    Column("catalogue_item", "目录编号或器具名称", "Catalogue code or item name"),
    Column("name", "器具名称", "Instrument name", required=True, max_length=100),
    Column("model_spec", "型号规格", "Model / specification", max_length=100),
    Column("measuring_range", "测量范围", "Measuring range", max_length=100),
    Column("accuracy_class", "准确度等级", "Accuracy class", max_length=50),
    Column("factory_number", "出厂编号", "Factory number", required=True, max_length=64),
    Column("manufacturer", "制造单位", "Manufacturer", max_length=200),
    Column("location", "安装使用地点", "Location", max_length=200),
    Column("use_field", "使用领域", "Use field", required=True),
    Column("status", "使用状态", "Status"),
)
COLUMN_BY_FIELD = {c.field: c for c in COLUMNS}
_TEXT_RULES = tuple((c.field, c.required, c.max_length) for c in COLUMNS)


@dataclass
class CleanResult:
    data: dict = field(default_factory=dict)
    errors: list[tuple[str, str]] = field(default_factory=list)  # (field, message)

    @property
    def ok(self) -> bool:
        return not self.errors


def _labels(choices) -> dict[str, str]:
    """Every way a person may write a choice — its code, its Chinese and its English label —
    mapped to the code."""
    accepted: dict[str, str] = {}
    for value, label in choices:
        accepted[str(value).lower()] = value
        for language in ("zh-hans", "en"):
            with translation.override(language):
                accepted[str(label).strip().lower()] = value
    return accepted


# Short forms in everyday use on Chinese ledgers.
_USE_FIELD_ALIASES = {
    "贸易结算": UseField.TRADE,
    "安全防护": UseField.SAFETY,
    "医疗卫生": UseField.MEDICAL,
    "环境监测": UseField.ENVIRONMENT,
    "其他": UseField.OTHER,
}
_STATUS_ALIASES = {
    "在用": Instrument.Status.IN_USE,
    "停用": Instrument.Status.STOPPED,
    "报废": Instrument.Status.SCRAPPED,
}


def _lookup_tables() -> tuple[dict[str, str], dict[str, str]]:
    use = _labels(UseField.choices) | {k.lower(): v for k, v in _USE_FIELD_ALIASES.items()}
    status = _labels(Instrument.Status.choices) | {k.lower(): v for k, v in _STATUS_ALIASES.items()}
    return use, status


def catalogue_lookup(items) -> dict[str, CatalogueItem]:
    """Catalogue items by code and by name (both accepted in the ledger's first column)."""
    table: dict[str, CatalogueItem] = {}
    for item in items:
        table[item.code.strip().lower()] = item
        table.setdefault(item.name.strip().lower(), item)
    return table


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # Excel hands back 12345.0 for a number typed as 12345
    return str(value).strip()


def catalogue_keeping(table: Mapping[str, CatalogueItem], item: CatalogueItem | None) -> Mapping[str, CatalogueItem]:
    """``table`` (the items in force, from ``catalogue_lookup``) plus ``item``, an instrument's
    current item: a record may keep an item that has since gone out of force, but not choose
    one. Costs no copy of ``table``, so it can be used for every row of an import."""
    if item is None:
        return table
    return ChainMap(table, {item.code.strip().lower(): item})


def clean_instrument_input(
    raw: Mapping[str, object],
    *,
    catalogue: Mapping[str, CatalogueItem],
    use_fields: dict[str, str] | None = None,
    statuses: dict[str, str] | None = None,
    default_status: str | None = Instrument.Status.IN_USE,
) -> CleanResult:
    """Clean one instrument's input. ``raw`` maps field names to what the person typed.

    Returns the cleaned values (``catalogue_item`` as an object or None, ``is_mandatory``
    computed) and a list of (field, message) errors. Pass ``use_fields``/``statuses`` from
    ``lookup_tables()`` when cleaning many rows, to build them once. An empty status is
    ``default_status``: in use, or None where the caller decides (the import keeps the
    status of an instrument already in the ledger).

    One record is a batch of one for ``clean_instrument_columns``: the rules are written once.
    """
    get = raw.get
    batch = clean_instrument_columns(
        {name: (get(name),) for name in FIELDS},
        1,
        catalogue=catalogue,
        use_fields=use_fields,
        statuses=statuses,
        default_status=default_status,
    )
    result = CleanResult()
    result.errors = [(name, message) for _row, name, message in batch.errors]
    data = result.data
    for name in FIELDS:
        if (0, name) not in batch.refused_text:  # refused text is no value of the record
            data[name] = batch.values[name][0]
    if not result.errors:
        data["is_mandatory"] = batch.values["is_mandatory"][0]
    return result


FIELDS = tuple(c.field for c in COLUMNS)
_STR = frozenset({str})


@dataclass
class CleanedColumns:
    """A batch of instruments' input, cleaned column by column: ``values`` maps each field of
    ``FIELDS`` (and ``is_mandatory``) to one value per row; ``errors`` are (row index, field,
    message), in the order ``clean_instrument_input`` gives them, row after row. A value the
    rules refused is None, or the refused text's place holds "" (never used: its row failed);
    ``refused_text`` names the (row index, field) whose text was refused (empty or too long)
    before any lookup."""

    values: dict[str, list]
    errors: list[tuple[int, str, str]]
    refused_text: set[tuple[int, str]]


def clean_instrument_columns(
    columns: Mapping[str, Sequence[object]],
    count: int,
    *,
    catalogue: Mapping[str, CatalogueItem],
    use_fields: dict[str, str] | None = None,
    statuses: dict[str, str] | None = None,
    default_status: str | None = Instrument.Status.IN_USE,
) -> CleanedColumns:
    """Clean ``count`` instruments at once: ``columns`` maps field names to what the people
    typed, one value per row (a field left out is empty in every row). The rules of
    ``clean_instrument_input``, applied a column at a time so that an import of 100,000 rows
    makes no object per row: the same values accepted, the same messages, in the same order.
    Each distinct text of a column with choices is looked up once per batch, and each distinct
    (catalogue item, use field) pair asks ``models.is_mandatory`` once."""
    if use_fields is None or statuses is None:
        use_fields, statuses = _lookup_tables()
    values: dict[str, list] = {}
    # (row index, order of the check within a row, field, message): sorted at the end.
    found: list[tuple[int, int, str, str]] = []
    blank = ("",) * count
    for order, (name, required, max_length) in enumerate(_TEXT_RULES):
        given = columns.get(name)
        if given is None:
            cleaned = list(blank)
        else:
            # Text is the usual case (an import checks 100,000 rows): a column of text only is
            # stripped without a Python call per value.
            cleaned = (
                list(map(str.strip, given))
                if set(map(type, given)) <= _STR
                else [value.strip() if value.__class__ is str else _text(value) for value in given]
            )
        if required and "" in cleaned:
            message = _("This field is required.")
            found += [(at, order, name, message) for at, value in enumerate(cleaned) if not value]
        if max_length and cleaned and max(map(len, cleaned)) > max_length:
            for at, value in enumerate(cleaned):
                if len(value) > max_length:
                    found.append(
                        (
                            at,
                            order,
                            name,
                            _("At most %(max)d characters (%(count)d given).")
                            % {"max": max_length, "count": len(value)},
                        )
                    )
                    cleaned[at] = ""  # refused: not a value of the record
        values[name] = cleaned
    order = len(_TEXT_RULES)

    codes = values["catalogue_item"]
    items_by_code = {code: catalogue.get(code.lower()) for code in set(codes) if code}
    missing = {code for code, item in items_by_code.items() if item is None}
    if missing:
        for at, code in enumerate(codes):
            if code in missing:
                message = _("“%(value)s” is not in the catalogue: give its code (e.g. 5.1) or its exact name.") % {
                    "value": code
                }
                found.append((at, order, "catalogue_item", message))
    values["catalogue_item"] = list(map(items_by_code.get, codes))  # "" (none given): None

    texts = values["use_field"]
    uses_by_text = {text: use_fields.get(text.lower()) for text in set(texts) if text}
    if None in uses_by_text.values():
        message = _(
            "Use field must be one of: trade settlement, safety protection, medical care, environmental monitoring, other."
        )
        for at, text in enumerate(texts):
            if text and uses_by_text[text] is None:
                found.append((at, order + 1, "use_field", message))
    uses = values["use_field"] = list(map(uses_by_text.get, texts))  # "" (required, refused): None

    texts = values["status"]
    status_by_text = {text: statuses.get(text.lower()) for text in set(texts) if text}
    if None in status_by_text.values():
        message = _("Status must be one of: in use, stopped, scrapped.")
        for at, text in enumerate(texts):
            if text and status_by_text[text] is None:
                found.append((at, order + 2, "status", message))
    status_by_text[""] = default_status
    values["status"] = list(map(status_by_text.__getitem__, texts))

    # The one definition of "mandatory", asked once per distinct pair of the batch.
    pairs = list(zip(codes, uses, strict=True))
    mandatory = {pair: is_mandatory(items_by_code.get(pair[0]), pair[1]) for pair in set(pairs) if pair[1] is not None}
    values["is_mandatory"] = list(map(mandatory.get, pairs))

    found.sort(key=itemgetter(0, 1))
    return CleanedColumns(
        values=values,
        errors=[(at, name, message) for at, _o, name, message in found],
        refused_text={(at, name) for at, check, name, _m in found if check < len(_TEXT_RULES)},
    )


def lookup_tables() -> tuple[dict[str, str], dict[str, str]]:
    """(use fields, statuses) lookups for ``clean_instrument_input`` in a loop."""
    return _lookup_tables()


def as_id_list(values) -> list:
    """What a caller passed as instrument ids, as a list (a single id, None and generators
    included), before ``clean_instrument_ids`` checks it."""
    if values is None or isinstance(values, (str, bytes, int)):
        return [] if values in (None, "", b"") else [values]
    try:
        return list(values)
    except TypeError:
        return [values]


# The largest id a database integer key holds (bigint): a larger number is no instrument's id
# (and would overflow the query).
MAX_ID = 2**63 - 1


def clean_instrument_ids(raw_ids, *, limit: int, empty_message: str, too_many_message: str) -> list[int]:
    """Distinct positive instrument ids in the order given, for any form or API call that
    picks instruments (a filing, an application). ``too_many_message`` takes %(max)d and
    %(count)d. Raises InvalidInput (field ``instrument_ids``)."""
    from . import errors

    ids: list[int] = []
    seen: set[int] = set()
    for raw in raw_ids:
        try:
            value = int(raw)
        except (TypeError, ValueError, OverflowError):  # OverflowError: float("inf")
            value = 0
        if value <= 0 or value > MAX_ID or isinstance(raw, bool):
            raise errors.INVALID_ID(field="instrument_ids", value=str(raw)[:40])
        if value not in seen:
            seen.add(value)
            ids.append(value)
    if not ids:
        raise errors.NO_INSTRUMENTS(empty_message, field="instrument_ids")
    if len(ids) > limit:
        raise errors.TOO_MANY_INSTRUMENTS(too_many_message % {"max": limit, "count": len(ids)}, field="instrument_ids")
    return ids


def name_instruments(instruments, *, limit: int = 10) -> str:
    """The instruments a message is about, as a reader would list them: name and factory
    number, the first ``limit`` of them, then how many more (the list separator and the
    count are translated: 、 and 等另外 N 台 in Chinese)."""
    names = [
        gettext("%(name)s (factory number %(number)s)") % {"name": i.name, "number": i.factory_number}
        for i in instruments[:limit]
    ]
    # Translators: between the items of a list in a sentence; Chinese uses 、
    text = pgettext("list separator", ", ").join(names)
    more = len(instruments) - limit
    if more > 0:
        text = ngettext("%(list)s and %(count)d more", "%(list)s and %(count)d more", more) % {
            "list": text,
            "count": more,
        }
    return text
