# ruff: noqa: F811 - fixtures imported from other test modules are used as arguments
"""Files on S3-compatible object storage (production: MinIO, Ceph RGW, …), through
``NQI_S3_*`` settings, against a real S3-protocol server over HTTP (moto's threaded server,
in this process): issuing a document stores its PDF there and the page serves it back intact;
an import reads its upload from there; the daily clean-up lists, ages and deletes objects there
as it does local files."""

from __future__ import annotations

import datetime
import hashlib
import socket
import uuid

import boto3
import pytest
from django.urls import reverse
from django.utils import timezone
from moto.server import ThreadedMotoServer

from nqihub.core.files import clean_stored_files
from nqihub.metrology.models import ImportJob, Instrument
from nqihub.metrology.services.documents import document_issue
from nqihub.settings import s3_storage

from .test_documents import committed, make_result, periodic_item, signers  # noqa: F401 - fixtures
from .test_imports import _row, _xlsx, catalogue, run  # noqa: F401 - fixtures

KEYS = {"aws_access_key_id": "nqihub-test", "aws_secret_access_key": "nqihub-test-secret", "region_name": "us-east-1"}


@pytest.fixture(scope="module")
def s3_endpoint():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    yield f"http://127.0.0.1:{port}"
    server.stop()


@pytest.fixture
def bucket(settings, s3_endpoint):
    """A fresh bucket, and the platform's default storage pointed at it by the same settings
    production uses."""
    name = f"nqihub-{uuid.uuid4().hex[:12]}"
    client = boto3.client("s3", endpoint_url=s3_endpoint, **KEYS)
    client.create_bucket(Bucket=name)
    environ = {
        "NQI_S3_BUCKET": name,
        "NQI_S3_ENDPOINT_URL": s3_endpoint,
        "NQI_S3_ACCESS_KEY": KEYS["aws_access_key_id"],
        "NQI_S3_SECRET_KEY": KEYS["aws_secret_access_key"],
        "NQI_S3_REGION": KEYS["region_name"],
    }
    settings.STORAGES = {**settings.STORAGES, "default": s3_storage(environ)}
    return client, name


def _keys(client, bucket_name) -> set[str]:
    return {o["Key"] for o in client.list_objects_v2(Bucket=bucket_name).get("Contents", [])}


@pytest.mark.django_db
def test_an_issued_pdf_is_stored_in_the_bucket_and_served_intact(world, web, make_result, bucket):
    client, name = bucket
    document = committed(lambda: document_issue(actor=world.users["inst"], result=make_result()))
    assert document.pdf.name in _keys(client, name)
    stored = client.get_object(Bucket=name, Key=document.pdf.name)["Body"].read()
    assert stored.startswith(b"%PDF-") and hashlib.sha256(stored).hexdigest() == document.pdf_sha256
    response = web(world.users["ent_manager"]).get(reverse("metrology:document_pdf", args=[document.pk]))
    assert response.status_code == 200 and response.content == stored


@pytest.mark.django_db
def test_the_daily_clean_up_works_on_the_bucket(world, make_result, bucket):
    client, name = bucket
    document = committed(lambda: document_issue(actor=world.users["inst"], result=make_result()))
    directory = document.pdf.name.rsplit("/", 1)[0]
    orphan = f"{directory}/left-by-a-stopped-worker.pdf"
    client.put_object(Bucket=name, Key=orphan, Body=b"%PDF-1.4 orphan")
    client.put_object(Bucket=name, Key="backups/not-ours.txt", Body=b"kept")

    assert clean_stored_files().orphans == []  # new objects get a day's grace
    report = clean_stored_files(now=timezone.now() + datetime.timedelta(days=2))
    assert report.orphans == [orphan] and report.scanned == 2
    assert _keys(client, name) == {document.pdf.name, "backups/not-ours.txt"}


@pytest.mark.django_db
def test_an_import_reads_its_upload_from_the_bucket_and_the_upload_goes_after_a_week(world, catalogue, run, bucket):
    client, name = bucket
    job = run(world.users["ent_manager"], "台账.xlsx", _xlsx([_row(factory_number="S3-0001")]))
    assert job.state == ImportJob.State.DONE
    assert Instrument.objects.filter(organization=world.ent_kundulun, factory_number="S3-0001").exists()
    upload = ImportJob.objects.get(pk=job.pk).file.name
    assert upload in _keys(client, name)
    clean_stored_files(now=timezone.now() + datetime.timedelta(days=8))
    assert upload not in _keys(client, name) and ImportJob.objects.get(pk=job.pk).file.name == ""
