"""两库 and the institution pool: the inspection-object pool with its risk score, the inspector
pool with declared conflicts, and the testing institutions qualified for a product category."""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from itertools import chain
from typing import Any

from django.core.exceptions import FieldDoesNotExist
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from nqihub.audit.service import apply_changes, audited_service, locked_for, may
from nqihub.audit.services import audit_record
from nqihub.core.access import Capability, OrganizationKind, get_actor, has_capability
from nqihub.core.errors import invalid_fields
from nqihub.organizations.credit_code import CreditCodeError, validate_credit_code
from nqihub.organizations.models import AuthorisationScope, Discipline, InstitutionDiscipline, Organization
from nqihub.tables.columns import Column, ErrorList, error_text, find_header, normal_header
from nqihub.tables.columns import error as table_error
from nqihub.tables.limits import Limits
from nqihub.tables.readers import TableFileError, is_blank, read_table

from .. import errors
from ..models import Inspector, InspectorConflict, PoolObject, ProductCategory, SamplingRule


def valid_on(day: datetime.date) -> models.Q:
    """A capability line valid on ``day`` (either end may be open)."""
    return (models.Q(valid_from__isnull=True) | models.Q(valid_from__lte=day)) & (
        models.Q(valid_until__isnull=True) | models.Q(valid_until__gte=day)
    )


def qualified_institutions(category: ProductCategory, on: datetime.date | None = None) -> models.QuerySet:
    """The active testing institutions whose CMA capability covers ``category`` on day ``on``
    (today by default): an ``AuthorisationScope`` line of discipline ``testing`` whose
    ``subject_code`` is the category's code and whose validity (open ends allowed) includes the
    day. Returns an ``Organization`` queryset (one row per institution, however many lines)."""
    day = on or timezone.localdate()
    lines = AuthorisationScope.objects.filter(valid_on(day), discipline=Discipline.TESTING, subject_code=category.code)
    return Organization.objects.filter(
        kind=OrganizationKind.INSTITUTION,
        is_active=True,
        pk__in=lines.values("organization_id"),
    ).order_by("name", "pk")


# --- The risk score -----------------------------------------------------------------------------

# The weights are ``SamplingRule`` rows (migration ``sampling/0003_risk_weights``), editable by the
# system administrator like every number of the procedure; weights are in per cent of one point.
RISK_RULES = (
    "risk_complaint_weight_percent",
    "risk_complaint_cap",
    "risk_failure_weight_percent",
    "risk_abnormal_weight_percent",
)
RISK_MAX = Decimal("9999.99")  # the column's largest value


def risk_weights() -> dict[str, int]:
    """The four risk weights, read in one query."""
    found = dict(SamplingRule.objects.filter(code__in=RISK_RULES).values_list("code", "value"))
    missing = [code for code in RISK_RULES if code not in found]
    if missing:
        raise LookupError(f"sampling rules {missing!r} are missing (see migration sampling/0003)")
    return found


def risk_score(obj: PoolObject, weights: Mapping[str, int] | None = None) -> Decimal:
    """The risk score of an inspection object, the weight a draw gives it (always > 0)::

        1 + w_complaint · min(complaints, cap) + w_failure · earlier failures + w_abnormal · [abnormal-listed]

    with the weights of the rules (by default 0.5 per complaint up to 6 complaints, 1 per earlier
    failure, 2 when the enterprise is on the abnormal-operations list), rounded to 0.01 and held
    below the column's largest value. An object with no risk attribute scores 1."""
    w = weights if weights is not None else risk_weights()
    hundred = Decimal(100)
    score = (
        Decimal(1)
        + Decimal(w["risk_complaint_weight_percent"]) / hundred * min(obj.complaints, w["risk_complaint_cap"])
        + Decimal(w["risk_failure_weight_percent"]) / hundred * obj.earlier_failures
        + (Decimal(w["risk_abnormal_weight_percent"]) / hundred if obj.abnormal_listed else Decimal(0))
    )
    return min(score, RISK_MAX).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


# --- Cleaning one inspection object (page, API and import alike) ---------------------------------

POOL_FIELDS = (
    "category",
    "role",
    "product_name",
    "brand",
    "model",
    "standard",
    "producer_name",
    "complaints",
    "earlier_failures",
    "abnormal_listed",
)
_TRUE = {"1", "true", "yes", "y", "是", "√", "on"}
_FALSE = {"", "0", "false", "no", "n", "否", "off"}
_ROLES = {
    "producer": PoolObject.Role.PRODUCER,
    "生产者": PoolObject.Role.PRODUCER,
    "生产": PoolObject.Role.PRODUCER,
    "seller": PoolObject.Role.SELLER,
    "销售者": PoolObject.Role.SELLER,
    "销售": PoolObject.Role.SELLER,
}


def _bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = "" if value is None else str(value).strip().casefold()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise ValueError


def _count(value: Any) -> int:
    if value is None or (isinstance(value, str) and not value.strip()):
        return 0
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    number = int(str(value).strip())
    if not 0 <= number <= 100000:
        raise ValueError
    return number


