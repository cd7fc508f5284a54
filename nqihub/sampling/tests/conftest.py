"""Supervision-sampling fixtures, on top of the project's ``world``.

``sampling`` adds, written straight to the tables (the services are tested on their own): the
dairy item of the region's list with its rules v1 and three test items, testing capabilities
(the world's institution and a second one for re-tests), inspectors in 昆都仑区, 青山区 and
包头市, pool objects for the world's enterprises and a few more, and 包头市's 2026 plan (a
case, filed) with a draft double-random batch over 包头市 testing dairy products.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from decimal import Decimal

import pytest
from django.utils import timezone

from nqihub.cases import services as case_services
from nqihub.core.access import MembershipRole, OrganizationKind
from nqihub.organizations.models import AuthorisationScope, Discipline, InstitutionDiscipline, Organization
from nqihub.sampling.models import (
    AnnualPlan,
    Batch,
    BatchInstitution,
    InspectionItem,
    InspectionRules,
    Inspector,
    PoolObject,
    ProductCategory,
    TestItem,
)
from nqihub.testing.factories import MembershipFactory, OrganizationFactory, UserFactory


@dataclass
class Sampling:
    dairy: ProductCategory
    cashmere: ProductCategory
    item: InspectionItem
    rules: InspectionRules
    test_items: list[TestItem]
    institution: Organization
    retest_institution: Organization
    inspectors: dict[str, Inspector]
    objects: dict[str, PoolObject]
    plan: AnnualPlan
    batch: Batch
    users: dict = field(default_factory=dict)


def _testing_scope(institution: Organization, category: ProductCategory) -> None:
    InstitutionDiscipline.objects.get_or_create(organization=institution, discipline=Discipline.TESTING)
    AuthorisationScope.objects.create(
        organization=institution,
        discipline=Discipline.TESTING,
        subject_code=category.code,
        subject_name=category.name,
        basis="CMA 资质认定证书",
        valid_from=datetime.date(2024, 1, 1),
        valid_until=datetime.date(2030, 12, 31),
    )


@pytest.fixture
def sampling(world) -> Sampling:
    dairy = ProductCategory.objects.get(code="C01")
    cashmere = ProductCategory.objects.get(code="C02")
    item = InspectionItem.objects.create(
        code="NM-CC-001",
        name="乳制品产品质量监督抽查",
        category=dairy,
        legal_basis="《中华人民共和国产品质量法》第十五条",
        importance=InspectionItem.Importance.KEY,
        ratio_percent=Decimal("10"),
        owner=world.region_reg,
        division_id=world.region_reg.division_id,
    )
    rules = InspectionRules.objects.create(
        item=item,
        version=1,
        title="乳制品产品质量监督抽查实施细则（2026年版）",
        effective_from=datetime.date(2026, 1, 1),
        test_quantity=4,
        spare_quantity=4,
        sampling_method="同一批次产品中随机抽取，检验样品与备用样品分别封存。",
    )
    test_items = [
        TestItem.objects.create(
            rules=rules,
            seq=1,
            name="蛋白质",
            method_standard="GB 5009.5",
            requirement="≥2.9 g/100g",
            lower=Decimal("2.9"),
            unit="g/100g",
            is_key=True,
        ),
        TestItem.objects.create(
            rules=rules,
            seq=2,
            name="菌落总数",
            method_standard="GB 4789.2",
            requirement="≤100000 CFU/g",
            upper=Decimal("100000"),
            unit="CFU/g",
        ),
        TestItem.objects.create(
            rules=rules,
            seq=3,
            name="标签",
            requirement="符合 GB 7718 的规定",
            judgement=TestItem.Judgement.TEXT,
        ),
    ]
    retest = OrganizationFactory(
        kind=OrganizationKind.INSTITUTION, name="内蒙古自治区产品质量检验研究院", division_id="150102", credit_code=None
    )
    _testing_scope(world.institution, dairy)
    _testing_scope(retest, dairy)
    users = {"retest": MembershipFactory(user=UserFactory(username="retest"), organization=retest).user}
    users["baotou_manager"] = MembershipFactory(
        user=UserFactory(username="baotou_manager"), organization=world.baotou_reg, role=MembershipRole.MANAGER
    ).user

    def inspector(key, name, office, number):
        person = Inspector.objects.create(
            name=name, enforcement_number=number, office=office, division_id=office.division_id
        )
        person.fields.add(dairy)
        return person

    inspectors = {
        "kd1": inspector("kd1", "王执法", world.kundulun_reg, "15020300001"),
        "kd2": inspector("kd2", "李执法", world.kundulun_reg, "15020300002"),
        "qs1": inspector("qs1", "赵执法", world.qingshan_reg, "15020400001"),
        "qs2": inspector("qs2", "钱执法", world.qingshan_reg, "15020400002"),
        "bt1": inspector("bt1", "孙执法", world.baotou_reg, "15020000001"),
        "bt2": inspector("bt2", "周执法", world.baotou_reg, "15020000002"),
    }

    def pool(key, org, product, brand, model, **extra):
        return PoolObject.objects.create(
            organization=org,
            division_id=org.division_id,
            category=dairy,
            product_name=product,
            brand=brand,
            model=model,
            standard="GB 25190",
            **extra,
        )

    more = [
        OrganizationFactory(name=f"包头乳业{n}有限公司", division_id=code)
        for n, code in enumerate(["150203", "150203", "150204", "150204", "150202", "150205"], start=1)
    ]
    objects = {
        "kundulun": pool("kundulun", world.ent_kundulun, "灭菌乳", "草原牧歌", "250mL"),
        "qingshan": pool("qingshan", world.ent_qingshan, "酸乳", "青山", "200g", complaints=3),
        "xincheng": pool("xincheng", world.ent_xincheng, "灭菌乳", "青城", "250mL"),
    }
    for n, org in enumerate(more, start=1):
        objects[f"more{n}"] = pool(f"more{n}", org, "调制乳", f"品牌{n}", "200mL", earlier_failures=n % 2)

    case = case_services.case_open(
        kind="sampling_plan",
        actor=world.users["baotou"],
        applicant_organization=world.baotou_reg,
        handling_organization=world.region_reg,
        division=world.baotou_reg.division,
    )
    case = case_services.case_approve(case, actor=world.users["region"])
    plan = AnnualPlan.objects.create(
        case=case,
        regulator=world.baotou_reg,
        division_id=world.baotou_reg.division_id,
        year=2026,
        title="包头市2026年产品质量监督抽查计划",
    )
    today = timezone.localdate()
    batch = Batch.objects.create(
        plan=plan,
        number="CC2026-0001",
        kind=Batch.Kind.RANDOM,
        title="2026年乳制品双随机抽查",
        item=item,
        rules=rules,
        organizer=world.baotou_reg,
        division_id=world.baotou_reg.division_id,
        object_count=4,
        starts_on=today,
        ends_on=today + datetime.timedelta(days=60),
        created_by=world.users["baotou"],
    )
    BatchInstitution.objects.create(batch=batch, institution=world.institution)
    return Sampling(
        dairy=dairy,
        cashmere=cashmere,
        item=item,
        rules=rules,
        test_items=test_items,
        institution=world.institution,
        retest_institution=retest,
        inspectors=inspectors,
        objects=objects,
        plan=plan,
        batch=batch,
        users=users,
    )
