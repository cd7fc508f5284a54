"""Fault tests: the task worker and the web server are killed (SIGKILL, no chance to clean up)
in the middle of a ledger import (while it writes) and of issuing certificates, and what they leave is checked:

* the import wrote all of its rows or none (one transaction), and the job ends clearly: the
  worker's death is noticed through the heartbeat (``NQI_JOB_STALE_SECONDS``, shortened here)
  and the job is run again by a restarted worker, to exactly the rows of the file, once;
* every result a LIMS pushed while the web server died has exactly one certificate or none,
  every certificate a result, every number one certificate; a certificate whose PDF was not
  yet written is rendered when it is fetched, and a PDF file written without its row is an
  orphan the daily clean-up removes (``clean_stored_files``).
"""

from __future__ import annotations

import concurrent.futures
import datetime
import uuid

import pytest
import requests

from nqihub.testing.site import env_int

from .helpers import import_job, instruments_with_prefix, ledger_csv, start_import, wait_for

# django_db: the autouse fixtures of conftest.py clear the cache, which may be the database
pytestmark = [pytest.mark.attack, pytest.mark.django_db]

STALE_SECONDS = 15


def test_a_worker_killed_mid_import_leaves_no_half_import_and_the_job_is_run_again(site):
    env = {"NQI_JOB_STALE_SECONDS": str(STALE_SECONDS)}
    site.start_web(env=env)
    worker = site.start_worker(env=env)
    rows = env_int("NQI_ATTACK_IMPORT_ROWS", 60000)
    data, prefix = ledger_csv(rows)
    job = start_import(site, "enterprise", data)

    def writing_or_ended():
        found = import_job(site, "enterprise", job["id"])
        return found["state"] if found["state"] == "importing" or found["finished"] else None

    # Killed while it writes the rows (its one write transaction is open).
    running = wait_for(
        writing_or_ended,
        timeout=300,
        every=0.02,
        what="the worker to start writing the import",
    )
    site.kill(worker)
    seen = import_job(site, "enterprise", job["id"])
    assert running == "importing" and not seen["finished"], f"the import ended before the worker was killed: {seen}"
    assert seen["state"] == "importing", seen
    counted = instruments_with_prefix(site, prefix)
    assert counted["rows"] == 0, f"half an import after the worker died while writing: {counted}"

    # A new worker; polling the job (as its page does) notices the dead worker and queues it again.
    site.start_worker(env=env)
    done = wait_for(
        lambda: (j := import_job(site, "enterprise", job["id"]))["finished"] and j,
        timeout=STALE_SECONDS + 300,
        every=1,
        what="the import to end",
    )
    assert done["state"] == "done", done
    assert done["created"] == rows, done
    assert instruments_with_prefix(site, prefix) == {"rows": rows, "distinct": rows}


# --- certificates ------------------------------------------------------------------------------


def _open_items(site, count: int) -> list[dict]:
    """``count`` items of applications accepted by the demo institution, ready for results:
    applied for by the enterprise over the API (its own instruments, imported first)."""
    data, prefix = ledger_csv(count)
    session = requests.Session()
    job = start_import(site, "enterprise", data, session)
    wait_for(lambda: import_job(site, "enterprise", job["id"])["finished"], timeout=300, what="the import")
    return site.python(
        "from nqihub.accounts.models import User\n"
        "from nqihub.metrology.models import Instrument\n"
        "from nqihub.metrology.services import applications as s\n"
        "ent = User.objects.get(username='tianhe')\n"
        "inst = User.objects.get(username='baotou_jiliang')\n"
        f"ids = list(Instrument.objects.filter(factory_number__startswith={prefix!r}).values_list('pk', flat=True))\n"
        "orgs = s.institutions_offering(organization=Instrument.objects.get(pk=ids[0]).organization,"
        " catalogue_items={Instrument.objects.get(pk=ids[0]).catalogue_item})\n"
        "institution = orgs.get(memberships__user=inst)\n"
        "out = []\n"
        "for n in range(0, len(ids), 20):\n"
        "    a = s.application_submit(actor=ent, instrument_ids=ids[n:n + 20], institution_id=institution.pk,"
        " mode='drop_off', contact_name='王工', contact_phone='0472-5123456')\n"
        "    s.application_accept(actor=inst, application=a.pk)\n"
        "    out += [{'item': i.pk} for i in a.items.all()]\n"
    )


def _signers(site) -> dict:
    return site.python(
        "from nqihub.accounts.models import User\n"
        "from nqihub.metrology.services.results import institution_signers\n"
        "inst = User.objects.get(username='baotou_jiliang')\n"
        "from nqihub.core.access import get_actor\n"
        "names = [u.username for u in institution_signers(get_actor(inst).organization)]\n"
        "out = {'verifier': names[0], 'checker': names[1], 'approver': names[2]}\n"
    )


