"""Demo data for supervision sampling (``manage.py seed_sampling_demo``, run after ``seed_demo``).

A year of 双随机、一公开 in Inner Mongolia on top of the platform's demo organisations: the
region's item list for real product categories of the region (乳制品, 羊绒制品, 稀土永磁材料,
水泥) with their 实施细则 and test items; the object pool (demo enterprises and their products,
with complaints, earlier failures and abnormal-list flags) and the inspector pool; the region's
and three cities' plans of this year (filed with the level above) and the region's plan of last
year; batches of every type (双随机, 专项, 跟踪, 应急) in every state; draws made with the
published algorithm (``nqihub.sampling.draw``) from stored pool files and seeds, so every demo
draw can be re-run and gives the same list; inspectors drawn per object; sampling records at every
stage (to be sampled, sampled, refused, received, tested, notified, objected, final), results per
test item with failures, objections with re-tests, the handling of failures with countdowns (some
overdue and reported to the level above), closed batches (one overdue for publication) and
published ones, so the public results page and the analysis have content.

Everything comes from one seeded ``random.Random`` in a fixed order; the only other input is
``today`` (dates are placed around it). Rows are written in bulk, keeping what the services keep:
case numbers from the kernel's counters, a timeline step for each stage, countdowns as the
kernel's ``CaseDeadline`` rows, every draw's pool file with its SHA-256. Products, brands,
measured values and people are invented; any likeness to a real product is coincidence.
"""

from __future__ import annotations

import datetime
import random
import time
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext_lazy

from nqihub.audit.actions import register as register_audit_action
from nqihub.audit.services import audit_record
from nqihub.cases import numbering
from nqihub.cases.models import Case, CaseDeadline, CaseEvent
from nqihub.cases.services import next_numbers
from nqihub.core.access import MembershipRole, OrganizationKind
from nqihub.organizations.demo import GIVEN_NAMES, GIVEN_SINGLE, REGION_CODE, SURNAMES_WEIGHTED
from nqihub.organizations.models import AuthorisationScope, Discipline, Membership, Organization

from . import draw as algorithm
from .models import (
    AnnualPlan,
    Assignment,
    Batch,
    BatchInstitution,
    Disposal,
    Draw,
    InspectionItem,
    InspectionRules,
    Inspector,
    Objection,
    PoolObject,
    ProductCategory,
    SamplingRecord,
    Selection,
    TestItem,
    TestResult,
)
from .services.analysis import refresh_risk_scores
from .services.rules import rule

SEED = 20260412
AUDIT_ACTION = "sampling.demo_seed"
register_audit_action(AUDIT_ACTION, gettext_lazy("Supervision-sampling demo data loaded"))
BATCH_SERIES = "sampling.batch"
Stage = SamplingRecord.Stage


class NotReady(Exception):
    """``seed_demo`` has not run: there are no demo organisations to sample."""


@dataclass(frozen=True)
class CategorySpec:
    code: str
    item_code: str
    item_name: str
    importance: str
    ratio: str
    standard: str
    test_items: tuple  # (name, method, requirement, lower, upper, unit, key, typical value)
    products: tuple  # (product, models)
    brands: tuple
    institutions: tuple  # testing institutions by name (the first tests, the last re-tests)


