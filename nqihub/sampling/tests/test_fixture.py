"""The shared fixture builds, and the reference data is loaded by the migration."""

from nqihub.sampling.models import ProductCategory, SamplingRule
from nqihub.sampling.services.rules import rule


def test_reference_data_and_fixture(sampling):
    assert ProductCategory.objects.get(code="C0401").parent.code == "C04"
    assert rule("objection_days") == 15
    assert rule("correction_days") == 60
    assert rule("recheck_days") == 75
    assert SamplingRule.objects.get(code="disclosure_working_days").verification == "unverified"
    assert sampling.plan.case.state == "approved"
    assert sampling.plan.case.number.startswith("CCJH")
    assert sampling.batch.state == "draft"
    assert len(sampling.objects) == 9