def _consistency(site) -> dict:
    """What a crash may not leave: results without their certificate, certificates without a
    result, numbers used twice, PDFs that cannot be fetched."""
    return site.python(
        "from django.db.models import Count\n"
        "from nqihub.documents.services import stored_pdf\n"
        "from nqihub.metrology.models import IssuedDocument, VerificationResult\n"
        "results = VerificationResult.objects.annotate(n=Count('documents'))\n"
        "docs = IssuedDocument.objects.all()\n"
        "unreadable = []\n"
        "for d in docs.filter(pdf=''):\n"
        "    try:\n"
        "        assert stored_pdf(d).startswith(b'%PDF')\n"
        "    except Exception as exc:\n"
        "        unreadable.append((d.number, repr(exc)))\n"
        "out = {\n"
        "    'results_without_document': results.filter(n=0).count(),\n"
        "    'results_with_two': results.filter(n__gt=1).count(),\n"
        "    'documents_without_result': docs.filter(result__isnull=True).count(),\n"
        "    'numbers_used_twice': docs.values('number').annotate(c=Count('pk')).filter(c__gt=1).count(),\n"
        "    'unreadable_pdfs': unreadable,\n"
        "    'documents': docs.count(),\n"
        "}\n"
    )


def test_a_web_server_killed_while_issuing_certificates_leaves_nothing_half_written(site):
    site.start_worker()  # the ledger import that makes the instruments
    web = site.start_web()
    items = _open_items(site, env_int("NQI_ATTACK_ISSUE_ITEMS", 40))
    signers = _signers(site)
    before = _consistency(site)
    token_headers = site.headers("institution")
    today = datetime.date.today().isoformat()

    def push(item: dict) -> int | str:
        body = {
            "item": item["item"],
            "outcome": "pass",
            "verified_on": today,
            "external_id": f"fault-{uuid.uuid4().hex}",
            **signers,
        }
        try:
            return requests.post(
                site.base_url + "/api/v1/lims/results/", json=body, headers=token_headers, timeout=60
            ).status_code
        except requests.RequestException as exc:
            return type(exc).__name__

    with concurrent.futures.ThreadPoolExecutor(max_workers=8) as pool:
        futures = [pool.submit(push, item) for item in items]
        # Killed once some certificates are issued and while others are being issued.
        wait_for(lambda: sum(f.done() for f in futures) >= 3, timeout=300, every=0.02, what="the first certificates")
        site.kill(web)
        outcomes = [f.result() for f in futures]
    assert 201 in outcomes, outcomes
    assert any(not isinstance(o, int) for o in outcomes), f"every push was answered before the kill: {outcomes}"
    assert all(o == 201 or not isinstance(o, int) for o in outcomes), outcomes

    after = _consistency(site)
    assert after["results_without_document"] == before["results_without_document"], after
    assert (after["results_with_two"], after["documents_without_result"], after["numbers_used_twice"]) == (0, 0, 0)
    assert after["unreadable_pdfs"] == [], after
    assert after["documents"] - before["documents"] >= outcomes.count(201)

    # A PDF file written just before the kill, whose row never named it, is an orphan: the
    # daily clean-up deletes it (with no grace period here) and leaves every issued PDF.
    cleaned = site.python(
        "import datetime\n"
        "from nqihub.core.files import clean_stored_files\n"
        "out = clean_stored_files(grace=datetime.timedelta(0)).orphans\n"
    )
    assert _consistency(site)["unreadable_pdfs"] == [], cleaned


def test_a_web_server_killed_mid_upload_leaves_every_import_ended_and_whole(site):
    """Uploads in flight when the web server dies: an upload whose job was committed ends
    (its task queued again if the server died before queuing it), one that was not leaves no
    job; each ledger's rows are then all there or none, once."""
    env = {"NQI_JOB_STALE_SECONDS": "5"}
    web = site.start_web(env=env)
    files = [ledger_csv(3000) for _ in range(8)]

    def upload(data: bytes) -> int | str:
        try:
            return requests.post(
                site.base_url + "/api/v1/instrument-imports/",
                headers=site.headers("enterprise"),
                files={"file": ("ledger.csv", data, "text/csv")},
                timeout=120,
            ).status_code
        except requests.RequestException as exc:
            return type(exc).__name__

    with concurrent.futures.ThreadPoolExecutor(max_workers=8) as pool:
        futures = [pool.submit(upload, data) for data, _prefix in files]
        wait_for(lambda: any(f.done() for f in futures), timeout=300, every=0.01, what="a first upload")
        site.kill(web)
        outcomes = [f.result() for f in futures]
    assert all(o == 202 or not isinstance(o, int) for o in outcomes), outcomes
    assert any(not isinstance(o, int) for o in outcomes), f"every upload was answered before the kill: {outcomes}"

    # The server and a worker come back; the periodic recovery ends every job.
    site.start_web(env=env)
    site.start_worker(env=env)

    def unfinished() -> int:
        site.manage("recover_jobs", env=env)
        return site.python(
            "from nqihub.metrology.models import ImportJob\n"
            "out = ImportJob.objects.filter(finished_at__isnull=True).count()\n"
        )

    wait_for(lambda: unfinished() == 0, timeout=600, every=2, what="every import to end")
    for (_data, prefix), outcome in zip(files, outcomes, strict=True):
        counted = instruments_with_prefix(site, prefix)
        assert counted["rows"] == counted["distinct"] and counted["rows"] in (0, 3000), (prefix, counted)
        if outcome == 202:  # accepted: imported
            assert counted["rows"] == 3000, (prefix, counted)
    ended = site.python(
        "from nqihub.metrology.models import ImportJob\nout = sorted({j.state for j in ImportJob.objects.all()})\n"
    )
    assert set(ended) <= {"done"}, ended