CATEGORIES = (
    CategorySpec(
        "C01",
        "NM-CC-2026-001",
        "乳制品产品质量监督抽查",
        InspectionItem.Importance.KEY,
        "10",
        "GB 25190",
        (
            ("蛋白质", "GB 5009.5", "≥2.9 g/100g", "2.9", None, "g/100g", True, "3.1"),
            ("菌落总数", "GB 4789.2", "≤100000 CFU/g", None, "100000", "CFU/g", False, "1200"),
            ("黄曲霉毒素M1", "GB 5009.24", "≤0.5 μg/kg", None, "0.5", "μg/kg", True, "0.1"),
            ("标签", "GB 7718", "符合 GB 7718 的规定", None, None, "", False, None),
        ),
        (("灭菌乳", ("250mL", "200mL×24")), ("酸乳", ("200g", "100g×8")), ("调制乳粉", ("400g", "800g"))),
        ("草原晨光", "敕勒川", "塞上牧歌", "青城牧场", "北疆鲜"),
        ("内蒙古自治区食品检验检测中心", "包头市质量技术监督检验测试所", "内蒙古自治区产品质量检验研究院"),
    ),
    CategorySpec(
        "C02",
        "NM-CC-2026-002",
        "羊绒制品产品质量监督抽查",
        InspectionItem.Importance.GENERAL,
        "5",
        "FZ/T 73009",
        (
            ("羊绒含量", "GB/T 16988", "≥95.0 %", "95", None, "%", True, "97.2"),
            ("纤维含量允差", "FZ/T 01057", "符合标识", None, None, "", False, None),
            ("起球", "GB/T 4802.3", "≥3 级", "3", None, "级", False, "3.5"),
            ("使用说明", "GB/T 5296.4", "符合 GB/T 5296.4", None, None, "", False, None),
        ),
        (("羊绒针织衫", ("M", "L", "XL")), ("羊绒围巾", ("180×30cm", "200×70cm"))),
        ("云绒", "阿尔巴斯白", "草原绒", "雪域绒"),
        ("内蒙古自治区纤维检验局", "内蒙古自治区产品质量检验研究院"),
    ),
    CategorySpec(
        "C03",
        "NM-CC-2026-003",
        "稀土永磁材料产品质量监督抽查",
        InspectionItem.Importance.KEY,
        "20",
        "GB/T 13560",
        (
            ("剩磁 Br", "GB/T 3217", "≥1.17 T", "1.17", None, "T", True, "1.21"),
            ("内禀矫顽力 HcJ", "GB/T 3217", "≥955 kA/m", "955", None, "kA/m", True, "1010"),
            ("最大磁能积 (BH)max", "GB/T 3217", "≥263 kJ/m³", "263", None, "kJ/m³", False, "275"),
            ("尺寸偏差", "GB/T 13560", "±0.05 mm", "-0.05", "0.05", "mm", False, "0.01"),
        ),
        (("烧结钕铁硼永磁体", ("N35", "N42", "N52", "42SH")),),
        ("稀宝", "天磁", "北方稀磁", "鹿城磁"),
        ("内蒙古自治区稀土产品质量监督研究院", "内蒙古自治区产品质量检验研究院"),
    ),
    CategorySpec(
        "C0401",
        "NM-CC-2026-004",
        "水泥产品质量监督抽查",
        InspectionItem.Importance.KEY,
        "15",
        "GB 175",
        (
            ("3d 抗压强度", "GB/T 17671", "≥17.0 MPa", "17", None, "MPa", True, "22.4"),
            ("28d 抗压强度", "GB/T 17671", "≥42.5 MPa", "42.5", None, "MPa", True, "47.8"),
            ("安定性", "GB/T 1346", "沸煮法合格", None, None, "", False, None),
            ("三氧化硫", "GB/T 176", "≤3.5 %", None, "3.5", "%", False, "2.6"),
        ),
        (("普通硅酸盐水泥", ("P·O 42.5", "P·O 52.5")), ("复合硅酸盐水泥", ("P·C 42.5",))),
        ("蒙西", "塞北", "黄河", "大青山"),
        ("包头市质量技术监督检验测试所", "内蒙古自治区产品质量检验研究院"),
    ),
)
CITIES = ("150200", "150100", "150600")  # 包头市, 呼和浩特市, 鄂尔多斯市: plans of their own


@dataclass
class SeedResult:
    created: bool
    seconds: float = 0.0
    message: str = ""
    counts: dict = field(default_factory=dict)


def why_not() -> str:
    if AnnualPlan.objects.exists() or Batch.objects.exists():
        return "This database already has sampling plans, so seed_sampling_demo will not add any. Nothing was changed."
    return ""


def count_sampling_demo() -> dict[str, int]:
    counts = {
        "inspection items": InspectionItem.objects.count(),
        "pool objects": PoolObject.objects.count(),
        "inspectors": Inspector.objects.count(),
        "plans": AnnualPlan.objects.count(),
        "batches": Batch.objects.count(),
        "draws": Draw.objects.count(),
        "sampling records": SamplingRecord.objects.count(),
        "test results": TestResult.objects.count(),
        "objections": Objection.objects.count(),
        "disposals": Disposal.objects.count(),
        "deadlines running": CaseDeadline.objects.filter(
            state=CaseDeadline.State.OPEN, case__kind="sampling_record"
        ).count(),
    }
    for stage in Stage.values:
        counts[f"records {stage}"] = SamplingRecord.objects.filter(stage=stage).count()
    for state in Batch.State.values:
        counts[f"batches {state}"] = Batch.objects.filter(state=state).count()
    return counts


def _person(rng: random.Random) -> str:
    surname = rng.choice(SURNAMES_WEIGHTED)
    return surname + (rng.choice(GIVEN_SINGLE) if rng.random() < 0.35 else rng.choice(GIVEN_NAMES))