def category_of(value: Any) -> ProductCategory | None:
    """A product category by itself, its code, its name or its id."""
    if isinstance(value, ProductCategory):
        return value
    if value in (None, ""):
        return None
    text = str(value).strip()
    found = ProductCategory.objects.filter(is_active=True).filter(models.Q(code=text) | models.Q(name=text)).first()
    if found is None and text.isdigit():
        found = ProductCategory.objects.filter(pk=int(text), is_active=True).first()
    return found


def _pool_label(name: str) -> str:
    extra = {"credit_code": _("unified social credit code"), "organization": _("enterprise")}
    if name in extra:
        return str(extra[name])
    try:
        return str(PoolObject._meta.get_field(name).verbose_name)
    except FieldDoesNotExist:
        return name


def pool_values(data: Mapping, *, partial: bool = False, categories: Mapping | None = None) -> tuple[dict, list]:
    """The cleaned pool-object values of ``data`` and the problems as (field, message)."""
    values: dict[str, Any] = {}
    problems: list[tuple[str, Any]] = []
    for name in POOL_FIELDS:
        if name not in data:
            if not partial and name in ("category", "product_name"):
                problems.append((name, _("This field is required.")))
            continue
        raw = data[name]
        try:
            if name == "category":
                found = (categories or {}).get(str(raw).strip()) if categories is not None else category_of(raw)
                if found is None:
                    problems.append((name, _("No product category has this code or name.")))
                else:
                    values[name] = found
            elif name == "role":
                text = "" if raw is None else str(raw).strip().casefold()
                if not text:
                    values[name] = PoolObject.Role.PRODUCER
                elif text in _ROLES:
                    values[name] = _ROLES[text]
                else:
                    problems.append((name, _("Enter 生产者 (producer) or 销售者 (seller).")))
            elif name in ("complaints", "earlier_failures"):
                values[name] = _count(raw)
            elif name == "abnormal_listed":
                values[name] = _bool(raw)
            else:
                text = "" if raw is None else str(raw).strip()
                limit = PoolObject._meta.get_field(name).max_length
                if name == "product_name" and not text:
                    problems.append((name, _("This field is required.")))
                elif limit and len(text) > limit:
                    problems.append((name, _("Enter at most %(max)d characters.") % {"max": limit}))
                else:
                    values[name] = text
        except ValueError:
            if name == "abnormal_listed":
                problems.append((name, _("Enter 是 (yes) or 否 (no).")))
            else:
                problems.append((name, _("Enter a whole number of 0 or more.")))
    return values, problems


def _enterprise(actor, data: Mapping) -> tuple[Organization | None, list]:
    """The enterprise named in ``data`` (``credit_code``, or ``organization`` as an id or the
    row): a platform enterprise within the actor's jurisdiction."""
    given = data.get("organization")
    if isinstance(given, Organization):
        org: Organization | None = given
    elif given not in (None, ""):
        try:
            org = Organization.objects.filter(pk=int(given)).first()
        except (TypeError, ValueError):
            org = None
        if org is None or org.kind != OrganizationKind.ENTERPRISE:
            return None, [("organization", errors.ENTERPRISE_UNKNOWN.message)]
    else:
        raw = data.get("credit_code")
        if raw in (None, ""):
            return None, [("credit_code", _("This field is required."))]
        try:
            code = validate_credit_code(raw, division_exists=lambda _code: True)
        except CreditCodeError as exc:
            return None, [("credit_code", exc.messages[0])]
        org = Organization.objects.filter(credit_code=code, kind=OrganizationKind.ENTERPRISE).first()
        if org is None:
            return None, [("credit_code", str(errors.ENTERPRISE_UNKNOWN.message))]
    if org.kind != OrganizationKind.ENTERPRISE or not org.is_active:
        return None, [("credit_code", str(errors.ENTERPRISE_UNKNOWN.message))]
    if not get_actor(actor).jurisdiction_codes().filter(code=org.division_id).exists():
        return None, [("credit_code", str(errors.OUT_OF_JURISDICTION.message))]
    return org, []


def _raise(problems: list, code: str = "invalid") -> None:
    codes = {
        str(errors.ENTERPRISE_UNKNOWN.message): "enterprise_unknown",
        str(errors.OUT_OF_JURISDICTION.message): "out_of_jurisdiction",
    }
    found = {codes.get(str(message)) for _name, message in problems} - {None}
    if len(found) == 1 and len(problems) == 1:
        code = found.pop()
    raise invalid_fields(problems, label=_pool_label, code=code)


# --- Inspection objects --------------------------------------------------------------------------


def may_keep_pool(actor) -> bool:
    """Whether ``actor`` keeps a pool (a regulator's manager or clerk): pages offer the forms."""
    return not PoolObject.objects.for_user(actor, "change").query.is_empty()


def _may_add_to_pool(actor, **_kwargs) -> None:
    if not may_keep_pool(actor):
        raise errors.NOT_ALLOWED(_("Only a regulator's managers and clerks keep the inspection pools."))


def _same_key(values: Mapping, organization: Organization, exclude: int | None = None) -> bool:
    query = PoolObject.objects.filter(
        organization=organization,
        category=values["category"],
        product_name=values["product_name"],
        brand=values.get("brand", ""),
        model=values.get("model", ""),
        standard=values.get("standard", ""),
    )
    if exclude:
        query = query.exclude(pk=exclude)
    return query.exists()


