"""A bounded load test on loopback: gunicorn (2 workers x 4 threads, as ``make demo`` runs it)
and a task worker serve, for ``NQI_ATTACK_LOAD_SECONDS`` (default 20; CI runs longer),
concurrent clients that

* file verification applications as an enterprise, each for instruments of its own, and
  accept them as the institution;
* import ledgers (background jobs) and wait for each to end;
* check certificates publicly at ``/verify/<code>/`` (page and JSON).

Then: no error answer at all (no 5xx, no refusal the flow does not expect), and the database
holds every accepted write exactly once: each application filed once under a number of its
own, each of its instruments in that one application, each imported row once.
"""

from __future__ import annotations

import random
import threading
import time
from collections import Counter

import pytest
import requests

from nqihub.testing.site import env_int

from .helpers import import_job, ledger_csv, start_import, wait_for

# django_db: the autouse fixtures of conftest.py clear the cache, which may be the database
pytestmark = [pytest.mark.attack, pytest.mark.django_db]

PER_APPLICATION = 3
CONTACT = {"contact_name": "王工", "contact_phone": "0472-5123456"}


def _prepare(site) -> dict:
    """Instruments for the applications (imported before the load starts), the institution to
    apply to, and public codes to check."""
    # Enough that the applicants do not run out (about six applications a second here).
    seconds = env_int("NQI_ATTACK_LOAD_SECONDS", 20)
    data, prefix = ledger_csv(env_int("NQI_ATTACK_LOAD_INSTRUMENTS", max(1500, 40 * PER_APPLICATION * seconds)))
    job = start_import(site, "enterprise", data)
    done = wait_for(
        lambda: (j := import_job(site, "enterprise", job["id"]))["finished"] and j, timeout=600, what="the import"
    )
    assert done["state"] == "done", done
    return site.python(
        "from nqihub.accounts.models import User\n"
        "from nqihub.metrology.models import Instrument, IssuedDocument\n"
        "from nqihub.metrology.services import applications as s\n"
        f"mine = Instrument.objects.filter(factory_number__startswith={prefix!r})\n"
        "one = mine.first()\n"
        "offered = s.institutions_offering(organization=one.organization, catalogue_items={one.catalogue_item})\n"
        "institution = offered.get(memberships__user__username='baotou_jiliang')\n"
        "out = {'instruments': list(mine.values_list('pk', flat=True)), 'institution': institution.pk,\n"
        "       'codes': list(IssuedDocument.objects.exclude(public_code='').values_list('public_code', flat=True)[:50])}\n"
    )