class _Builder:
    def __init__(self, rng: random.Random, today: datetime.date) -> None:
        self.rng = rng
        self.today = today
        self.tz = timezone.get_current_timezone()
        self.regulators = {
            o.division_id: o
            for o in Organization.objects.filter(kind=OrganizationKind.REGULATOR, is_active=True).select_related(
                "division"
            )
        }
        if REGION_CODE not in self.regulators:
            raise NotReady("Run seed_demo first: the demo regulators are missing. Nothing was changed.")
        self.actors: dict[int, object] = {}
        for m in (
            Membership.objects.filter(organization__kind=OrganizationKind.REGULATOR, is_active=True)
            .select_related("user")
            .order_by("organization_id", "-role", "user_id")
        ):
            self.actors.setdefault(m.organization_id, m.user)
        self.institutions = {
            o.name: o for o in Organization.objects.filter(kind=OrganizationKind.INSTITUTION, is_active=True)
        }
        self.lab_staff = {}
        for m in Membership.objects.filter(
            organization__kind=OrganizationKind.INSTITUTION,
            role__in=[MembershipRole.MANAGER, MembershipRole.CLERK],
            is_active=True,
        ).order_by("organization_id", "user_id"):
            self.lab_staff.setdefault(m.organization_id, m.user_id)
        self.region = self.regulators[REGION_CODE]
        self.events: list[CaseEvent] = []
        self.deadlines: list[CaseDeadline] = []
        self.counters: dict[str, int] = defaultdict(int)

    def at(self, days: int, hour: int = 10) -> datetime.datetime:
        day = self.today + datetime.timedelta(days=days)
        return datetime.datetime(day.year, day.month, day.day, hour, self.rng.randrange(60), tzinfo=self.tz)

    def actor(self, org: Organization):
        return self.actors.get(org.pk) or self.actors[self.region.pk]

    # --- the item list, capabilities and the pools ---------------------------------------------

    def items(self) -> dict[str, tuple[InspectionItem, InspectionRules, list[TestItem]]]:
        found = {}
        start = datetime.date(self.today.year - 1, 1, 1)
        for spec in CATEGORIES:
            category = ProductCategory.objects.get(code=spec.code)
            item = InspectionItem.objects.create(
                code=spec.item_code,
                name=spec.item_name,
                category=category,
                legal_basis="《中华人民共和国产品质量法》第十五条；《产品质量监督抽查管理暂行办法》",
                importance=spec.importance,
                ratio_percent=Decimal(spec.ratio),
                owner=self.region,
                division_id=REGION_CODE,
            )
            rules = InspectionRules.objects.create(
                item=item,
                version=1,
                title=f"{category.name}产品质量监督抽查实施细则（演示）",
                effective_from=start,
                test_quantity=4,
                spare_quantity=4,
                sampling_method="在被抽样单位待销产品中随机抽取，检验样品与备用样品分别封存（演示数据）。",
            )
            tests = TestItem.objects.bulk_create(
                [
                    TestItem(
                        rules=rules,
                        seq=n,
                        name=name,
                        method_standard=method,
                        requirement=requirement,
                        judgement=TestItem.Judgement.RANGE if (lower or upper) else TestItem.Judgement.TEXT,
                        lower=Decimal(lower) if lower else None,
                        upper=Decimal(upper) if upper else None,
                        unit=unit,
                        is_key=key,
                    )
                    for n, (name, method, requirement, lower, upper, unit, key, _typical) in enumerate(
                        spec.test_items, start=1
                    )
                ]
            )
            found[spec.code] = (item, rules, tests)
            for name in spec.institutions:
                institution = self.institutions.get(name)
                if (
                    institution is not None
                    and not AuthorisationScope.objects.filter(
                        organization=institution, discipline=Discipline.TESTING, subject_code=spec.code
                    ).exists()
                ):
                    AuthorisationScope.objects.create(
                        organization=institution,
                        discipline=Discipline.TESTING,
                        subject_code=spec.code,
                        subject_name=category.name,
                        basis="CMA 资质认定证书（演示数据）",
                        valid_from=start,
                        valid_until=datetime.date(self.today.year + 4, 12, 31),
                    )
        return found

    def pool(self) -> dict[str, list[PoolObject]]:
        rng = self.rng
        enterprises = list(
            Organization.objects.filter(kind=OrganizationKind.ENTERPRISE, is_active=True, division__isnull=False)
            .exclude(division_id=REGION_CODE)
            .order_by("pk")
            .values_list("pk", "division_id", "name")
        )
        if len(enterprises) < 40:
            raise NotReady("Run seed_demo first: too few demo enterprises to sample. Nothing was changed.")
        rows = []
        categories = {c.code: c for c in ProductCategory.objects.filter(code__in=[s.code for s in CATEGORIES])}
        for spec in CATEGORIES:
            chosen = rng.sample(enterprises, min(len(enterprises), 70))
            for pk, division, _name in chosen:
                product, models_ = rng.choice(spec.products)
                seller = rng.random() < 0.15
                rows.append(
                    PoolObject(
                        organization_id=pk,
                        division_id=division,
                        category=categories[spec.code],
                        role=PoolObject.Role.SELLER if seller else PoolObject.Role.PRODUCER,
                        product_name=product,
                        brand=rng.choice(spec.brands),
                        model=rng.choice(models_),
                        standard=spec.standard,
                        producer_name=f"{rng.choice(('内蒙古', '河北', '山东'))}{rng.choice(spec.brands)}实业有限公司"
                        if seller
                        else "",
                        complaints=rng.choice((0, 0, 0, 0, 1, 2, 5)),
                        earlier_failures=rng.choice((0, 0, 0, 0, 0, 1)),
                        abnormal_listed=rng.random() < 0.05,
                    )
                )
        PoolObject.objects.bulk_create(rows, ignore_conflicts=True)
        refresh_risk_scores()
        by_category: dict[str, list[PoolObject]] = defaultdict(list)
        for obj in PoolObject.objects.select_related("category", "organization").order_by("pk"):
            by_category[obj.category.code].append(obj)
        return by_category

    def inspectors(self) -> dict[str, list[Inspector]]:
        rng = self.rng
        rows = []
        number = 0
        for code, office in sorted(self.regulators.items()):
            for _n in range(3 if office.division.level != "county" else 2):
                number += 1
                rows.append(
                    Inspector(
                        name=_person(rng),
                        enforcement_number=f"{code}{number:05d}",
                        office=office,
                        division_id=code,
                        certificate_valid_until=datetime.date(self.today.year + 3, 12, 31),
                        is_available=rng.random() > 0.05,
                    )
                )
        Inspector.objects.bulk_create(rows)
        categories = list(ProductCategory.objects.filter(code__in=[s.code for s in CATEGORIES]))
        made = list(Inspector.objects.order_by("pk"))
        through = Inspector.fields.through
        through.objects.bulk_create(
            [through(inspector_id=i.pk, productcategory_id=c.pk) for i in made for c in categories]
        )
        by_office: dict[str, list[Inspector]] = defaultdict(list)
        for inspector in made:
            by_office[inspector.division_id].append(inspector)
        return by_office

    # --- plans and batches ----------------------------------------------------------------------

    def plans(self) -> dict[tuple[str, int], AnnualPlan]:
        year = self.today.year
        wanted = [(REGION_CODE, year - 1), (REGION_CODE, year), *[(code, year) for code in CITIES]]
        numbers = {y: iter(next_numbers("sampling_plan", year=y, count=sum(1 for _c, yy in wanted if yy == y)))
                   for y in {y for _c, y in wanted}}  # fmt: skip
        plans = {}
        for code, plan_year in wanted:
            regulator = self.regulators[code]
            above = None if code == REGION_CODE else self.region
            filed = self.at(-400 if plan_year < year else -100)
            case = Case.objects.create(
                kind="sampling_plan",
                number=next(numbers[plan_year]),
                applicant_organization=regulator,
                handling_organization=above,
                division_id=code,
                opened_at=filed,
                submitted_at=filed,
                submitted_by=self.actor(regulator),
                decided_at=filed + datetime.timedelta(days=5),
                decided_by=self.actor(above) if above else self.actor(regulator),
                state="approved",
            )
            self.events.append(CaseEvent(case=case, at=filed, actor=self.actor(regulator), kind="submitted"))
            self.events.append(
                CaseEvent(case=case, at=filed + datetime.timedelta(days=5), actor=case.decided_by, kind="approved")
            )
            plans[(code, plan_year)] = AnnualPlan.objects.create(
                case=case,
                regulator=regulator,
                division_id=code,
                year=plan_year,
                title=f"{regulator.name}{plan_year}年产品质量监督抽查计划",
                summary="按照“双随机、一公开”要求，对重点产品开展监督抽查（演示数据）。",
            )
        return plans

    def batch_numbers(self, year: int, count: int) -> list[str]:
        stem = f"CC{year}-"

        def start() -> int:
            highest = Batch.objects.filter(number__startswith=stem).aggregate(m=Max("number"))["m"] or ""
            tail = highest[len(stem) :]
            return int(tail) if tail.isdigit() else 0

        return [f"{stem}{seq:04d}" for seq in numbering.next_sequences(BATCH_SERIES, year, count=count, start=start)]


