"""The permission matrix of plans, batches and draws: who sees and who acts, through the
querysets every page, API call and service reads."""

from __future__ import annotations

import pytest

from nqihub.sampling.models import AnnualPlan, Batch, Draw
from nqihub.sampling.services import draws as services

pytestmark = pytest.mark.django_db

# user -> (sees the city's plan, reviews it, changes it; sees the batch, manages it; sees its draws)
MATRIX = {
    "baotou": (True, False, True, True, True, True),
    "baotou_manager": (True, False, True, True, True, True),
    "region": (True, True, False, True, False, True),
    "kundulun": (False, False, False, False, False, False),
    "kundulun_viewer": (False, False, False, False, False, False),
    "xincheng": (False, False, False, False, False, False),
    "ent_manager": (False, False, False, False, False, False),
    "ent_other": (False, False, False, False, False, False),
    "inst": (False, False, False, True, False, False),
    "applicant": (False, False, False, False, False, False),
    "sysadmin": (False, False, False, False, False, False),
}


@pytest.mark.parametrize("who", sorted(MATRIX))
def test_who_sees_and_acts(world, sampling, who):
    user = sampling.users.get(who) or world.users[who]
    services.batch_draw(actor=world.users["baotou"], batch=sampling.batch)
    plan, batch = sampling.plan, sampling.batch
    sees_plan, reviews, changes, sees_batch, manages, sees_draws = MATRIX[who]
    assert AnnualPlan.objects.for_user(user, "view").filter(pk=plan.pk).exists() is sees_plan
    assert AnnualPlan.objects.for_user(user, "review").filter(pk=plan.pk).exists() is reviews
    assert AnnualPlan.objects.for_user(user, "change").filter(pk=plan.pk).exists() is changes
    assert Batch.objects.for_user(user, "view").filter(pk=batch.pk).exists() is sees_batch
    assert Batch.objects.for_user(user, "manage").filter(pk=batch.pk).exists() is manages
    assert Draw.objects.for_user(user, "view").filter(batch=batch).exists() is sees_draws


def test_anonymous_sees_nothing(client, sampling, world):
    from django.contrib.auth.models import AnonymousUser

    services.batch_draw(actor=world.users["baotou"], batch=sampling.batch)
    for model in (AnnualPlan, Batch, Draw):
        assert not model.objects.for_user(AnonymousUser(), "view").exists()
    assert client.get(f"/api/v1/sampling-batches/{sampling.batch.pk}/").status_code in (401, 403)
    assert client.post(f"/api/v1/sampling-batches/{sampling.batch.pk}/draw/", {"reason": "x"}).status_code in (401, 403)