def test_concurrent_applications_imports_and_public_checks(site):
    env = {"NQI_VERIFY_RATE_PER_MINUTE": "0"}
    site.start_web(workers=2, threads=4, env=env)
    site.start_worker(env=env)
    prepared = _prepare(site)
    assert prepared["codes"], "the demo has issued documents to check"
    free = list(prepared["instruments"])
    lock = threading.Lock()
    errors: list[str] = []
    filed: list[dict] = []  # applications answered 201
    imported: list[tuple[str, int]] = []  # (prefix, rows) of imports that ended "done"
    checks = Counter()
    stop_at = time.monotonic() + env_int("NQI_ATTACK_LOAD_SECONDS", 20)

    def error(what: str, answer) -> None:
        with lock:
            errors.append(f"{what}: {getattr(answer, 'status_code', answer)} {getattr(answer, 'text', '')[:300]}")

    def applicant():
        session = requests.Session()
        enterprise, institution = site.headers("enterprise"), site.headers("institution")
        while time.monotonic() < stop_at:
            with lock:
                ids, free[:PER_APPLICATION] = free[:PER_APPLICATION], []
            if len(ids) < PER_APPLICATION:
                return
            body = {"instrument_ids": ids, "institution": prepared["institution"], "mode": "drop_off", **CONTACT}
            answer = session.post(f"{site.base_url}/api/v1/verification-applications/", json=body, headers=enterprise)
            if answer.status_code != 201:
                error(f"application of {ids}", answer)
                continue
            application = answer.json()
            with lock:
                filed.append({"id": application["id"], "number": application["number"], "instruments": ids})
            accepted = session.post(
                f"{site.base_url}/api/v1/verification-applications/{application['id']}/accept/", headers=institution
            )
            if accepted.status_code != 200:
                error(f"accepting {application['number']}", accepted)

    def importer():
        session = requests.Session()
        while time.monotonic() < stop_at:
            rows = random.randint(50, 300)
            data, prefix = ledger_csv(rows)
            job = start_import(site, "enterprise", data, session)
            end = wait_for(
                lambda job=job: (j := import_job(site, "enterprise", job["id"]))["finished"] and j,
                timeout=600,
                every=0.5,
                what="an import",
            )
            if end["state"] != "done" or end["created"] != rows:
                error(f"import of {rows} rows", end)
            else:
                with lock:
                    imported.append((prefix, rows))

    def checker():
        session = requests.Session()
        while time.monotonic() < stop_at:
            code = random.choice(prepared["codes"])
            suffix = random.choice(["/", ".json"])
            answer = session.get(f"{site.base_url}/verify/{code}{suffix}")
            if answer.status_code != 200:
                error(f"public check of {code}{suffix}", answer)
            with lock:
                checks[suffix] += 1

    def guarded(target):
        def run():
            try:
                target()
            except Exception as exc:  # a broken connection is an error of the run, not a crash of the test
                error(target.__name__, repr(exc))

        return run

    threads = [threading.Thread(target=guarded(f)) for f in [applicant] * 4 + [importer] + [checker] * 3]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=900)
    assert not any(t.is_alive() for t in threads), "a client did not finish"

    assert errors == [], f"{len(errors)} errors:\n" + "\n".join(errors[:30]) + "\n" + site.log_text()[-6000:]
    assert filed and imported and sum(checks.values()), (len(filed), imported, checks)

    # Every write the clients were told of is in the database exactly once.
    stored = site.python(
        "from django.db.models import Count\n"
        "from nqihub.metrology.models import ApplicationItem, Instrument, VerificationApplication\n"
        f"ids = {[f['id'] for f in filed]!r}\n"
        f"prefixes = {[p for p, _ in imported]!r}\n"
        "apps = VerificationApplication.objects.filter(pk__in=ids)\n"
        "out = {\n"
        "  'applications': {a.pk: [a.number, a.state, sorted(a.items.values_list('instrument_id', flat=True))] for a in apps},\n"
        "  'numbers_used_twice': list(VerificationApplication.objects.values('number').annotate(c=Count('pk'))"
        ".filter(c__gt=1).values_list('number', flat=True)),\n"
        "  'items_twice': ApplicationItem.objects.filter(application__in=apps).values('instrument')"
        ".annotate(c=Count('pk')).filter(c__gt=1).count(),\n"
        "  'imported': {p: [Instrument.objects.filter(factory_number__startswith=p).count(),"
        " Instrument.objects.filter(factory_number__startswith=p).values('factory_number').distinct().count()]"
        " for p in prefixes},\n"
        "}\n"
    )
    applications = {int(k): v for k, v in stored["applications"].items()}
    assert len(applications) == len(filed), "an application answered 201 is missing"
    for f in filed:
        number, state, instruments = applications[f["id"]]
        assert (number, state, instruments) == (f["number"], "accepted", sorted(f["instruments"])), f
    assert stored["numbers_used_twice"] == [] and stored["items_twice"] == 0, stored
    assert stored["imported"] == {p: [rows, rows] for p, rows in imported}
    print(
        f"load: {len(filed)} applications filed and accepted, {len(imported)} imports "
        f"({sum(r for _, r in imported)} rows), {sum(checks.values())} public checks, 0 errors"
    )