@dataclass(frozen=True)
class BatchSpec:
    plan: tuple[str, int]
    kind: str
    category: str
    objects: int
    state: str
    starts: int  # days from today
    title: str
    follow_up_of: int | None = None  # index of an earlier spec


def batch_specs(year: int) -> list[BatchSpec]:
    last = year - 1
    R, S, F, E = Batch.Kind.RANDOM, Batch.Kind.SPECIAL, Batch.Kind.FOLLOW_UP, Batch.Kind.EMERGENCY
    D = Batch.State
    return [
        BatchSpec((REGION_CODE, last), R, "C01", 14, D.DISCLOSED, -330, f"{last}年乳制品双随机抽查"),
        BatchSpec((REGION_CODE, last), R, "C02", 10, D.DISCLOSED, -300, f"{last}年羊绒制品双随机抽查"),
        BatchSpec((REGION_CODE, year), R, "C01", 16, D.DISCLOSED, -150, f"{year}年乳制品双随机抽查"),
        BatchSpec((REGION_CODE, year), S, "C03", 10, D.DISCLOSED, -120, f"{year}年稀土永磁材料专项抽查"),
        BatchSpec(("150200", year), R, "C0401", 8, D.CLOSED, -110, f"{year}年包头市水泥双随机抽查"),
        BatchSpec((REGION_CODE, year), F, "C01", 4, D.SAMPLING, -60, f"{year}年乳制品不合格跟踪抽查", 2),
        BatchSpec(("150100", year), R, "C02", 12, D.SAMPLING, -45, f"{year}年呼和浩特市羊绒制品双随机抽查"),
        BatchSpec(("150600", year), E, "C0401", 5, D.SAMPLING, -12, f"{year}年鄂尔多斯市水泥应急抽查"),
        BatchSpec(("150200", year), R, "C03", 6, D.DRAWN, -3, f"{year}年包头市稀土永磁材料双随机抽查"),
        BatchSpec((REGION_CODE, year), R, "C0401", 12, D.DRAFT, 20, f"{year}年水泥双随机抽查"),
    ]


# Stages of the records of a batch under sampling, in turn; a batch that is closed or published
# has every record final, one refused.
SAMPLING_STAGES = (
    Stage.ASSIGNED,
    Stage.SAMPLED,
    Stage.RECEIVED,
    Stage.TESTED,
    Stage.NOTIFIED,
    Stage.OBJECTED,
    Stage.FINAL,
    Stage.REFUSED,
    Stage.FINAL,
    Stage.NOTIFIED,
    Stage.FINAL,
    Stage.SAMPLED,
)


