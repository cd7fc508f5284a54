"""factory_boy factories for the test suite."""

from __future__ import annotations

import factory
from django.contrib.auth import get_user_model

from nqihub.core.access import MembershipRole, OrganizationKind
from nqihub.organizations.credit_code import make_credit_code, make_organisation_code
from nqihub.organizations.models import Membership, Organization

PASSWORD = "Test-passw0rd!"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    display_name = factory.Sequence(lambda n: f"测试用户{n}")

    @factory.post_generation
    def password(obj, create, extracted, **kwargs):
        obj.set_password(extracted or PASSWORD)
        if create:
            obj.save()


class OrganizationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Organization

    kind = OrganizationKind.ENTERPRISE
    name = factory.Sequence(lambda n: f"测试企业{n}有限公司")
    division_id = "150203"
    credit_code = factory.LazyAttributeSequence(
        lambda o, n: make_credit_code(division=o.division_id, body=make_organisation_code(f"{n + 10000000:08d}"))
    )
    address = "包头市昆都仑区钢铁大街 1 号"
    legal_representative = "张三"


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    user = factory.SubFactory(UserFactory)
    organization = factory.SubFactory(OrganizationFactory)
    role = MembershipRole.MANAGER
    is_default = True


def valid_code(n: int, division: str = "150203") -> str:
    return make_credit_code(division=division, body=make_organisation_code(f"{n + 20000000:08d}"))
