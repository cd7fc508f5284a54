"""两库 and the institution pool: the inspection-object pool with its risk score, the inspector
pool with declared conflicts, and the testing institutions qualified for a product category."""

from __future__ import annotations

import datetime

from django.db import models
from django.utils import timezone

from nqihub.core.access import OrganizationKind
from nqihub.organizations.models import AuthorisationScope, Discipline, Organization

from ..models import ProductCategory


def qualified_institutions(category: ProductCategory, on: datetime.date | None = None) -> models.QuerySet:
    """The active testing institutions whose CMA capability covers ``category`` on day ``on``
    (today by default): an ``AuthorisationScope`` line of discipline ``testing`` whose
    ``subject_code`` is the category's code and whose validity (open ends allowed) includes the
    day. Returns an ``Organization`` queryset (one row per institution, however many lines)."""
    day = on or timezone.localdate()
    lines = AuthorisationScope.objects.filter(
        discipline=Discipline.TESTING,
        subject_code=category.code,
    ).filter(
        models.Q(valid_from__isnull=True) | models.Q(valid_from__lte=day),
        models.Q(valid_until__isnull=True) | models.Q(valid_until__gte=day),
    )
    return Organization.objects.filter(
        kind=OrganizationKind.INSTITUTION,
        is_active=True,
        pk__in=lines.values("organization_id"),
    ).order_by("name", "pk")
