"""Verification fees and waivers (收费与减免), quoted at acceptance.

Tariffs and waiver policies are data with a source, edited by the system administrator
(``configuration.manage``) through ``tariff_create`` / ``tariff_update`` /
``waiver_policy_create`` / ``waiver_policy_update`` below; no price lives in code.

The rules of a quote:

* **Fee** — the ``Tariff`` of the catalogue item valid on the day. A tariff set for the
  enterprise's division or one of its ancestors beats a platform-wide one (division empty);
  among those, the deepest division wins, then the latest ``valid_from``, then the newest row.
  No tariff: the fee is 0.
* **Waived** — fee × the highest percentage among the active ``WaiverPolicy`` rows valid on
  the day that apply: ``item`` policies to their catalogue item, ``user_type`` policies to
  enterprises whose credit code starts with their prefix, ``campaign`` policies to everyone;
  a policy with a division only within that division. Rounded to 0.01 yuan half-up, never
  more than the fee. When the fee is 0 nothing is waived and no policy is returned.

``quote_fee`` answers one quote with two queries (three if the organisation's division is not
loaded). ``FeeQuoter`` loads every tariff and policy valid on a day once and then quotes any
number of items without a query (acceptance of a batch, imports, recomputation).
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.db.models import Q
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from nqihub.audit.service import apply_changes, audited_service, locked_for, requires
from nqihub.audit.services import audit_record
from nqihub.core.access import Capability
from nqihub.core.errors import ServiceError
from nqihub.core.inputs import clean_date
from nqihub.organizations.credit_code import CHARSET as CREDIT_CHARSET

from ..models import CatalogueItem, Tariff, WaiverPolicy

CENT = Decimal("0.01")
ZERO = Decimal("0.00")
HUNDRED = Decimal(100)


__all__ = [
    "FeeQuoter",
    "division_chain",
    "quote_fee",
    "tariff_clean_data",
    "tariff_create",
    "tariff_update",
    "waived_amount",
    "waiver_policy_clean_data",
    "waiver_policy_create",
    "waiver_policy_update",
]


# --------------------------------------------------------------------------- quoting


def division_chain(path: str) -> list[str]:
    """The division codes of a materialised path, root first:
    ``"150000/150200/150203/"`` → ``["150000", "150200", "150203"]``."""
    return [code for code in (path or "").split("/") if code]


def _org_chain(organization) -> list[str]:
    division = getattr(organization, "division", None)
    return division_chain(division.path) if division is not None else []


def _credit_prefix(organization) -> str:
    return (getattr(organization, "credit_code", None) or "")[:2].upper()


def _valid_on(row, on_date: datetime.date) -> bool:
    return row.valid_from <= on_date and (row.valid_until is None or row.valid_until >= on_date)


def _valid_q(on_date: datetime.date) -> Q:
    return Q(valid_from__lte=on_date) & (Q(valid_until__isnull=True) | Q(valid_until__gte=on_date))


def waived_amount(fee: Decimal, percentage: int) -> Decimal:
    """fee × percentage %, to the cent (half-up), never above the fee nor below 0."""
    fee = Decimal(fee)
    if fee <= 0 or percentage <= 0:
        return ZERO
    amount = (fee * Decimal(percentage) / HUNDRED).quantize(CENT, rounding=ROUND_HALF_UP)
    return min(amount, fee.quantize(CENT, rounding=ROUND_HALF_UP))


def _pick_tariff(tariffs: Iterable[Tariff], chain: Sequence[str]) -> Tariff | None:
    """The most specific of the candidate tariffs (all valid and of the right item)."""
    depth = {code: index + 1 for index, code in enumerate(chain)}
    best: Tariff | None = None
    best_key: tuple | None = None
    for tariff in tariffs:
        if tariff.division_id is None:
            level = 0
        elif tariff.division_id in depth:
            level = depth[tariff.division_id]
        else:
            continue  # another region's tariff
        key = (level, tariff.valid_from, tariff.pk or 0)
        if best_key is None or key > best_key:
            best, best_key = tariff, key
    return best


def _policy_applies(policy: WaiverPolicy, *, item_id, prefix: str, chain_set) -> bool:
    if policy.division_id is not None and policy.division_id not in chain_set:
        return False
    if policy.basis == WaiverPolicy.Basis.ITEM:
        return policy.catalogue_item_id is not None and policy.catalogue_item_id == item_id
    if policy.basis == WaiverPolicy.Basis.USER_TYPE:
        return bool(policy.credit_code_prefix) and policy.credit_code_prefix.upper() == prefix
    return policy.basis == WaiverPolicy.Basis.CAMPAIGN


def _pick_policy(
    policies: Iterable[WaiverPolicy], *, item_id, prefix: str, chain: Sequence[str]
) -> WaiverPolicy | None:
    """The applicable policy with the highest percentage (ties: the oldest row, so a quote is
    stable when a policy of the same percentage is added later)."""
    chain_set = set(chain)
    best: WaiverPolicy | None = None
    for policy in policies:
        if not _policy_applies(policy, item_id=item_id, prefix=prefix, chain_set=chain_set):
            continue
        if best is None or (policy.percentage, -(policy.pk or 0)) > (best.percentage, -(best.pk or 0)):
            best = policy
    return best


def _result(tariff: Tariff | None, policy: WaiverPolicy | None) -> tuple[Decimal, Decimal, WaiverPolicy | None]:
    fee = tariff.price.quantize(CENT, rounding=ROUND_HALF_UP) if tariff is not None else ZERO
    if fee <= 0 or policy is None:
        return fee, ZERO, None
    return fee, waived_amount(fee, policy.percentage), policy


def _item_id(catalogue_item) -> int | None:
    if catalogue_item is None:
        return None
    return catalogue_item.pk if isinstance(catalogue_item, CatalogueItem) else int(catalogue_item)


def quote_fee(*, catalogue_item, organization, on_date: datetime.date) -> tuple[Decimal, Decimal, WaiverPolicy | None]:
    """(fee, waived, policy) for verifying one instrument of ``catalogue_item`` (an item or
    its pk; None gives no fee) for ``organization`` on ``on_date``. Two queries."""
    item_id = _item_id(catalogue_item)
    if item_id is None:
        return ZERO, ZERO, None
    chain = _org_chain(organization)
    in_region = Q(division__isnull=True) | Q(division_id__in=chain)
    tariffs = list(
        Tariff.objects.filter(_valid_q(on_date), in_region, catalogue_item_id=item_id).only(
            "pk", "catalogue_item_id", "division_id", "price", "valid_from", "valid_until"
        )
    )
    tariff = _pick_tariff(tariffs, chain)
    if tariff is None or tariff.price <= 0:
        return _result(tariff, None)
    prefix = _credit_prefix(organization)
    basis = Q(basis=WaiverPolicy.Basis.CAMPAIGN) | Q(basis=WaiverPolicy.Basis.ITEM, catalogue_item_id=item_id)
    if prefix:
        basis |= Q(basis=WaiverPolicy.Basis.USER_TYPE, credit_code_prefix__iexact=prefix)
    policies = list(WaiverPolicy.objects.filter(_valid_q(on_date), in_region, basis, is_active=True))
    policy = _pick_policy(policies, item_id=item_id, prefix=prefix, chain=chain)
    return _result(tariff, policy)


class FeeQuoter:
    """Quotes many items on one day without a query per item: two queries at construction,
    none per ``quote`` (as long as the organisations passed in have their division loaded,
    e.g. ``select_related("division")``)."""

    def __init__(self, on_date: datetime.date) -> None:
        self.on_date = on_date
        self._tariffs: dict[int, list[Tariff]] = defaultdict(list)
        for tariff in Tariff.objects.filter(_valid_q(on_date)).only(
            "pk", "catalogue_item_id", "division_id", "price", "valid_from", "valid_until"
        ):
            self._tariffs[tariff.catalogue_item_id].append(tariff)
        self._policies: list[WaiverPolicy] = list(WaiverPolicy.objects.filter(_valid_q(on_date), is_active=True))

    def quote(self, *, catalogue_item, organization) -> tuple[Decimal, Decimal, WaiverPolicy | None]:
        item_id = _item_id(catalogue_item)
        if item_id is None:
            return ZERO, ZERO, None
        chain = _org_chain(organization)
        tariff = _pick_tariff(self._tariffs.get(item_id, ()), chain)
        if tariff is None or tariff.price <= 0:
            return _result(tariff, None)
        policy = _pick_policy(self._policies, item_id=item_id, prefix=_credit_prefix(organization), chain=chain)
        return _result(tariff, policy)


# --------------------------------------------------------------------------- editing

CREDIT_CODE_CHARSET = frozenset(CREDIT_CHARSET)
TARIFF_FIELDS = ("catalogue_item", "division", "price", "valid_from", "valid_until", "source")
POLICY_FIELDS = (
    "name",
    "basis",
    "catalogue_item",
    "credit_code_prefix",
    "division",
    "percentage",
    "valid_from",
    "valid_until",
    "is_active",
    "source",
)


def _invalid(errors, model):
    from .catalogue import invalid_input

    return invalid_input(errors, model=model)


def _text(value) -> str:
    return "" if value is None else str(value).strip()


def _fk(value, model, name: str, errors: list, *, required: bool, by: str = "pk"):
    """An instance of ``model`` from an instance, a pk or (for items) a code."""
    if value in (None, ""):
        if required:
            errors.append((name, _("This field is required.")))
        return None
    if isinstance(value, model):
        return value
    lookup = Q(pk=value)
    if model is CatalogueItem:
        lookup = Q(code=str(value)) | (Q(pk=value) if str(value).isdigit() else Q(pk__in=[]))
    found = model.objects.filter(lookup).first()
    if found is None:
        errors.append((name, _("No such entry.")))
    return found


def _source(values, errors, model) -> str:
    source = _text(values.get("source"))
    limit = model._meta.get_field("source").max_length
    if not source:
        errors.append(("source", _("This field is required.")))
    elif len(source) > limit:
        errors.append(
            ("source", _("At most %(max)d characters (%(count)d given).") % {"max": limit, "count": len(source)})
        )
    return source


def _period(values, errors) -> tuple[datetime.date | None, datetime.date | None]:
    valid_from = clean_date(values.get("valid_from"), "valid_from", errors, required=True)
    valid_until = clean_date(values.get("valid_until"), "valid_until", errors, required=False)
    if valid_from and valid_until and valid_until < valid_from:
        errors.append(("valid_until", _("The end of validity cannot be before its start.")))
    return valid_from, valid_until


def tariff_clean_data(data: Mapping[str, Any], *, instance: Tariff | None = None) -> dict[str, Any]:
    from nqihub.divisions.models import AdminDivision

    values: dict[str, Any] = {}
    if instance is not None:
        values = {name: getattr(instance, name) for name in TARIFF_FIELDS}
    values.update({k: v for k, v in data.items() if k in TARIFF_FIELDS})
    errors: list[tuple[str, str]] = []
    cleaned: dict[str, Any] = {
        "catalogue_item": _fk(values.get("catalogue_item"), CatalogueItem, "catalogue_item", errors, required=True),
        "division": _fk(values.get("division"), AdminDivision, "division", errors, required=False),
    }
    price = values.get("price")
    try:
        price = Decimal(str(price).strip()) if price not in (None, "") else None
    except ArithmeticError:
        price = "bad"
    if price is None:
        errors.append(("price", _("This field is required.")))
    elif price == "bad" or not price.is_finite():
        errors.append(("price", _("Enter an amount in yuan, e.g. 30.00.")))
    elif price < 0:
        errors.append(("price", _("A price cannot be negative.")))
    elif price != price.quantize(CENT) or price >= Decimal("1e8"):
        errors.append(("price", _("Enter an amount in yuan with at most two decimals.")))
    else:
        cleaned["price"] = price.quantize(CENT)
    cleaned["valid_from"], cleaned["valid_until"] = _period(values, errors)
    cleaned["source"] = _source(values, errors, Tariff)
    if errors:
        raise _invalid(errors, Tariff)
    return cleaned


def waiver_policy_clean_data(data: Mapping[str, Any], *, instance: WaiverPolicy | None = None) -> dict[str, Any]:
    from nqihub.divisions.models import AdminDivision

    from .catalogue import _flag

    values: dict[str, Any] = {}
    if instance is not None:
        values = {name: getattr(instance, name) for name in POLICY_FIELDS}
    values.update({k: v for k, v in data.items() if k in POLICY_FIELDS})
    errors: list[tuple[str, str]] = []
    cleaned: dict[str, Any] = {}
    name = _text(values.get("name"))
    if not name:
        errors.append(("name", _("This field is required.")))
    elif len(name) > 200:
        errors.append(("name", _("At most %(max)d characters (%(count)d given).") % {"max": 200, "count": len(name)}))
    cleaned["name"] = name
    basis = _text(values.get("basis"))
    if not basis:
        errors.append(("basis", _("This field is required.")))
    elif basis not in WaiverPolicy.Basis.values:
        errors.append(("basis", _("Choose one of the listed values.")))
    cleaned["basis"] = basis
    item = _fk(values.get("catalogue_item"), CatalogueItem, "catalogue_item", errors, required=False)
    prefix = _text(values.get("credit_code_prefix")).upper()
    if basis == WaiverPolicy.Basis.ITEM:
        if item is None and not any(f == "catalogue_item" for f, _m in errors):
            errors.append(("catalogue_item", _("A waiver by catalogue item needs its catalogue item.")))
    else:
        item = None  # only an item waiver has an item
    if basis == WaiverPolicy.Basis.USER_TYPE:
        if len(prefix) != 2 or not set(prefix) <= CREDIT_CODE_CHARSET:
            errors.append(
                (
                    "credit_code_prefix",
                    _("A waiver by kind of user needs the credit code's first two characters, e.g. 92."),
                )
            )
    else:
        prefix = ""
    cleaned["catalogue_item"], cleaned["credit_code_prefix"] = item, prefix
    cleaned["division"] = _fk(values.get("division"), AdminDivision, "division", errors, required=False)
    raw = values.get("percentage")
    try:
        percentage = int(str(raw).strip()) if raw not in (None, "") and not isinstance(raw, bool) else None
    except ValueError:
        percentage = -1
    if percentage is None:
        errors.append(("percentage", _("This field is required.")))
    elif not 1 <= percentage <= 100:
        errors.append(("percentage", _("Enter a whole number from %(min)d to %(max)d.") % {"min": 1, "max": 100}))
    cleaned["percentage"] = percentage
    cleaned["valid_from"], cleaned["valid_until"] = _period(values, errors)
    cleaned["is_active"] = _flag(values.get("is_active", True))
    cleaned["source"] = _source(values, errors, WaiverPolicy)
    if errors:
        raise _invalid(errors, WaiverPolicy)
    return cleaned


def _plain(value):
    """A JSON-safe form of a field value for the audit details."""
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if hasattr(value, "pk"):
        return str(value.pk)
    return str(value)


def _create(*, actor, action: str, model, clean, data: Mapping[str, Any]):
    cleaned = clean(data)
    obj = model.objects.create(**cleaned)
    audit_record(action=action, actor=actor, target=obj, details={k: _plain(v) for k, v in cleaned.items()})
    return obj


def _update(*, actor, action: str, obj, clean, data: Mapping[str, Any]):
    # The permission is the capability the decorator asked; the lookup only finds the row.
    model = type(obj)
    locked = locked_for(model.objects.all(), None, obj.pk)
    cleaned = clean(data, instance=locked)
    changes = apply_changes(locked, cleaned, _plain)
    locked.save()
    audit_record(action=action, actor=actor, target=locked, details={"changes": changes})
    return locked


_configuration = requires(Capability.MANAGE_CONFIGURATION)


@audited_service("tariff.create", gettext_lazy("Tariff added"), check=_configuration, conflict=ServiceError)
def tariff_create(*, actor, data: Mapping[str, Any]) -> Tariff:
    """The system administrator adds a tariff (with its source)."""
    return _create(actor=actor, action="tariff.create", model=Tariff, clean=tariff_clean_data, data=data)


@audited_service("tariff.update", gettext_lazy("Tariff changed"), check=_configuration, target="tariff")
def tariff_update(*, actor, tariff: Tariff, data: Mapping[str, Any]) -> Tariff:
    """The system administrator changes a tariff; ``data`` may hold only the fields to change."""
    return _update(actor=actor, action="tariff.update", obj=tariff, clean=tariff_clean_data, data=data)


@audited_service(
    "waiver_policy.create", gettext_lazy("Waiver policy added"), check=_configuration, conflict=ServiceError
)
def waiver_policy_create(*, actor, data: Mapping[str, Any]) -> WaiverPolicy:
    """The system administrator adds a waiver policy (with its source)."""
    return _create(
        actor=actor, action="waiver_policy.create", model=WaiverPolicy, clean=waiver_policy_clean_data, data=data
    )


@audited_service("waiver_policy.update", gettext_lazy("Waiver policy changed"), check=_configuration, target="policy")
def waiver_policy_update(*, actor, policy: WaiverPolicy, data: Mapping[str, Any]) -> WaiverPolicy:
    """The system administrator changes a waiver policy (e.g. ends a campaign, deactivates it)."""
    return _update(actor=actor, action="waiver_policy.update", obj=policy, clean=waiver_policy_clean_data, data=data)
