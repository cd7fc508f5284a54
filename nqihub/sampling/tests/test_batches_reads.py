"""A regulator's reads of plans, batches and draws are recorded once each; the download of a
draw's pool (it names enterprises) is recorded as an export."""

from __future__ import annotations

import pytest

from nqihub.audit.models import AuditEvent
from nqihub.sampling.services import draws as services

pytestmark = pytest.mark.django_db


def _reads(user):
    return list(AuditEvent.objects.filter(actor=user, action__in=("data.query", "data.export")).order_by("seq"))


@pytest.mark.parametrize(
    ("url", "model", "kind"),
    [
        ("/sampling/plans/", "sampling.annualplan", "list"),
        ("/sampling/plans/{plan}/", "sampling.annualplan", "detail"),
        ("/sampling/batches/", "sampling.batch", "list"),
        ("/sampling/batches/{batch}/", "sampling.batch", "detail"),
        ("/sampling/draws/{draw}/pool.csv", "sampling.draw", "export"),
    ],
)
def test_a_regulators_read_is_recorded_exactly_once(web, world, sampling, url, model, kind):
    drawn = services.batch_draw(actor=world.users["baotou"], batch=sampling.batch)
    user = world.users["region"]
    before = len(_reads(user))
    response = web(user).get(url.format(plan=sampling.plan.pk, batch=sampling.batch.pk, draw=drawn.pk))
    assert response.status_code == 200
    reads = _reads(user)[before:]
    assert len(reads) == 1
    event = reads[0]
    assert event.target_type == model
    assert event.details["kind"] == kind
    assert event.action == ("data.export" if kind == "export" else "data.query")