def build_sampling_demo(*, seed: int = SEED, today: datetime.date | None = None) -> SeedResult:
    """Build the sampling demo in one transaction, or explain why not (changing nothing)."""
    started = time.perf_counter()
    today = today or timezone.localdate()
    reason = why_not()
    if reason:
        return SeedResult(created=False, message=reason, counts=count_sampling_demo())
    rng = random.Random(seed)
    with transaction.atomic():
        builder = _Builder(rng, today)
        items = builder.items()
        pool = builder.pool()
        inspectors = builder.inspectors()
        plans = builder.plans()
        batches = _write_batches(builder, plans, items, pool, inspectors)
        CaseEvent.objects.bulk_create(builder.events)
        CaseDeadline.objects.bulk_create(builder.deadlines)
        refresh_risk_scores()
        counts = count_sampling_demo()
        audit_record(
            action=AUDIT_ACTION,
            details={
                "seed": seed,
                "today": today.isoformat(),
                "batches": [b.number for b in batches],
                "counts": counts,
                "seconds": round(time.perf_counter() - started, 2),
            },
        )
    return SeedResult(created=True, seconds=time.perf_counter() - started, counts=counts)


def _write_batches(builder: _Builder, plans, items, pool, inspectors) -> list[Batch]:
    _rng, today = builder.rng, builder.today
    specs = batch_specs(today.year)
    numbers: dict[int, list[str]] = {}
    for year in sorted({plans[s.plan].year for s in specs}):
        numbers[year] = builder.batch_numbers(year, sum(1 for s in specs if plans[s.plan].year == year))
    made: list[Batch] = []
    failed_by_batch: dict[int, list[int]] = {}
    for _index, spec in enumerate(specs):
        plan = plans[spec.plan]
        item, rules, tests = items[spec.category]
        cat_spec = next(c for c in CATEGORIES if c.code == spec.category)
        organizer = plan.regulator
        starts = today + datetime.timedelta(days=spec.starts)
        closed_at = builder.at(spec.starts + 60) if spec.state in (Batch.State.CLOSED, Batch.State.DISCLOSED) else None
        batch = Batch.objects.create(
            plan=plan,
            number=numbers[plan.year].pop(0),
            kind=spec.kind,
            title=spec.title,
            item=item,
            rules=rules,
            organizer=organizer,
            division_id=plan.division_id,
            object_count=spec.objects,
            risk_weighted=spec.kind != Batch.Kind.EMERGENCY,
            follow_up_of=made[spec.follow_up_of] if spec.follow_up_of is not None else None,
            reason="对上一批次不合格产品的跟踪抽查" if spec.kind == Batch.Kind.FOLLOW_UP else (
                "媒体报道质量问题，开展应急抽查" if spec.kind == Batch.Kind.EMERGENCY else ""),
            starts_on=starts,
            ends_on=starts + datetime.timedelta(days=60),
            created_by=builder.actor(organizer),
            state=spec.state,
            closed_at=closed_at,
            disclosure_due=None,
            disclosed_at=builder.at(spec.starts + 75) if spec.state == Batch.State.DISCLOSED else None,
        )  # fmt: skip
        if closed_at is not None:
            from .services.disclosure import disclosure_due_on

            due = disclosure_due_on(timezone.localdate(closed_at))
            Batch.objects.filter(pk=batch.pk).update(disclosure_due=due)
            batch.disclosure_due = due
        testers = [builder.institutions[n] for n in cat_spec.institutions if n in builder.institutions]
        BatchInstitution.objects.bulk_create([BatchInstitution(batch=batch, institution=t) for t in testers[:1]])
        made.append(batch)
        if spec.state == Batch.State.DRAFT:
            continue
        candidates = [
            o
            for o in pool[spec.category]
            if o.division_id.startswith(
                plan.division_id[:2] if plan.division_id == REGION_CODE else plan.division_id[:4]
            )
        ]
        if spec.follow_up_of is not None:
            followed = set(failed_by_batch.get(made[spec.follow_up_of].pk, []))
            candidates = [o for o in candidates if o.pk in followed] or candidates[:4]
        selections = _draw(builder, batch, candidates, inspectors)
        if spec.state == Batch.State.DRAWN:
            continue
        failed_by_batch[batch.pk] = _write_records(builder, batch, spec, selections, tests, testers, cat_spec)
    return made