@audited_service(
    "sampling.pool.create",
    gettext_lazy("Inspection object added to the pool"),
    check=_may_add_to_pool,
    conflict=errors.DUPLICATE,
)
def pool_object_create(*, actor, data: Mapping) -> PoolObject:
    """Add an enterprise's product to the pool: the enterprise must be on the platform and within
    the actor's jurisdiction; its risk score is computed from the attributes."""
    organization, problems = _enterprise(actor, data)
    values, more = pool_values(data)
    if problems or more:
        _raise(problems + more)
    if _same_key(values, organization):
        raise errors.DUPLICATE(field="product_name")
    obj = PoolObject(organization=organization, division_id=organization.division_id, **values)
    obj.risk_score = risk_score(obj)
    obj.save()
    audit_record(action="sampling.pool.create", actor=actor, target=obj, details={"risk_score": str(obj.risk_score)})
    return obj


@audited_service(
    "sampling.pool.update",
    gettext_lazy("Inspection object changed"),
    check=may(PoolObject, "change", "obj"),
    target="obj",
    conflict=errors.DUPLICATE,
)
def pool_object_update(*, actor, obj, data: Mapping) -> PoolObject:
    """Change an object's product or risk attributes (the enterprise stays); the risk score is
    computed again."""
    locked = locked_for(
        PoolObject.objects.for_user(actor, "view"),
        PoolObject.objects.for_user(actor, "change"),
        getattr(obj, "pk", obj),
    )
    values, problems = pool_values(data, partial=True)
    if problems:
        _raise(problems)
    changes = apply_changes(locked, values, describe=str)
    if _same_key({f: getattr(locked, f) for f in POOL_FIELDS}, locked.organization, exclude=locked.pk):
        raise errors.DUPLICATE(field="product_name")
    before = locked.risk_score
    locked.risk_score = risk_score(locked)
    if before != locked.risk_score:
        changes["risk_score"] = [str(before), str(locked.risk_score)]
    locked.save()
    audit_record(action="sampling.pool.update", actor=actor, target=locked, details={"changes": changes})
    return locked


def _set_active(actor, obj, active: bool, action: str) -> PoolObject:
    locked = locked_for(
        PoolObject.objects.for_user(actor, "view"),
        PoolObject.objects.for_user(actor, "change"),
        getattr(obj, "pk", obj),
    )
    if locked.is_active == active:
        state = _("in the pool") if active else _("out of the pool")
        raise errors.INVALID_STATE(what=str(locked), state=state)
    locked.is_active = active
    locked.save(update_fields=["is_active", "updated_at"])
    audit_record(action=action, actor=actor, target=locked)
    return locked


@audited_service(
    "sampling.pool.deactivate",
    gettext_lazy("Inspection object taken out of the pool"),
    check=may(PoolObject, "change", "obj"),
    target="obj",
)
def pool_object_deactivate(*, actor, obj) -> PoolObject:
    return _set_active(actor, obj, False, "sampling.pool.deactivate")


@audited_service(
    "sampling.pool.activate",
    gettext_lazy("Inspection object put back into the pool"),
    check=may(PoolObject, "change", "obj"),
    target="obj",
)
def pool_object_activate(*, actor, obj) -> PoolObject:
    return _set_active(actor, obj, True, "sampling.pool.activate")


def pool_risk_refresh(objects: Iterable[PoolObject]) -> int:
    """Compute the risk score of ``objects`` again (after another area changed their earlier
    failures, say) and write the changed ones in one bulk update; returns how many changed.
    Called inside the caller's service, which writes the audit record."""
    weights = risk_weights()
    changed = []
    for obj in objects:
        score = risk_score(obj, weights)
        if score != obj.risk_score:
            obj.risk_score = score
            changed.append(obj)
    PoolObject.objects.bulk_update(changed, ["risk_score"], batch_size=500)
    return len(changed)


# --- Imports (object pool, inspector pool, capability lines) -------------------------------------

MAX_IMPORT_ROWS = 20_000  # read and written in the request; a larger file is split
MAX_IMPORT_BYTES = 10 * 1024 * 1024


@dataclass
class ImportResult:
    created: int = 0
    updated: int = 0

    @property
    def total(self) -> int:
        return self.created + self.updated


# Columns the pool's export writes beside the import's (computed or kept by the platform): an
# exported pool imports back as it is, those columns ignored.
IGNORED_HEADERS = frozenset(
    normal_header(h) for h in ("序号", "no.", "#", "行政区划", "既往不合格次数", "风险分值", "在库")
)


