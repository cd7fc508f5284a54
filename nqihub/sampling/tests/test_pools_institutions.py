"""The institution pool: testing institutions whose CMA capability covers a category."""

from __future__ import annotations

import datetime

import pytest

from nqihub.core.access import OrganizationKind
from nqihub.organizations.models import AuthorisationScope, Discipline
from nqihub.sampling.services.pools import qualified_institutions
from nqihub.testing.factories import OrganizationFactory

pytestmark = pytest.mark.django_db


def test_institutions_with_valid_capability_are_qualified(sampling):
    got = list(qualified_institutions(sampling.dairy, on=datetime.date(2026, 6, 1)))
    assert set(got) == {sampling.institution, sampling.retest_institution}
    assert list(qualified_institutions(sampling.cashmere, on=datetime.date(2026, 6, 1))) == []


def test_validity_window_and_discipline_and_activity_count(sampling):
    day = datetime.date(2026, 6, 1)
    lapsed = OrganizationFactory(kind=OrganizationKind.INSTITUTION, name="过期检测所", credit_code=None)
    AuthorisationScope.objects.create(
        organization=lapsed,
        discipline=Discipline.TESTING,
        subject_code="C01",
        subject_name="乳制品",
        valid_until=datetime.date(2026, 5, 31),
    )
    metrology_only = OrganizationFactory(kind=OrganizationKind.INSTITUTION, name="计量所", credit_code=None)
    AuthorisationScope.objects.create(
        organization=metrology_only, discipline=Discipline.METROLOGY, subject_code="C01", subject_name="乳制品"
    )
    open_ended = OrganizationFactory(kind=OrganizationKind.INSTITUTION, name="长期检测所", credit_code=None)
    for _ in range(2):  # two lines, one row
        AuthorisationScope.objects.create(
            organization=open_ended, discipline=Discipline.TESTING, subject_code="C01", subject_name="乳制品"
        )
    got = list(qualified_institutions(sampling.dairy, on=day))
    assert lapsed not in got and metrology_only not in got
    assert got.count(open_ended) == 1
    assert lapsed in qualified_institutions(sampling.dairy, on=datetime.date(2026, 5, 31))
    sampling.retest_institution.is_active = False
    sampling.retest_institution.save()
    assert sampling.retest_institution not in qualified_institutions(sampling.dairy, on=day)