def _draw(builder: _Builder, batch: Batch, candidates: list[PoolObject], inspectors) -> list[Selection]:
    """The batch's object draw and inspector draw with the published algorithm, stored as the draw
    service stores them (pool file, SHA-256, seed, quotas, result), so re-running gives the same."""
    rng = builder.rng
    drawn_at = timezone.make_aware(
        datetime.datetime.combine(batch.starts_on - datetime.timedelta(days=3), datetime.time(9, 30))
    )
    actor = builder.actor(batch.organizer)
    code = batch.item.category.code
    rows = [
        (o.pk, f"{o.division_id}/{code}", max(float(o.risk_score), 0.01) if batch.risk_weighted else 1.0)
        for o in candidates
    ]
    sizes: dict[str, int] = defaultdict(int)
    for _id, stratum, _w in rows:
        sizes[stratum] += 1
    quotas = algorithm.allocate(dict(sizes), min(batch.object_count, len(rows)))
    seed = f"{rng.getrandbits(128):032x}"
    result = algorithm.draw(rows, seed=seed, quotas=quotas)
    pool_file = algorithm.pool_csv(rows)
    draw = Draw(
        batch=batch,
        purpose=Draw.Purpose.OBJECTS,
        seq=1,
        seed=seed,
        algorithm=algorithm.ALGORITHM,
        pool_size=len(rows),
        pool_sha256=algorithm.file_digest(pool_file),
        quotas=quotas,
        result=[{"stratum": s, "object_ids": ids} for s, ids in sorted(result.items())],
        drawn_by=actor,
        drawn_at=drawn_at,
    )
    draw.pool_file.save(f"{batch.number}-objects-1.csv", ContentFile(pool_file), save=False)
    draw.save()
    by_id = {o.pk: o for o in candidates}
    selections = Selection.objects.bulk_create(
        [
            Selection(batch=batch, draw=draw, pool_object=by_id[object_id], stratum=stratum, rank=rank)
            for stratum, ids in sorted(result.items())
            for rank, object_id in enumerate(ids, start=1)
        ]
    )
    # Inspectors: the organiser's office and the offices below it, ranked per object.
    eligible = [
        i for code_, people in inspectors.items() if code_.startswith(_prefix(batch.division_id)) for i in people
    ]
    eligible = [i for i in eligible if i.is_available]
    inspector_seed = f"{rng.getrandbits(128):032x}"
    inspector_file = "inspector_id,office\r\n" + "".join(f"{i.pk},{i.division_id}\r\n" for i in eligible)
    inspector_draw = Draw(
        batch=batch,
        purpose=Draw.Purpose.INSPECTORS,
        seq=1,
        seed=inspector_seed,
        algorithm=algorithm.ALGORITHM,
        pool_size=len(eligible),
        pool_sha256=algorithm.file_digest(inspector_file.encode("utf-8")),
        quotas={"count": batch.inspectors_per_object},
        drawn_by=actor,
        drawn_at=drawn_at,
    )
    inspector_draw.pool_file.save(
        f"{batch.number}-inspectors-1.csv", ContentFile(inspector_file.encode("utf-8")), save=False
    )
    inspector_draw.save()
    assignments, result_rows = [], []
    ids = [i.pk for i in eligible]
    for selection in selections:
        order = algorithm.rank_inspectors(selection.pool_object_id, ids, seed=inspector_seed)
        chosen = order[: batch.inspectors_per_object]
        result_rows.append({"object_id": selection.pool_object_id, "inspector_ids": chosen})
        assignments.extend(
            Assignment(selection=selection, draw=inspector_draw, inspector_id=pk, rank=n)
            for n, pk in enumerate(chosen, start=1)
        )
    Assignment.objects.bulk_create(assignments)
    Draw.objects.filter(pk=inspector_draw.pk).update(result=result_rows)
    return selections


def _reached(stage: str):
    """Whether a record at ``stage`` has gone through stage ``s`` (a refused one went nowhere)."""
    order = list(Stage.values)

    def after(s: str) -> bool:
        return stage != Stage.REFUSED and order.index(stage) >= order.index(s)

    return after


def _prefix(division_id: str) -> str:
    if division_id.endswith("0000"):
        return division_id[:2]
    if division_id.endswith("00"):
        return division_id[:4]
    return division_id


def _measured(spec_row, fail: bool, rng: random.Random) -> tuple[str, Decimal | None]:
    _name, _method, _req, lower, upper, _unit, _key, typical = spec_row
    if typical is None:
        return ("不符合" if fail else "符合"), None
    value = Decimal(typical)
    if fail:
        value = Decimal(lower) * Decimal("0.93") if lower else Decimal(upper) * Decimal("1.4")
    else:
        value = value * Decimal(str(round(rng.uniform(0.97, 1.03), 3)))
    value = value.quantize(Decimal("0.01"))
    return str(value), value  # the unit is the test item's, shown beside it