def _read(data: bytes, filename: str, columns: Sequence[Column]) -> list[tuple[int, dict]]:
    """The data rows of an uploaded table as (row number, {field: value}), or ``InvalidInput``
    naming what is wrong with the file as a whole (type, size, header, too many rows)."""
    limits = Limits.from_settings(max_file_bytes=MAX_IMPORT_BYTES)
    try:
        table = read_table(data, filename, limits=limits)
        header, pending = find_header(table.rows, columns, ignored=IGNORED_HEADERS)
    except TableFileError as exc:
        raise errors.IMPORT_FILE(str(exc), field="file") from None
    if header.fatal or header.errors:
        raise errors.IMPORT_FILE(
            " ".join(error_text(e) for e in header.errors) or str(errors.IMPORT_FILE.message),
            field="file",
            errors={"file": [error_text(e) for e in header.errors]},
        )
    found: list[tuple[int, dict]] = []
    try:
        for number, values in chain(pending, table.rows):
            if is_blank(values):
                continue
            if len(found) >= MAX_IMPORT_ROWS:
                raise errors.IMPORT_FILE(
                    _("The file has more than %(max)d rows: split it into several files.") % {"max": MAX_IMPORT_ROWS},
                    field="file",
                )
            row = {name: (values[index] if index < len(values) else None) for index, name in header.positions}
            found.append((number, row))
    except TableFileError as exc:
        raise errors.IMPORT_FILE(str(exc), field="file") from None
    if not found:
        raise errors.IMPORT_FILE(_("The file has no data rows."), field="file")
    return found


def _refuse_rows(problems: ErrorList) -> None:
    lines = [error_text(e) for e in problems.stored()]
    raise errors.IMPORT_ROWS(
        _("%(count)d problem(s) found; nothing was imported. %(first)s")
        % {"count": problems.count, "first": lines[0] if lines else ""},
        field="file",
        errors={"file": lines},
    )


POOL_COLUMNS = (
    Column("credit_code", "统一社会信用代码", "Unified social credit code", required=True, aliases=("信用代码",)),
    Column("enterprise_name", "企业名称", "Enterprise", aliases=("企业",)),
    Column("category", "产品类别", "Product category", required=True, aliases=("类别",)),
    Column("product_name", "产品名称", "Product", required=True, aliases=("产品",)),
    Column("brand", "商标", "Brand", aliases=("品牌",)),
    Column("model", "规格型号", "Model", aliases=("型号", "规格")),
    Column("standard", "执行标准", "Product standard", aliases=("标准",)),
    Column("role", "经营角色", "Role", aliases=("角色",)),
    Column("producer_name", "标称生产者", "Named producer", aliases=("生产者",)),
    Column("complaints", "投诉次数", "Complaints"),
    Column("abnormal_listed", "列入经营异常名录", "Abnormal-operations list", aliases=("经营异常",)),
)


@audited_service(
    "sampling.pool.import",
    gettext_lazy("Inspection objects imported"),
    check=_may_add_to_pool,
    details=lambda actor, **kw: {"filename": str(kw.get("filename", ""))[:200]},
    conflict=errors.DUPLICATE,
)
def pool_import(*, actor, data: bytes, filename: str) -> ImportResult:
    """Import inspection objects from a workbook or CSV file (columns ``POOL_COLUMNS``). Every
    enterprise must be a platform enterprise found by its credit code (checked, checksum
    included) within the actor's jurisdiction. Rows naming an object already in the pool
    (same enterprise, category, product, brand, model and standard) update its role, producer
    and risk attributes; the others are added. Any broken row: nothing is written, and every
    problem is reported with its row number. One audit record for the whole import."""
    rows = _read(data, filename, POOL_COLUMNS)
    limits = Limits.from_settings()
    problems = ErrorList(limits.max_stored_errors)
    headers = {c.field: c.header_zh for c in POOL_COLUMNS}
    categories: dict[str, ProductCategory] = {}
    for category in ProductCategory.objects.filter(is_active=True):
        categories[category.code] = category
        categories[category.name] = category
    # The enterprises named, in one query, and which of them are in the jurisdiction.
    codes: dict[int, str] = {}
    for number, row in rows:
        try:
            codes[number] = validate_credit_code(row.get("credit_code"), division_exists=lambda _code: True)
        except CreditCodeError as exc:
            problems.add(table_error(number, headers["credit_code"], exc.messages[0]))
    found = {
        org.credit_code: org
        for org in Organization.objects.filter(
            credit_code__in=set(codes.values()), kind=OrganizationKind.ENTERPRISE, is_active=True
        )
    }
    inside = set(
        Organization.objects.filter(
            pk__in=[o.pk for o in found.values()], division_id__in=get_actor(actor).jurisdiction_codes()
        ).values_list("pk", flat=True)
    )
    weights = risk_weights()
    cleaned: dict[tuple, tuple[int, PoolObject]] = {}
    for number, row in rows:
        row_values = {k: v for k, v in row.items() if k not in ("credit_code", "enterprise_name")}
        for name in POOL_FIELDS:
            row_values.setdefault(name, None)
        row_values.pop("earlier_failures", None)
        values, bad = pool_values(row_values, categories=categories)
        for name, message in bad:
            problems.add(table_error(number, headers.get(name, name), message))
        code = codes.get(number)
        if code is None:
            continue
        org = found.get(code)
        if org is None:
            problems.add(table_error(number, headers["credit_code"], errors.ENTERPRISE_UNKNOWN.message))
            continue
        if org.pk not in inside:
            problems.add(table_error(number, headers["credit_code"], errors.OUT_OF_JURISDICTION.message))
            continue
        if bad:
            continue
        obj = PoolObject(organization=org, division_id=org.division_id, **values)
        key = (org.pk, values["category"].pk, obj.product_name, obj.brand, obj.model, obj.standard)
        if key in cleaned:
            problems.add(
                table_error(
                    number,
                    headers["product_name"],
                    _("The same product is already on row %(row)d.") % {"row": cleaned[key][0]},
                )
            )
            continue
        cleaned[key] = (number, obj)
    if problems:
        _refuse_rows(problems)
    existing = {}
    org_ids = {key[0] for key in cleaned}
    for obj in PoolObject.objects.select_for_update().filter(organization_id__in=org_ids):
        existing[(obj.organization_id, obj.category_id, obj.product_name, obj.brand, obj.model, obj.standard)] = obj
    create, update = [], []
    for key, (_number, obj) in cleaned.items():
        current = existing.get(key)
        if current is None:
            obj.risk_score = risk_score(obj, weights)
            create.append(obj)
            continue
        for name in ("role", "producer_name", "complaints", "abnormal_listed"):
            setattr(current, name, getattr(obj, name))
        current.risk_score = risk_score(current, weights)
        current.updated_at = timezone.now()
        update.append(current)
    PoolObject.objects.bulk_create(create, batch_size=500)
    PoolObject.objects.bulk_update(
        update, ["role", "producer_name", "complaints", "abnormal_listed", "risk_score", "updated_at"], batch_size=500
    )
    result = ImportResult(created=len(create), updated=len(update))
    audit_record(
        action="sampling.pool.import",
        actor=actor,
        details={"filename": str(filename)[:200], "created": result.created, "updated": result.updated},
    )
    return result


