"""Requests and files the attack tests share: an enterprise's ledger as CSV, an import started
and polled over the API."""

from __future__ import annotations

import csv
import io
import time
import uuid

import requests

from nqihub.metrology import rules

# A catalogue item of the demo catalogue, values in the words of the import template.
ROW = {
    "catalogue_item": "3.1",
    "name": "电子计价秤",
    "model_spec": "ACS-15",
    "measuring_range": "(0~15)kg",
    "accuracy_class": "III",
    "manufacturer": "上海衡器厂",
    "location": "一号门市",
    "use_field": "贸易结算",
    "status": "在用",
}


def ledger_csv(rows: int, prefix: str | None = None) -> tuple[bytes, str]:
    """A ledger of ``rows`` new instruments whose factory numbers start with a fresh prefix;
    returns the file and the prefix."""
    prefix = prefix or f"AT{uuid.uuid4().hex[:10].upper()}-"
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([c.header_zh for c in rules.COLUMNS])
    for n in range(rows):
        values = {**ROW, "factory_number": f"{prefix}{n:06d}"}
        writer.writerow([values.get(c.field, "") for c in rules.COLUMNS])
    return buffer.getvalue().encode("utf-8"), prefix


def start_import(site, identity: str, data: bytes, session: requests.Session | None = None) -> dict:
    answer = (session or requests).post(
        site.base_url + "/api/v1/instrument-imports/",
        headers=site.headers(identity),
        files={"file": ("ledger.csv", data, "text/csv")},
        timeout=120,
    )
    assert answer.status_code == 202, answer.text
    return answer.json()


def import_job(site, identity: str, pk: int) -> dict:
    answer = requests.get(
        f"{site.base_url}/api/v1/instrument-imports/{pk}/", headers=site.headers(identity), timeout=60
    )
    assert answer.status_code == 200, answer.text
    return answer.json()


def wait_for(predicate, *, timeout: float, every: float = 0.2, what: str = "the condition"):
    """Call ``predicate`` until it returns something true (returned) or the time is up."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(every)


def instruments_with_prefix(site, prefix: str) -> dict:
    return site.python(
        "from django.db.models import Count\n"
        "from nqihub.metrology.models import Instrument\n"
        f"rows = Instrument.objects.filter(factory_number__startswith={prefix!r})\n"
        "out = {'rows': rows.count(), 'distinct': rows.values('factory_number').distinct().count()}\n"
    )