def _write_records(builder: _Builder, batch: Batch, spec: BatchSpec, selections, tests, testers, cat_spec) -> list[int]:
    """Records of a drawn batch, their results, objections and disposals; returns the ids of the
    pool objects whose final conclusion is unqualified."""
    rng = builder.rng
    year = batch.plan.year
    finished = spec.state in (Batch.State.CLOSED, Batch.State.DISCLOSED)
    stages = []
    for n, _s in enumerate(selections):
        if finished:
            stages.append(Stage.REFUSED if n == 3 else Stage.FINAL)
        else:
            stages.append(SAMPLING_STAGES[n % len(SAMPLING_STAGES)])
    case_numbers = iter(next_numbers("sampling_record", year=year, count=len(selections)))
    objections_wanted = sum(1 for s in stages if s == Stage.OBJECTED) + (2 if finished else 0)
    objection_numbers = iter(next_numbers("sampling_objection", year=year, count=objections_wanted))
    organizer, institution = batch.organizer, testers[0]
    retester = testers[-1] if len(testers) > 1 else testers[0]
    regulator_user = builder.actor(organizer)
    lab_user = builder.lab_staff.get(institution.pk)
    assignments = defaultdict(list)
    for a in Assignment.objects.filter(selection__batch=batch).order_by("rank"):
        assignments[a.selection_id].append(a.inspector_id)
    failed_objects, objections_made = [], 0
    origin = batch.starts_on
    for n, (selection, stage) in enumerate(zip(selections, stages, strict=True)):
        obj = selection.pool_object
        opened = builder.at((origin - builder.today).days + 1)
        case = Case.objects.create(
            kind="sampling_record",
            number=next(case_numbers),
            handling_organization=organizer,
            division_id=obj.division_id,
            opened_at=opened,
            submitted_at=opened,
            submitted_by=regulator_user,
            state="submitted",
        )
        ev = builder.events
        ev.append(CaseEvent(case=case, at=opened, actor=regulator_user, kind="submitted"))
        sampled_at = opened + datetime.timedelta(days=rng.randrange(2, 10))
        received_at = sampled_at + datetime.timedelta(days=1)
        tested_at = received_at + datetime.timedelta(days=rng.randrange(7, 15))
        notified_at = tested_at + datetime.timedelta(days=2)
        after = _reached(stage)
        # A failure: about one record in four that were tested, for failures to show.
        fail_items = ()
        if after(Stage.TESTED) and rng.random() < 0.3:
            fail_items = (rng.choice([t.seq for t in tests if t.is_key] or [1]),)
        objected = stage == Stage.OBJECTED or (finished and fail_items and objections_made < 2)
        retest_passes = objected and stage == Stage.FINAL and objections_made == 0
        final = ""
        if stage == Stage.FINAL:
            final = "pass" if (not fail_items or retest_passes) else "fail"
        record = SamplingRecord.objects.create(
            case=case,
            batch=batch,
            selection=selection,
            pool_object=obj,
            organization=obj.organization,
            producer=obj.producer,
            division_id=obj.division_id,
            institution=institution,
            stage=stage,
            notice_number=f"{batch.number}-TZ{n + 1:03d}",
            sampled_at=sampled_at if after(Stage.SAMPLED) else None,
            place=f"{obj.organization.name}成品库（演示）" if after(Stage.SAMPLED) else "",
            production_batch=f"{sampled_at:%Y%m%d}{rng.randrange(10, 99)}" if after(Stage.SAMPLED) else "",
            lot_size=rng.choice((200, 500, 1200, 3000)) if after(Stage.SAMPLED) else None,
            test_quantity=batch.rules.test_quantity if after(Stage.SAMPLED) else None,
            spare_quantity=batch.rules.spare_quantity if after(Stage.SAMPLED) else None,
            seal_numbers=f"FY{year}{n + 1:05d}-1/2" if after(Stage.SAMPLED) else "",
            sample_price=Decimal(rng.randrange(30, 400)) if after(Stage.SAMPLED) else Decimal(0),
            party_signatory=_person(rng) if after(Stage.SAMPLED) else "",
            refusal_reason="被抽样单位负责人拒绝在抽样单上签字并拒绝抽样，已录像取证（演示）"
            if stage == Stage.REFUSED
            else "",
            received_at=received_at if after(Stage.RECEIVED) else None,
            received_by_id=lab_user if after(Stage.RECEIVED) else None,
            sample_condition="封样完好" if after(Stage.RECEIVED) else "",
            tested_at=tested_at if after(Stage.TESTED) else None,
            conclusion=("fail" if fail_items else "pass") if after(Stage.TESTED) else "",
            notified_at=notified_at if after(Stage.NOTIFIED) else None,
            final_conclusion=final,
            final_at=notified_at + datetime.timedelta(days=20) if stage == Stage.FINAL else None,
        )
        record.samplers.set(assignments.get(selection.pk, []))
        if stage == Stage.REFUSED:
            ev.append(CaseEvent(case=case, at=sampled_at, actor=regulator_user, kind="refused"))
            continue
        if after(Stage.SAMPLED):
            ev.append(CaseEvent(case=case, at=sampled_at, actor=regulator_user, kind="sampled"))
        if after(Stage.RECEIVED):
            ev.append(CaseEvent(case=case, at=received_at, kind="received"))
        if after(Stage.TESTED):
            _results(record, tests, cat_spec, fail_items, tested_at, lab_user or regulator_user, rng)
            ev.append(CaseEvent(case=case, at=tested_at, kind="result"))
        if after(Stage.NOTIFIED):
            ev.append(CaseEvent(case=case, at=notified_at, actor=regulator_user, kind="notified"))
            objection_due = notified_at + datetime.timedelta(days=rule("objection_days"))
            builder.deadlines.append(
                CaseDeadline(
                    case=case,
                    code="objection",
                    started_at=notified_at,
                    due_at=objection_due,
                    state=CaseDeadline.State.OPEN if stage == Stage.NOTIFIED else CaseDeadline.State.MET,
                    closed_at=None if stage == Stage.NOTIFIED else notified_at + datetime.timedelta(days=5),
                )
            )
        if objected and fail_items:
            objections_made += 1
            _objection(builder, record, next(objection_numbers), tests, fail_items, retester, stage, retest_passes,
                       notified_at, regulator_user)  # fmt: skip
        elif objected:
            objections_made += 1
            _objection(builder, record, next(objection_numbers), tests, (tests[0].seq,), retester, stage, False,
                       notified_at, regulator_user)  # fmt: skip
        if stage == Stage.FINAL:
            ev.append(CaseEvent(case=case, at=record.final_at, kind="final"))
            if final == "fail":
                failed_objects.append(obj.pk)
                _disposal(builder, record, len(failed_objects), regulator_user)
    return failed_objects


def _results(record, tests, cat_spec, fail_items, at, user_id_or_user, rng) -> None:
    user_id = getattr(user_id_or_user, "pk", user_id_or_user)
    rows = []
    for test, spec_row in zip(tests, cat_spec.test_items, strict=True):
        fail = test.seq in fail_items
        measured, value = _measured(spec_row, fail, rng)
        rows.append(
            TestResult(
                record=record,
                test_item=test,
                measured=measured,
                value=value,
                conclusion="fail" if fail else "pass",
                recorded_by_id=user_id,
                recorded_at=at,
            )
        )
    TestResult.objects.bulk_create(rows)