# --- Inspectors ----------------------------------------------------------------------------------

INSPECTOR_FIELDS = ("name", "enforcement_number", "is_available", "unavailable_until", "certificate_valid_until")


def _day(value: Any) -> datetime.date | None:
    if value in (None, ""):
        return None
    if isinstance(value, datetime.datetime):
        return value.date()
    if isinstance(value, datetime.date):
        return value
    text = str(value).strip().replace("/", "-").replace(".", "-")
    for sep in ("年", "月"):
        text = text.replace(sep, "-")
    text = text.rstrip("日")
    parts = text.split("-")
    if len(parts) == 3 and all(p.isdigit() for p in parts):
        return datetime.date(int(parts[0]), int(parts[1]), int(parts[2]))
    raise ValueError


def _office(actor, value: Any) -> Organization | None:
    """A regulator within the actor's jurisdiction, by itself, its id, its name or credit code."""
    if isinstance(value, Organization):
        org: Organization | None = value
    elif value in (None, ""):
        return None
    else:
        text = str(value).strip()
        query = Organization.objects.filter(kind=OrganizationKind.REGULATOR, is_active=True)
        org = query.filter(models.Q(name=text) | models.Q(credit_code=text.upper())).first()
        if org is None and text.isdigit():
            org = query.filter(pk=int(text)).first()
    if org is None or org.kind != OrganizationKind.REGULATOR:
        return None
    if not get_actor(actor).jurisdiction_codes().filter(code=org.division_id).exists():
        return None
    return org


def _categories(value: Any, known: Mapping | None = None) -> tuple[list[ProductCategory], list[str]]:
    """Categories from a list (rows, ids, codes) or a text separated by 、 , ; or spaces."""
    if value in (None, ""):
        return [], []
    if isinstance(value, str):
        for sep in ("、", "，", ";", "；", "\n"):
            value = value.replace(sep, ",")
        items: list = [part.strip() for part in value.split(",") if part.strip()]
    else:
        items = list(value)
    found, unknown = [], []
    for item in items:
        category = (known or {}).get(str(item).strip()) if known is not None else category_of(item)
        if category is None:
            unknown.append(str(item))
        elif category not in found:
            found.append(category)
    return found, unknown


def inspector_values(actor, data: Mapping, *, partial: bool = False) -> tuple[dict, list]:
    values: dict[str, Any] = {}
    problems: list[tuple[str, Any]] = []
    for name in INSPECTOR_FIELDS:
        if name not in data:
            if not partial and name in ("name", "enforcement_number"):
                problems.append((name, _("This field is required.")))
            continue
        raw = data[name]
        if name in ("name", "enforcement_number"):
            text = "" if raw is None else str(raw).strip()
            if name == "enforcement_number":
                text = text.upper()
            limit = Inspector._meta.get_field(name).max_length
            if not text:
                problems.append((name, _("This field is required.")))
            elif len(text) > limit:
                problems.append((name, _("Enter at most %(max)d characters.") % {"max": limit}))
            else:
                values[name] = text
        elif name == "is_available":
            try:
                values[name] = _bool(raw)
            except ValueError:
                problems.append((name, _("Enter 是 (yes) or 否 (no).")))
        else:
            try:
                values[name] = _day(raw)
            except ValueError:
                problems.append((name, _("Enter a date as YYYY-MM-DD.")))
    if "office" in data or not partial:
        office = _office(actor, data.get("office"))
        if office is None:
            problems.append(("office", errors.OFFICE_NOT_REGULATOR.message))
        else:
            values["office"] = office
            values["division_id"] = office.division_id
    if "fields" in data:
        found, unknown = _categories(data["fields"])
        if unknown:
            problems.append(
                ("fields", _("No product category has this code or name: %(names)s") % {"names": ", ".join(unknown)})
            )
        values["fields"] = found
    return values, problems


def _inspector_label(name: str) -> str:
    try:
        return str(Inspector._meta.get_field(name).verbose_name)
    except FieldDoesNotExist:
        return name


def _inspector_invalid(problems: list) -> None:
    code = "office_not_regulator" if [n for n, _m in problems] == ["office"] else "invalid"
    raise invalid_fields(problems, label=_inspector_label, code=code)


@audited_service(
    "sampling.inspector.create",
    gettext_lazy("Inspector added to the pool"),
    check=_may_add_to_pool,
    conflict=errors.DUPLICATE,
)
def inspector_create(*, actor, data: Mapping) -> Inspector:
    """Add a member of the enforcement staff: 执法证号 unique, the office a regulator within the
    actor's jurisdiction, the fields product categories."""
    values, problems = inspector_values(actor, data)
    if problems:
        _inspector_invalid(problems)
    if Inspector.objects.filter(enforcement_number=values["enforcement_number"]).exists():
        raise errors.DUPLICATE(
            _("This enforcement certificate number is already in the pool."), field="enforcement_number"
        )
    fields = values.pop("fields", [])
    person = Inspector.objects.create(**values)
    person.fields.set(fields)
    audit_record(action="sampling.inspector.create", actor=actor, target=person, details={"office": person.office_id})
    return person


@audited_service(
    "sampling.inspector.update",
    gettext_lazy("Inspector changed"),
    check=may(Inspector, "change", "inspector"),
    target="inspector",
    conflict=errors.DUPLICATE,
)
def inspector_update(*, actor, inspector, data: Mapping) -> Inspector:
    locked = locked_for(
        Inspector.objects.for_user(actor, "view"),
        Inspector.objects.for_user(actor, "change"),
        getattr(inspector, "pk", inspector),
    )
    values, problems = inspector_values(actor, data, partial=True)
    if problems:
        _inspector_invalid(problems)
    number = values.get("enforcement_number")
    if number and Inspector.objects.filter(enforcement_number=number).exclude(pk=locked.pk).exists():
        raise errors.DUPLICATE(
            _("This enforcement certificate number is already in the pool."), field="enforcement_number"
        )
    fields = values.pop("fields", None)
    changes = apply_changes(locked, values, describe=str)
    locked.save()
    if fields is not None:
        before = sorted(locked.fields.values_list("code", flat=True))
        locked.fields.set(fields)
        after = sorted(c.code for c in fields)
        if before != after:
            changes["fields"] = [before, after]
    audit_record(action="sampling.inspector.update", actor=actor, target=locked, details={"changes": changes})
    return locked


@audited_service(
    "sampling.conflict.add",
    gettext_lazy("Conflict of interest declared"),
    check=may(Inspector, "change", "inspector"),
    target="inspector",
    conflict=errors.DUPLICATE,
)
def conflict_add(*, actor, inspector, data: Mapping) -> InspectorConflict:
    """Record a conflict of interest the inspector declared with an enterprise (any platform
    enterprise: a relative may run one elsewhere), with the reason. The draw never sends them there."""
    locked = locked_for(
        Inspector.objects.for_user(actor, "view"),
        Inspector.objects.for_user(actor, "change"),
        getattr(inspector, "pk", inspector),
    )
    reason = str(data.get("reason") or "").strip()
    if not reason:
        raise errors.REASON_REQUIRED(field="reason")
    if len(reason) > 300:
        raise invalid_fields([("reason", _("Enter at most %(max)d characters.") % {"max": 300})])
    org = _any_enterprise(data)
    if InspectorConflict.objects.filter(inspector=locked, organization=org).exists():
        raise errors.DUPLICATE(field="organization")
    conflict = InspectorConflict.objects.create(
        inspector=locked, organization=org, reason=reason, declared_at=timezone.now()
    )
    audit_record(
        action="sampling.conflict.add", actor=actor, target=locked, details={"organization": org.pk, "reason": reason}
    )
    return conflict


def _any_enterprise(data: Mapping) -> Organization:
    given = data.get("organization")
    if isinstance(given, Organization):
        org: Organization | None = given
    elif given not in (None, ""):
        try:
            org = Organization.objects.filter(pk=int(given)).first()
        except (TypeError, ValueError):
            org = None
    else:
        raw = data.get("credit_code")
        if raw in (None, ""):
            raise invalid_fields([("credit_code", _("This field is required."))], label=_pool_label)
        try:
            code = validate_credit_code(raw, division_exists=lambda _code: True)
        except CreditCodeError as exc:
            raise invalid_fields([("credit_code", exc.messages[0])], label=_pool_label) from None
        org = Organization.objects.filter(credit_code=code).first()
    if org is None or org.kind != OrganizationKind.ENTERPRISE:
        raise errors.ENTERPRISE_UNKNOWN(field="credit_code")
    return org


@audited_service(
    "sampling.conflict.remove",
    gettext_lazy("Declared conflict removed"),
    check=may(InspectorConflict, "change", "conflict"),
    target="conflict",
)
def conflict_remove(*, actor, conflict) -> None:
    locked = locked_for(
        InspectorConflict.objects.for_user(actor, "view"),
        InspectorConflict.objects.for_user(actor, "change"),
        getattr(conflict, "pk", conflict),
    )
    details = {"organization": locked.organization_id, "reason": locked.reason}
    inspector = locked.inspector
    locked.delete()
    audit_record(action="sampling.conflict.remove", actor=actor, target=inspector, details=details)