def _objection(builder, record, number, tests, fail_items, retester, stage, retest_passes, notified_at, user) -> None:
    lodged = notified_at + datetime.timedelta(days=5)
    concluded = stage == Stage.FINAL
    case = Case.objects.create(
        kind="sampling_objection",
        number=number,
        applicant_organization=record.organization,
        handling_organization=record.batch.organizer,
        division_id=record.division_id,
        opened_at=lodged,
        submitted_at=lodged,
        deadline=lodged + datetime.timedelta(days=3),
        decided_at=lodged + datetime.timedelta(days=2) if concluded else None,
        decided_by=user if concluded else None,
        state="accepted" if concluded else "submitted",
    )
    builder.events.append(CaseEvent(case=case, at=lodged, kind="submitted"))
    builder.events.append(CaseEvent(case=record.case, at=lodged, kind="objected"))
    objection = Objection.objects.create(
        case=case,
        record=record,
        reason="对检验结论有异议，申请对备用样品复检（演示）。",
        recheck_institution=retester if concluded else None,
        conclusion=("pass" if retest_passes else "fail") if concluded else "",
        concluded_at=lodged + datetime.timedelta(days=12) if concluded else None,
    )
    disputed = [t for t in tests if t.seq in fail_items]
    objection.disputed_items.set(disputed)
    if concluded:
        builder.events.append(CaseEvent(case=case, at=lodged + datetime.timedelta(days=2), actor=user, kind="accepted"))
        builder.events.append(CaseEvent(case=record.case, at=objection.concluded_at, kind="recheck"))
        TestResult.objects.bulk_create(
            [
                TestResult(
                    record=record,
                    test_item=t,
                    round=TestResult.Round.RECHECK,
                    measured="符合" if retest_passes else "不符合",
                    conclusion="pass" if retest_passes else "fail",
                    note="备用样品复检（演示）",
                    recorded_by=user,
                    recorded_at=objection.concluded_at,
                )
                for t in disputed
            ]
        )


def _disposal(builder: _Builder, record: SamplingRecord, n: int, user) -> None:
    """The handling of a failure: ordered on the day the conclusion became final, then (in turn)
    still within the correction time, overdue and reported to the level above, corrected with the
    re-check running, re-check passed, or failed and announced with the second re-check's window."""
    ordered = record.final_at
    case = record.case
    correction_due = ordered + datetime.timedelta(days=rule("correction_days"))
    recheck_due = ordered + datetime.timedelta(days=rule("recheck_days"))
    variant = n % 4
    state = (Disposal.State.ORDERED, Disposal.State.CORRECTED, Disposal.State.PASSED, Disposal.State.ANNOUNCED)[variant]
    now = timezone.now()
    corrected = ordered + datetime.timedelta(days=40) if variant >= 1 else None
    rechecked = ordered + datetime.timedelta(days=70) if variant >= 2 else None
    announced = rechecked + datetime.timedelta(days=10) if variant == 3 else None
    Disposal.objects.create(
        record=record,
        state=state,
        ordered_at=ordered,
        correction_report="已停止销售同批次产品，查明原因并完成整改（演示）。" if corrected else "",
        corrected_at=corrected,
        rechecked_at=rechecked,
        announced_at=announced,
        announcement="自治区市场监管局产品质量监督抽查不合格产品公告（演示）" if announced else "",
    )
    ev, dl = builder.events, builder.deadlines
    ev.append(CaseEvent(case=case, at=ordered, actor=user, kind="ordered"))
    overdue = correction_due < now and not corrected
    dl.append(
        CaseDeadline(
            case=case,
            code="correction",
            started_at=ordered,
            due_at=correction_due,
            state=CaseDeadline.State.MET if corrected else CaseDeadline.State.OPEN,
            closed_at=corrected,
            escalated_at=correction_due + datetime.timedelta(days=1) if overdue else None,
        )
    )
    if overdue:
        ev.append(CaseEvent(case=case, at=correction_due + datetime.timedelta(days=1), kind="escalated"))
    dl.append(
        CaseDeadline(
            case=case,
            code="recheck",
            started_at=ordered,
            due_at=recheck_due,
            state=CaseDeadline.State.MET if rechecked else CaseDeadline.State.OPEN,
            closed_at=rechecked,
            escalated_at=recheck_due + datetime.timedelta(days=1) if (recheck_due < now and not rechecked) else None,
        )
    )
    if corrected:
        ev.append(CaseEvent(case=case, at=corrected, kind="corrected"))
    if variant == 2:
        ev.append(CaseEvent(case=case, at=rechecked, actor=user, kind="recheck_pass"))
    if variant == 3:
        ev.append(CaseEvent(case=case, at=rechecked, actor=user, kind="recheck_fail"))
        ev.append(CaseEvent(case=case, at=announced, actor=user, kind="announced"))
        dl.append(
            CaseDeadline(
                case=case,
                code="second_recheck",
                started_at=announced,
                not_before=announced + datetime.timedelta(days=rule("second_recheck_from_days")),
                due_at=announced + datetime.timedelta(days=rule("second_recheck_until_days")),
            )
        )