INSPECTOR_COLUMNS = (
    Column("name", "姓名", "Name", required=True),
    Column("enforcement_number", "执法证号", "Enforcement certificate number", required=True, aliases=("执法证编号",)),
    Column("office", "所属单位", "Office", required=True, aliases=("单位",)),
    Column("fields", "执法领域", "Fields", aliases=("领域",)),
    Column("certificate_valid_until", "证件有效期", "Certificate valid until", aliases=("有效期",)),
)


@audited_service(
    "sampling.inspector.import",
    gettext_lazy("Inspectors imported"),
    check=_may_add_to_pool,
    details=lambda actor, **kw: {"filename": str(kw.get("filename", ""))[:200]},
    conflict=errors.DUPLICATE,
)
def inspector_import(*, actor, data: bytes, filename: str) -> ImportResult:
    """Import inspectors (columns ``INSPECTOR_COLUMNS``). A known 执法证号 updates that
    inspector (who must be within the actor's jurisdiction); a new one is added. The office is
    a regulator within the actor's jurisdiction, by name or credit code. All or nothing."""
    rows = _read(data, filename, INSPECTOR_COLUMNS)
    problems = ErrorList(Limits.from_settings().max_stored_errors)
    headers = {c.field: c.header_zh for c in INSPECTOR_COLUMNS}
    known: dict[str, ProductCategory] = {}
    for category in ProductCategory.objects.filter(is_active=True):
        known[category.code] = category
        known[category.name] = category
    offices: dict[str, Organization | None] = {}
    numbers = [str(row.get("enforcement_number") or "").strip().upper() for _n, row in rows]
    existing = {
        p.enforcement_number: p for p in Inspector.objects.select_for_update().filter(enforcement_number__in=numbers)
    }
    mine = set(
        Inspector.objects.for_user(actor, "change")
        .filter(pk__in=[p.pk for p in existing.values()])
        .values_list("pk", flat=True)
    )
    cleaned: list[tuple[Inspector, list, bool]] = []
    seen: dict[str, int] = {}
    for number, row in rows:
        values, bad = inspector_values(
            actor, {k: v for k, v in row.items() if k not in ("office", "fields")}, partial=True
        )
        for name, message in bad:
            problems.add(table_error(number, headers.get(name, name), message))
        for name in ("name", "enforcement_number"):
            if name not in values and not any(n == name for n, _m in bad):
                problems.add(table_error(number, headers[name], _("This field is required.")))
        office_text = str(row.get("office") or "").strip()
        if office_text not in offices:
            offices[office_text] = _office(actor, office_text)
        office = offices[office_text]
        if office is None:
            problems.add(table_error(number, headers["office"], errors.OFFICE_NOT_REGULATOR.message))
        fields, unknown = _categories(row.get("fields"), known)
        if unknown:
            problems.add(
                table_error(
                    number,
                    headers["fields"],
                    _("No product category has this code or name: %(names)s") % {"names": ", ".join(unknown)},
                )
            )
        code = values.get("enforcement_number")
        if code in seen:
            problems.add(
                table_error(
                    number,
                    headers["enforcement_number"],
                    _("The same number is already on row %(row)d.") % {"row": seen[code]},
                )
            )
            continue
        if code:
            seen[code] = number
        if code in existing and existing[code].pk not in mine:
            problems.add(table_error(number, headers["enforcement_number"], errors.OUT_OF_JURISDICTION.message))
            continue
        if bad or office is None or unknown or not code or "name" not in values:
            continue
        person = existing.get(code) or Inspector(enforcement_number=code)
        person.name = values["name"]
        person.office = office
        person.division_id = office.division_id
        if "certificate_valid_until" in values:
            person.certificate_valid_until = values["certificate_valid_until"]
        cleaned.append((person, fields, person.pk is not None))
    if problems:
        _refuse_rows(problems)
    create = [p for p, _f, old in cleaned if not old]
    update = [p for p, _f, old in cleaned if old]
    Inspector.objects.bulk_create(create, batch_size=500)
    Inspector.objects.bulk_update(update, ["name", "office", "division", "certificate_valid_until"], batch_size=500)
    through = Inspector.fields.through
    touched = [p.pk for p, fields, _old in cleaned if fields]
    through.objects.filter(inspector_id__in=touched).delete()
    through.objects.bulk_create(
        [through(inspector_id=p.pk, productcategory_id=c.pk) for p, fields, _old in cleaned for c in fields],
        batch_size=1000,
    )
    result = ImportResult(created=len(create), updated=len(update))
    audit_record(
        action="sampling.inspector.import",
        actor=actor,
        details={"filename": str(filename)[:200], "created": result.created, "updated": result.updated},
    )
    return result


# --- The institution pool's capability lines -----------------------------------------------------


def may_import_capabilities(actor) -> bool:
    """The region's regulator (managers and clerks) or the system administrator."""
    if has_capability(actor, Capability.MANAGE_CONFIGURATION):
        return True
    who = get_actor(actor)
    division = who.jurisdiction
    return who.is_regulator and who.can_work and division is not None and division.level == "province"


def _may_import_capabilities(actor, **_kwargs) -> None:
    if not may_import_capabilities(actor):
        raise errors.NOT_ALLOWED(
            _("Only the region's regulator or the system administrator records testing capabilities.")
        )


CAPABILITY_COLUMNS = (
    Column("institution", "机构", "Institution", required=True, aliases=("机构名称", "检验检测机构")),
    Column("category", "产品类别", "Product category", required=True, aliases=("类别",)),
    Column("basis", "依据/证书号", "Basis or certificate number", required=True, aliases=("证书号", "依据")),
    Column("valid_until", "有效期", "Valid until", aliases=("有效期至",)),
)


@audited_service(
    "sampling.capability.import",
    gettext_lazy("Testing capabilities imported"),
    check=_may_import_capabilities,
    details=lambda actor, **kw: {"filename": str(kw.get("filename", ""))[:200]},
)
def capability_import(*, actor, data: bytes, filename: str) -> ImportResult:
    """Import CMA capability lines (columns ``CAPABILITY_COLUMNS``): a technical institution on
    the platform (name or credit code) may test a product category, on the basis of a
    certificate, until a date. The line with the same institution, category and basis has its
    date updated; others are added (with the institution's testing discipline). All or nothing."""
    rows = _read(data, filename, CAPABILITY_COLUMNS)
    problems = ErrorList(Limits.from_settings().max_stored_errors)
    headers = {c.field: c.header_zh for c in CAPABILITY_COLUMNS}
    institutions = Organization.objects.filter(kind=OrganizationKind.INSTITUTION, is_active=True)
    by_key: dict[str, Organization | None] = {}
    lines: dict[tuple, tuple[int, Organization, ProductCategory, str, datetime.date | None]] = {}
    for number, row in rows:
        text = str(row.get("institution") or "").strip()
        if text not in by_key:
            by_key[text] = (
                institutions.filter(models.Q(name=text) | models.Q(credit_code=text.upper())).first() if text else None
            )
        org = by_key[text]
        if org is None:
            problems.add(
                table_error(
                    number,
                    headers["institution"],
                    _("No technical institution with this name or credit code is on the platform."),
                )
            )
        category = category_of(row.get("category"))
        if category is None:
            problems.add(table_error(number, headers["category"], _("No product category has this code or name.")))
        basis = str(row.get("basis") or "").strip()
        if not basis:
            problems.add(table_error(number, headers["basis"], _("This field is required.")))
        elif len(basis) > 200:
            problems.add(table_error(number, headers["basis"], _("Enter at most %(max)d characters.") % {"max": 200}))
        try:
            until = _day(row.get("valid_until"))
        except ValueError:
            problems.add(table_error(number, headers["valid_until"], _("Enter a date as YYYY-MM-DD.")))
            continue
        if org is None or category is None or not basis or len(basis) > 200:
            continue
        key = (org.pk, category.code, basis)
        if key in lines:
            problems.add(
                table_error(
                    number, headers["basis"], _("The same line is already on row %(row)d.") % {"row": lines[key][0]}
                )
            )
            continue
        lines[key] = (number, org, category, basis, until)
    if problems:
        _refuse_rows(problems)
    existing = {
        (s.organization_id, s.subject_code, s.basis): s
        for s in AuthorisationScope.objects.select_for_update().filter(
            discipline=Discipline.TESTING, organization_id__in={k[0] for k in lines}
        )
    }
    create, update = [], []
    for key, (_number, org, category, basis, until) in lines.items():
        if key in existing:
            line = existing[key]
            line.valid_until = until
            update.append(line)
        else:
            create.append(
                AuthorisationScope(
                    organization=org,
                    discipline=Discipline.TESTING,
                    subject_code=category.code,
                    subject_name=category.name,
                    basis=basis,
                    valid_until=until,
                )
            )
    AuthorisationScope.objects.bulk_create(create, batch_size=500)
    AuthorisationScope.objects.bulk_update(update, ["valid_until"], batch_size=500)
    have = set(
        InstitutionDiscipline.objects.filter(
            discipline=Discipline.TESTING, organization_id__in={k[0] for k in lines}
        ).values_list("organization_id", flat=True)
    )
    InstitutionDiscipline.objects.bulk_create(
        [
            InstitutionDiscipline(organization_id=pk, discipline=Discipline.TESTING)
            for pk in {k[0] for k in lines} - have
        ]
    )
    result = ImportResult(created=len(create), updated=len(update))
    audit_record(
        action="sampling.capability.import",
        actor=actor,
        details={"filename": str(filename)[:200], "created": result.created, "updated": result.updated},
    )
    return result


def offices_for(actor) -> models.QuerySet:
    """The regulators an inspector of ``actor``'s pool may belong to (within the jurisdiction)."""
    if actor is None or not get_actor(actor).is_regulator:
        return Organization.objects.none()
    return Organization.objects.filter(
        kind=OrganizationKind.REGULATOR, is_active=True, division_id__in=get_actor(actor).jurisdiction_codes()
    ).order_by("division_id", "name")
