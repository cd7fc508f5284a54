"""Demo data for metrology: about 100,000 instruments with verification history
(``manage.py seed_metrology_demo``, run after ``seed_demo``).

Like :mod:`nqihub.organizations.demo`, everything is drawn from one seeded
``random.Random`` in a fixed order, so the same factory numbers, platform codes, check
codes and document numbers come out on every machine. The only input besides the seed is
``today``: due dates are placed around it (some due within 30 days, some overdue, most
green), so the demo always looks "live". With the same ``today`` the data is identical.

What is real and what is invented:

* the catalogue items are the shipped catalogue (migration ``metrology/0002``);
* the mix of instruments follows reality roughly: household water, electricity, gas and
  heat meters of utilities dominate (Baotou's 2.1 million instruments under mandatory
  verification are mostly household meters), scales in shops, pressure gauges and gas
  detectors in factories, medical devices in a few staff clinics;
* tariffs and waiver policies are invented and say so in ``source`` (演示数据); the 2026
  campaign in Baotou echoes 包检道's free verification of mandatory instruments;
* manufacturers, locations, verifiers' names and all numbers are made up; any likeness to a
  real company is coincidence;
* issued documents have no PDF: it is rendered on demand by the documents service, or the
  demo simply has none.
"""

from __future__ import annotations

import json
import random
import time
from collections import Counter, defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from datetime import time as dtime
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.core.management.color import no_style
from django.db import connection, transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext_lazy

from nqihub.audit.actions import register as register_audit_action
from nqihub.audit.models import AuditEvent, Outcome
from nqihub.audit.services import audit_record
from nqihub.cases.models import Case, CaseEvent
from nqihub.cases.services import next_numbers
from nqihub.core.access import MembershipRole, OrganizationKind
from nqihub.documents.services import fill_missing_content_hashes
from nqihub.organizations.demo import (
    ACCOUNTS,
    DEMO_PASSWORD,
    GIVEN_NAMES,
    GIVEN_SINGLE,
    REGION_CODE,
    SCOPE_BASIS,
    SURNAMES_WEIGHTED,
)
from nqihub.organizations.demo import (
    AUDIT_ACTION as ORGANIZATIONS_AUDIT_ACTION,
)
from nqihub.organizations.models import AuthorisationScope, Discipline, Membership, Organization, OrganizationContact

from .casekinds import APPLICATION, FILING
from .models import (
    PLATFORM_CODE_ALPHABET,
    ApplicationItem,
    CatalogueItem,
    Instrument,
    InstrumentFiling,
    IssuedDocument,
    Tariff,
    UseField,
    VerificationApplication,
    VerificationMode,
    VerificationResult,
    WaiverPolicy,
    document_public_facts,
)
from .services.documents import add_months, validity_end, validity_months
from .services.policy import current_policy

__all__ = [
    "AUDIT_ACTION",
    "DEFAULT_INSTRUMENTS",
    "SEED",
    "EnterpriseRow",
    "InstrumentPlan",
    "MetrologySeedResult",
    "build_metrology_demo",
    "count_metrology_demo",
    "load_enterprises",
    "plan_instruments",
]

SEED = 2026
DEFAULT_INSTRUMENTS = 100_000
AUDIT_ACTION = "demo.seed_metrology"
register_audit_action(AUDIT_ACTION, gettext_lazy("Metrology demo data loaded"))

TARIFF_SOURCE = "演示数据：非真实收费标准"
POLICY_SOURCE = "演示数据：非真实减免政策"
CAMPAIGN_NAME = "强检计量器具免费检定（演示）"
USER_TYPE_POLICY_NAME = "个体工商户强检计量器具免费检定（演示）"
ITEM_POLICY_NAME = "血压计检定费减半（演示）"
ITEM_POLICY_CODE = "14.1"
CAMPAIGN_DIVISION = "150200"
CAMPAIGN_YEAR = 2026
#: Demo accounts of the institutions' verification staff: jl_<area>_1 (manager, approves),
#: jl_<area>_2 and _3 (clerks, verify and check).
STAFF_PER_INSTITUTION = 3
#: Holds the records made before the platform's time (filings and applications of
#: enterprises that have no demo account of their own); cannot sign in.
HISTORY_USERNAME = "demo_history"
HISTORY_DISPLAY_NAME = "历史数据（演示）"
#: Items only the regional institute is authorised for (the 盟市 institutes lack the standards).
SPECIALIST_CODES = frozenset({"16.4", "17.1", "18.1", "18.2"})
HISTORY_SHARE = 0.60  # mandatory instruments with verifications on the platform
PREVIOUS_CYCLE_SHARE = 0.40  # of those (periodic items), also the cycle before
FAIL_SHARE = 0.03  # latest verification failed
OVERDUE_SHARE = 0.07
DUE_SOON_SHARE = 0.06
DUE_SOON_DAYS = 30

#: Demo price per instrument (yuan). Invented: see TARIFF_SOURCE.
PRICES: dict[str, str] = {
    "1.1": "120", "2.1": "150", "2.2": "150", "2.3": "200", "3.1": "40", "4.1": "60", "5.1": "12",
    "6.1": "8", "6.2": "30", "6.3": "120", "7.1": "12", "8.1": "60", "9.1": "100", "10.1": "300",
    "11.1": "80", "12.1": "15", "13.1": "3", "14.1": "20", "14.2": "30", "15.1": "100", "15.2": "80",
    "15.3": "80", "15.4": "100", "15.5": "100", "16.1": "150", "16.2": "100", "16.3": "100",
    "16.4": "200", "16.5": "200", "17.1": "400", "18.1": "500", "18.2": "500", "19.1": "120",
    "20.1": "200", "20.2": "300",
}  # fmt: skip
DEFAULT_PRICE = "50"

# --- Word lists (invented) ------------------------------------------------------------------

MANUFACTURERS: dict[str, tuple[str, ...]] = {
    "water": ("浙江恒川水表有限公司", "河北华衡水表有限公司", "山东泉润智能仪表有限公司", "包头北辰水计量设备有限公司", "宁夏塞原仪表有限公司"),
    "power": ("江苏恒电智能科技有限公司", "浙江中亿电气仪表有限公司", "深圳科瑞达电子有限公司", "内蒙古蒙晟仪表有限公司"),
    "gas": ("成都蜀威燃气表有限公司", "辽宁北燃计量设备有限公司", "浙江汇信仪表有限公司", "天津津衡燃气表有限公司"),
    "heat": ("山东汇力热能表有限公司", "唐山晟源仪表有限公司", "北京清能计量技术有限公司"),
    "fuel": ("北京恒升加油设备有限公司", "浙江长兴加油机有限公司", "上海燃联机械有限公司"),
    "scale": ("上海华泰衡器有限公司", "浙江永康衡器有限公司", "山东金钟衡器有限公司", "常州恒通衡器有限公司"),
    "gauge": ("上海仪川仪表有限公司", "西安秦宇仪表有限公司", "江苏红星压力表有限公司", "天津津仪压力表有限公司"),
    "detector": ("深圳安测电子有限公司", "河南汉盛传感科技有限公司", "北京华瑞安科技有限公司"),
    "medical": ("广东康泰医疗器械有限公司", "江苏鱼泉医疗设备有限公司", "深圳迈泰生物医疗有限公司"),
    "env": ("杭州声远仪器有限公司", "佛山华测环保仪器有限公司", "青岛明诚环境仪器有限公司"),
    "generic": ("成都恒准量具有限公司", "桂林精测量具有限公司", "上海精科天平有限公司", "青海量刃具有限公司"),
}  # fmt: skip
MAKER_CODES = "ABCDEFGHJKMNPRSTWXYZ"


@dataclass(frozen=True)
class Template:
    """How an instrument of one kind is described in a ledger: (name, model, range) variants."""

    variants: tuple[tuple[str, str, str], ...]
    accuracy: tuple[str, ...]
    maker: str
    place: str  # household, shop, site, station, factory, detector, clinic, env, lab


TEMPLATES: dict[str, Template] = {
    "1.1": Template(
        (("燃油加油机", "CS46G-2224", "(5~50) L/min"), ("燃油加油机", "JKD-2244", "(5~60) L/min")),
        ("0.3级",),
        "fuel",
        "station",
    ),
    "2.1": Template((("液化石油气加气机", "LPG-2000", "(5~50) kg/min"),), ("1.0级",), "fuel", "station"),
    "2.2": Template((("压缩天然气加气机", "CNG-150", "(1~30) kg/min"),), ("1.0级",), "fuel", "station"),
    "2.3": Template((("液化天然气加气机", "LNG-200", "(5~80) kg/min"),), ("1.5级",), "fuel", "station"),
    "3.1": Template(
        (
            ("电子计价秤", "ACS-15", "(0.04~15) kg"),
            ("电子计价秤", "ACS-30", "(0.1~30) kg"),
            ("电子台秤", "TCS-150", "(1~150) kg"),
            ("电子平台秤", "SCS-3", "(20~3000) kg"),
            ("电子汽车衡", "SCS-100", "(400~100000) kg"),
        ),
        ("III",),
        "scale",
        "shop",
    ),
    "4.1": Template((("出租汽车计价器", "JJQ-2000", "(0~9999.9) km"),), ("±1%",), "generic", "site"),
    "5.1": Template(
        (("单相智能电能表", "DDZY71-Z", "5(60) A"), ("三相智能电能表", "DTZY71", "3×1.5(6) A")),
        ("2级", "1级"),
        "power",
        "household",
    ),
    "6.1": Template(
        (
            ("冷水水表", "LXS-15E", "Q3=2.5 m³/h"),
            ("冷水水表", "LXS-20E", "Q3=4 m³/h"),
            ("IC 卡智能水表", "LXSK-20", "Q3=4 m³/h"),
        ),
        ("2级",),
        "water",
        "household",
    ),
    "6.2": Template(
        (("水平螺翼式水表", "LXLC-40", "Q3=25 m³/h"), ("水平螺翼式水表", "LXLC-50", "Q3=40 m³/h")),
        ("2级",),
        "water",
        "site",
    ),
    "6.3": Template(
        (
            ("大口径水表", "LXLG-80", "Q3=100 m³/h"),
            ("大口径水表", "LXLG-100", "Q3=160 m³/h"),
            ("大口径水表", "LXLG-150", "Q3=400 m³/h"),
        ),
        ("2级",),
        "water",
        "site",
    ),
    "7.1": Template(
        (
            ("膜式燃气表", "G1.6", "(0.016~2.5) m³/h"),
            ("智能燃气表", "G2.5", "(0.025~4) m³/h"),
            ("超声波燃气表", "G4", "(0.04~6) m³/h"),
        ),
        ("1.5级",),
        "gas",
        "household",
    ),
    "8.1": Template(
        (
            ("户用超声波热能表", "DN20", "qp=2.5 m³/h"),
            ("户用热量表", "DN25", "qp=3.5 m³/h"),
            ("楼栋热量表", "DN50", "qp=15 m³/h"),
        ),
        ("2级",),
        "heat",
        "household",
    ),
    "9.1": Template((("呼出气体酒精含量检测仪", "AT-8000", "(0~2.0) mg/L"),), ("±0.02 mg/L",), "detector", "detector"),
    "11.1": Template(
        (
            ("可燃气体检测报警器", "GT-2000", "(0~100) %LEL"),
            ("一氧化碳检测报警仪", "BH-60", "(0~1000) μmol/mol"),
            ("便携式四合一气体检测仪", "MX-4", "多组分"),
            ("硫化氢检测报警仪", "SP-1104", "(0~100) μmol/mol"),
        ),
        ("±5% FS",),
        "detector",
        "detector",
    ),
    "12.1": Template(
        (
            ("一般压力表", "Y-100", "(0~1.6) MPa"),
            ("一般压力表", "Y-60", "(0~2.5) MPa"),
            ("压力真空表", "YZ-100", "(-0.1~0.9) MPa"),
            ("耐震压力表", "YN-60", "(0~4) MPa"),
        ),
        ("1.6级", "2.5级"),
        "gauge",
        "factory",
    ),
    "13.1": Template((("玻璃体温计", "三角型", "(35~42) ℃"),), ("±0.1 ℃",), "medical", "clinic"),
    "14.1": Template((("台式血压计", "XJ11D", "(0~40) kPa"),), ("±0.5 kPa",), "medical", "clinic"),
    "14.2": Template((("电子血压计", "HBP-1320", "(0~40) kPa"),), ("±0.4 kPa",), "medical", "clinic"),
    "16.1": Template((("心电图机", "ECG-1200", "12 导联"),), ("—",), "medical", "clinic"),
    "16.3": Template((("脉搏血氧仪", "PM-60", "(70~100) %"),), ("±2%",), "medical", "clinic"),
    "16.5": Template((("多参数监护仪", "PM-9000", "多参数"),), ("—",), "medical", "clinic"),
    "17.1": Template((("医用超声诊断仪", "DC-30", "(2~10) MHz"),), ("—",), "medical", "clinic"),
    "19.1": Template(
        (("声级计", "AWA-5688", "(28~133) dB(A)"), ("噪声统计分析仪", "AWA-6228", "(20~132) dB(A)")),
        ("1级", "2级"),
        "env",
        "env",
    ),
    "20.1": Template((("不透光烟度计", "NHT-6", "(0~99.9) %"),), ("±2%",), "env", "env"),
    "20.2": Template((("汽车排放气体测试仪", "NHA-506", "HC/CO/CO₂/O₂/NO"),), ("1级",), "env", "env"),
}
#: Instruments outside the catalogue (kept in the ledger, never mandatory).
OTHER_INSTRUMENTS: tuple[tuple[str, str, str, str], ...] = (
    ("游标卡尺", "0~150 mm", "0~150 mm", "0.02 mm"),
    ("外径千分尺", "0~25 mm", "(0~25) mm", "0.01 mm"),
    ("数字温度计", "TM-902C", "(-50~300) ℃", "±0.5 ℃"),
    ("电子天平", "JA2003", "(0~200) g", "I"),
    ("数字多用表", "UT-61E", "多量程", "0.1%"),
    ("热电阻", "Pt100", "(0~300) ℃", "A级"),
    ("钢卷尺", "5 m", "(0~5) m", "II"),
    ("扭矩扳手", "TW-100", "(20~100) N·m", "±4%"),
    ("温湿度计", "WS-1", "(-20~60) ℃", "±0.5 ℃"),
)
ESTATES = (
    "阳光小区", "幸福家园", "富强小区", "青年公寓", "和谐家园", "金地花园", "惠民小区", "友谊新村", "康居园",
    "丽景苑", "锦绣华庭", "滨河湾", "春华苑", "翠竹园", "民主里", "松石名第", "铁西新村", "电力小区",
)  # fmt: skip
PLACES: dict[str, tuple[str, ...]] = {
    "shop": ("收银台", "生鲜区", "熟食区", "称重台", "原料库", "发货区", "地磅房", "收购点"),
    "site": ("泵站出口", "商业网点", "小区总表井", "学校供水点", "厂区进水口", "换热站"),
    "station": ("1号加油岛", "2号加油岛", "3号加油岛", "加气区"),
    "factory": ("锅炉房", "1号车间", "2号车间", "空压站", "换热站", "反应釜区", "储气罐区", "泵房", "蒸汽管网"),
    "detector": ("厨房", "燃气表间", "罐区", "配电室", "中控室", "巡检用", "地下车库"),
    "clinic": ("职工医务室", "体检中心", "门诊部"),
    "env": ("环境监测室", "检测线1号工位", "检测线2号工位", "厂界"),
    "lab": ("质检室", "化验室", "计量室", "机修车间", "仓库"),
}
READINGS = "示值误差、重复性等各项目符合检定规程要求"
FAILURE_REASONS = ("示值误差超出最大允许误差", "回零误差超差", "密封性不合格", "铅封缺失、外观损坏", "重复性超差")

# --- Profiles of enterprises --------------------------------------------------------------

#: (catalogue code or None for an instrument outside the catalogue, use field, weight)
Mix = tuple[tuple[str | None, str, float], ...]
T, S, M, E, X = UseField.TRADE, UseField.SAFETY, UseField.MEDICAL, UseField.ENVIRONMENT, UseField.OTHER  # X: other


@dataclass(frozen=True)
class Profile:
    size: float  # mean weight in the number of instruments
    sigma: float  # spread (log-normal)
    mix: Mix


PROFILES: dict[str, Profile] = {
    "water": Profile(
        320, 1.1, (("6.1", T, 86), ("6.2", T, 6), ("6.3", T, 3), ("12.1", S, 3), ("11.1", S, 0.5), (None, X, 1.5))
    ),
    "power": Profile(380, 1.1, (("5.1", T, 93), ("12.1", S, 3), ("11.1", S, 1), ("5.1", X, 2), (None, X, 1))),
    "gas": Profile(300, 1.1, (("7.1", T, 88), ("12.1", S, 5), ("11.1", S, 4), ("2.2", T, 1), (None, X, 2))),
    "heat": Profile(220, 1.1, (("8.1", T, 80), ("12.1", S, 12), ("6.3", T, 2), ("11.1", S, 2), (None, X, 4))),
    "property": Profile(40, 0.9, (("6.1", T, 35), ("5.1", T, 35), ("8.1", T, 15), ("12.1", S, 8), (None, X, 7))),
    "fuel": Profile(
        12,
        0.5,
        (
            ("1.1", T, 55),
            ("2.2", T, 8),
            ("2.1", T, 4),
            ("2.3", T, 4),
            ("11.1", S, 12),
            ("12.1", S, 10),
            ("3.1", T, 2),
            (None, X, 5),
        ),
    ),
    "shop": Profile(
        14, 0.8, (("3.1", T, 75), ("3.1", X, 5), ("12.1", S, 5), ("11.1", S, 5), ("5.1", X, 3), (None, X, 7))
    ),
    "factory": Profile(
        30,
        0.9,
        (
            ("12.1", S, 45),
            ("12.1", X, 7),
            ("11.1", S, 15),
            ("3.1", T, 8),
            ("3.1", X, 4),
            ("5.1", X, 2),
            ("19.1", E, 2),
            (None, X, 17),
        ),
    ),
    "logistics": Profile(12, 0.7, (("3.1", T, 55), ("12.1", S, 15), ("20.1", E, 5), (None, X, 25))),
    "auto": Profile(10, 0.6, (("20.2", E, 20), ("20.1", E, 10), ("12.1", S, 25), ("12.1", X, 15), (None, X, 30))),
    "environment": Profile(
        10, 0.6, (("19.1", E, 35), ("20.2", E, 10), ("11.1", S, 20), ("12.1", S, 10), (None, X, 25))
    ),
    "construction": Profile(12, 0.7, (("12.1", S, 35), ("11.1", S, 15), ("19.1", E, 10), ("3.1", T, 5), (None, X, 35))),
}
CLINIC_MIX: Mix = (
    ("14.1", M, 20), ("14.2", M, 25), ("13.1", M, 25), ("16.1", M, 10), ("16.3", M, 10), ("16.5", M, 7), ("17.1", M, 3),
)  # fmt: skip
#: Share of a clinic-owning enterprise's instruments that are medical devices.
CLINIC_SHARE = 0.2
#: Industry recorded by seed_demo → profile. Unlisted industries are factories.
INDUSTRY_PROFILES: dict[str, str] = {
    "水的生产和供应业": "water",
    "电力生产和供应业": "power",
    "燃气生产和供应业": "gas",
    "热力生产和供应业": "heat",
    "物业管理": "property",
    "机动车燃油零售": "fuel",
    "零售业": "shop",
    "批发业": "shop",
    "餐饮业": "shop",
    "屠宰及肉类加工": "shop",
    "谷物磨制及食用油加工": "shop",
    "畜牧业": "shop",
    "畜牧业（种羊繁育）": "shop",
    "道路货物运输与仓储": "logistics",
    "汽车零售": "auto",
    "生态保护和环境治理业": "environment",
    "房屋建筑业": "construction",
}
#: Enterprises with a staff clinic (职工医务室): the pharmaceutical ones mostly, a few big plants.
CLINIC_INDUSTRIES = {
    "医药制造业": 0.6,
    "黑色金属冶炼和压延加工业": 0.15,
    "煤炭开采和洗选业": 0.15,
    "汽车制造业（矿用车）": 1.0,
}
#: Named enterprises with demo accounts get a ledger worth showing.
NAMED_WEIGHT = 150.0
NAMED_WITH_ACCOUNTS = frozenset(org for spec in ACCOUNTS for org, _role in spec.memberships)

# --- Plan ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class EnterpriseRow:
    pk: int
    name: str
    credit_code: str
    division: str
    industry: str
    address: str = ""

    @property
    def prefecture(self) -> str:
        return self.division[:4] + "00"


@dataclass(slots=True)
class VerificationPlan:
    institution: str  # the area code of the institution (盟市 code, or 150000 for the region)
    verified_on: date
    passed: bool
    valid_until: date | None
    public_code: str
    verifier: int  # staff index 1..3
    checker: int
    failure: str = ""


@dataclass(slots=True)
class InstrumentPlan:
    enterprise: int  # index in the enterprise list
    item_code: str | None
    name: str
    model_spec: str
    measuring_range: str
    accuracy_class: str
    factory_number: str
    manufacturer: str
    location: str
    use_field: str
    status: str
    is_mandatory: bool
    platform_code: str
    filed: bool = False
    last_verified_on: date | None = None
    next_due_on: date | None = None
    history: list[VerificationPlan] = field(default_factory=list)  # oldest first


def allocate(weights: Sequence[float], total: int) -> list[int]:
    """Largest-remainder shares of ``total`` by weight (exact sum, ties by position)."""
    weight_sum = sum(weights) or 1.0
    shares = [total * w / weight_sum for w in weights]
    counts = [int(s) for s in shares]
    left = total - sum(counts)
    order = sorted(range(len(shares)), key=lambda i: (-(shares[i] - counts[i]), i))
    for i in order[:left]:
        counts[i] += 1
    return counts


class _Planner:
    def __init__(self, catalogue: dict[str, CatalogueItem], local_institutes: set[str], seed: int, today: date) -> None:
        self.catalogue = catalogue
        self.local = local_institutes
        self.rng = random.Random(seed)
        self.today = today
        # Certificates end as the documents service ends them (the service policy's convention).
        self.day_before = current_policy().validity_ends_day_before
        self.platform_codes: set[str] = set()
        self.public_codes: set[str] = set()

    def code(self, taken: set[str], length: int, prefix: str = "") -> str:
        while True:
            value = prefix + "".join(self.rng.choices(PLATFORM_CODE_ALPHABET, k=length))
            if value not in taken:
                taken.add(value)
                return value

    def mix(self, mix: Mix) -> Mix:
        """The mix without items missing from (or out of force in) this catalogue."""
        return tuple(m for m in mix if m[0] is None or m[0] in self.catalogue)

    def institution(self, code: str, prefecture: str) -> str:
        if code in SPECIALIST_CODES or prefecture not in self.local:
            return REGION_CODE
        regional_share = 0.35 if prefecture == "150100" else 0.1
        return REGION_CODE if self.rng.random() < regional_share else prefecture

    def verification(self, institution: str, day: date, passed: bool, months: int | None) -> VerificationPlan:
        verifier, checker = self.rng.sample((2, 3), 2)
        return VerificationPlan(
            institution=institution,
            verified_on=day,
            passed=passed,
            valid_until=validity_end(day, months, day_before=self.day_before) if passed and months else None,
            public_code=self.code(self.public_codes, 16),
            verifier=verifier,
            checker=checker,
            failure="" if passed else self.rng.choice(FAILURE_REASONS),
        )

    def history(self, plan: InstrumentPlan, item: CatalogueItem, prefecture: str) -> None:
        rng, today = self.rng, self.today
        months = validity_months(item)
        institution = self.institution(item.code, prefecture)
        periodic = item.verification_mode == VerificationMode.PERIODIC
        if rng.random() < FAIL_SHARE:
            day = today - timedelta(days=rng.randint(5, 330))
            latest = self.verification(institution, day, False, months)
            plan.status = Instrument.Status.STOPPED if periodic else Instrument.Status.SCRAPPED
            plan.next_due_on = None
        elif months is None:  # first verification only, scrapped when inaccurate
            day = today - timedelta(days=rng.randint(20, 1000))
            latest = self.verification(institution, day, True, None)
        else:
            roll = rng.random()
            if roll < OVERDUE_SHARE:
                due = today - timedelta(days=rng.randint(1, 240))
            elif roll < OVERDUE_SHARE + DUE_SOON_SHARE:
                due = today + timedelta(days=rng.randint(0, DUE_SOON_DAYS))
            else:
                latest_due = validity_end(today, months, day_before=self.day_before)
                span = (latest_due - today).days
                due = today + timedelta(days=rng.randint(DUE_SOON_DAYS + 1, max(DUE_SOON_DAYS + 1, span)))
            day = min(add_months(due, -months), today - timedelta(days=1))
            latest = self.verification(institution, day, True, months)
            plan.next_due_on = latest.valid_until
        plan.last_verified_on = latest.verified_on
        if periodic and months and rng.random() < PREVIOUS_CYCLE_SHARE:
            before = add_months(latest.verified_on, -months) - timedelta(days=rng.randint(0, 20))
            plan.history.append(self.verification(institution, before, True, months))
        plan.history.append(latest)

    def enterprise(self, index: int, ent: EnterpriseRow, count: int) -> list[InstrumentPlan]:
        rng = self.rng
        profile = PROFILES[INDUSTRY_PROFILES.get(ent.industry, "factory")]
        mix = self.mix(profile.mix)
        clinic = self.mix(CLINIC_MIX) if rng.random() < CLINIC_INDUSTRIES.get(ent.industry, 0.0) else ()
        weights = [m[2] for m in mix]
        numbers: set[str] = set()
        has_filings = rng.random() < 0.9
        coverage = rng.uniform(0.8, 1.0)
        estate = rng.choice(ESTATES)
        plans = []
        for _ in range(count):
            if clinic and rng.random() < CLINIC_SHARE:
                code, use, _w = rng.choices(clinic, weights=[m[2] for m in clinic])[0]
            else:
                code, use, _w = rng.choices(mix, weights=weights)[0]
            item = self.catalogue.get(code) if code else None
            if item is not None:
                template = TEMPLATES.get(code) or Template(((item.name, "", ""),), ("",), "generic", "lab")
                name, model, measuring = rng.choice(template.variants)
                accuracy = rng.choice(template.accuracy)
                maker_group, place = template.maker, template.place
            else:
                name, model, measuring, accuracy = rng.choice(OTHER_INSTRUMENTS)
                maker_group, place = "generic", "lab"
            maker_index = rng.randrange(len(MANUFACTURERS[maker_group]))
            while True:
                number = f"{MAKER_CODES[maker_index]}{rng.randint(12, 25):02d}{rng.randrange(10**7):07d}"
                if number not in numbers:
                    numbers.add(number)
                    break
            if place == "household":
                if rng.random() < 0.15:
                    estate = rng.choice(ESTATES)
                location = f"{estate}{rng.randint(1, 24)}号楼{rng.randint(1, 6)}单元{rng.randint(1, 18)}{rng.randint(1, 4):02d}室"
            else:
                location = rng.choice(PLACES[place])
            mandatory = bool(item is not None and item.mandatory_for(use))
            roll = rng.random()
            status = (
                Instrument.Status.STOPPED
                if roll < 0.04
                else Instrument.Status.SCRAPPED
                if roll < 0.055
                else Instrument.Status.IN_USE
            )
            plan = InstrumentPlan(
                enterprise=index,
                item_code=item.code if item is not None else None,
                name=name,
                model_spec=model,
                measuring_range=measuring,
                accuracy_class=accuracy,
                factory_number=number,
                manufacturer=MANUFACTURERS[maker_group][maker_index],
                location=location,
                use_field=use,
                status=status,
                is_mandatory=mandatory,
                platform_code=self.code(self.platform_codes, 12, "JL"),
            )
            if mandatory:
                plan.filed = has_filings and rng.random() < coverage
                if rng.random() < HISTORY_SHARE:
                    self.history(plan, item, ent.prefecture)
            plans.append(plan)
        return plans


def plan_instruments(
    enterprises: Sequence[EnterpriseRow],
    catalogue: dict[str, CatalogueItem],
    local_institutes: set[str],
    *,
    total: int = DEFAULT_INSTRUMENTS,
    seed: int = SEED,
    today: date,
    named: frozenset[str] = NAMED_WITH_ACCOUNTS,
) -> Iterator[tuple[int, list[InstrumentPlan]]]:
    """(enterprise index, its instruments) for every enterprise with instruments, in order.

    Pure: no database, no clock. Same inputs → the same plan on any machine.
    """
    planner = _Planner(catalogue, local_institutes, seed, today)
    rng = planner.rng
    weights = []
    for ent in enterprises:
        profile = PROFILES[INDUSTRY_PROFILES.get(ent.industry, "factory")]
        weight = profile.size * rng.lognormvariate(0, profile.sigma)
        weights.append(max(weight, NAMED_WEIGHT) if ent.name in named else weight)
    for index, (ent, count) in enumerate(zip(enterprises, allocate(weights, total), strict=True)):
        if count:
            yield index, planner.enterprise(index, ent, count)


# --- Writing ------------------------------------------------------------------------------


@dataclass
class MetrologySeedResult:
    created: bool
    seconds: float = 0.0
    counts: dict[str, object] = field(default_factory=dict)
    message: str = ""


class NotReady(Exception):
    """seed_demo has not run here: nothing to build on."""


def load_enterprises() -> list[EnterpriseRow]:
    rows = Organization.objects.filter(kind=OrganizationKind.ENTERPRISE, is_active=True).exclude(credit_code=None)
    return [
        EnterpriseRow(pk, name, code, division, industry, address)
        for pk, name, code, division, industry, address in rows.order_by("pk").values_list(
            "pk", "name", "credit_code", "division_id", "industry", "address"
        )
    ]


def metrology_institutes() -> dict[str, Organization]:
    """The legal metrology institutes of seed_demo by the area of their authorisation
    (a 盟市 code, or 150000 for the regional institute)."""
    institutes: dict[str, Organization] = {}
    scopes = (
        AuthorisationScope.objects.filter(
            discipline=Discipline.METROLOGY, organization__kind=OrganizationKind.INSTITUTION
        )
        .prefetch_related("areas")
        .select_related("organization")
    )
    for scope in scopes.order_by("organization_id", "pk"):
        for area in scope.areas.all():
            institutes.setdefault(area.code, scope.organization)
    return institutes


def why_not() -> str:
    """Why the metrology demo must not be built here, or "" when it may."""
    if AuditEvent.objects.filter(action=AUDIT_ACTION, outcome=Outcome.SUCCESS).exists():
        return "The metrology demo data has already been loaded into this database; nothing to do."
    if Instrument.objects.exists():
        return (
            "This database already has measuring instruments, so seed_metrology_demo will not add "
            "demo ones; it only fills a fresh demo. Nothing was changed."
        )
    return ""


def _check_ready() -> None:
    if not AuditEvent.objects.filter(action=ORGANIZATIONS_AUDIT_ACTION, outcome=Outcome.SUCCESS).exists():
        raise NotReady("The organisations demo is not loaded: run `manage.py seed_demo` first, then this command.")
    institutes = metrology_institutes()
    if REGION_CODE not in institutes:
        raise NotReady(
            "The demo's regional metrology institute is missing; run `manage.py seed_demo` on a fresh database."
        )
    if not CatalogueItem.objects.active().exists():
        raise NotReady("The instrument catalogue is empty; run `manage.py migrate` first.")
    User = get_user_model()
    taken = sorted(User.objects.filter(username__startswith="jl_").values_list("username", flat=True)) + list(
        User.objects.filter(username=HISTORY_USERNAME).values_list("username", flat=True)
    )
    if taken:
        raise NotReady("These accounts already exist: " + ", ".join(taken[:10]) + ". Nothing was changed.")


def _person(rng: random.Random) -> str:
    surname = rng.choice(SURNAMES_WEIGHTED)
    return surname + (rng.choice(GIVEN_SINGLE) if rng.random() < 0.35 else rng.choice(GIVEN_NAMES))


def _write_scopes(institutes: dict[str, Organization], items: Sequence[CatalogueItem]) -> int:
    """One authorisation line per catalogue item and institute (the generic lines of
    seed_demo stay: their blank subject code matches no item)."""
    rows, areas = [], []
    for area, institute in sorted(institutes.items()):
        for item in items:
            if area != REGION_CODE and item.code in SPECIALIST_CODES:
                continue
            rows.append(
                AuthorisationScope(
                    organization=institute,
                    discipline=Discipline.METROLOGY,
                    subject_code=item.code,
                    subject_name=item.name,
                    basis=SCOPE_BASIS,
                )
            )
            areas.append(area)
    created = AuthorisationScope.objects.bulk_create(rows, batch_size=500)
    Area = AuthorisationScope.areas.through
    Area.objects.bulk_create(
        [Area(authorisationscope_id=s.pk, admindivision_id=a) for s, a in zip(created, areas, strict=True)],
        batch_size=1000,
    )
    return len(created)


def _write_tariffs_and_policies(catalogue: dict[str, CatalogueItem]) -> dict[str, object]:
    Tariff.objects.bulk_create(
        [
            Tariff(
                catalogue_item=item,
                price=Decimal(PRICES.get(code, DEFAULT_PRICE)),
                valid_from=date(2015, 1, 1),
                source=TARIFF_SOURCE,
            )
            for code, item in catalogue.items()
        ]
    )
    policies = [
        WaiverPolicy(
            name=CAMPAIGN_NAME,
            basis=WaiverPolicy.Basis.CAMPAIGN,
            catalogue_item=item,
            division_id=CAMPAIGN_DIVISION,
            percentage=100,
            valid_from=date(CAMPAIGN_YEAR, 1, 1),
            valid_until=date(CAMPAIGN_YEAR, 12, 31),
            source=POLICY_SOURCE + "；参照包头市包检道免费检定做法，范围为贸易结算用强检计量器具",
        )
        for item in catalogue.values()
        if item.use_trade and item.mandatory_for(UseField.TRADE)
    ]
    policies.append(
        WaiverPolicy(
            name=USER_TYPE_POLICY_NAME,
            basis=WaiverPolicy.Basis.USER_TYPE,
            credit_code_prefix="92",
            percentage=100,
            valid_from=date(2024, 1, 1),
            source=POLICY_SOURCE,
        )
    )
    if ITEM_POLICY_CODE in catalogue:
        policies.append(
            WaiverPolicy(
                name=ITEM_POLICY_NAME,
                basis=WaiverPolicy.Basis.ITEM,
                catalogue_item=catalogue[ITEM_POLICY_CODE],
                percentage=50,
                valid_from=date(2024, 1, 1),
                source=POLICY_SOURCE,
            )
        )
    return {"policies": WaiverPolicy.objects.bulk_create(policies)}


def _covers(division: str | None, county: str) -> bool:
    if division is None or division == county:
        return True
    if division.endswith("0000"):
        return county[:2] == division[:2]
    if division.endswith("00"):
        return county[:4] == division[:4]
    return False


class _Fees:
    """Fee and waiver of one verification, as acceptance would fix them: the tariff in force,
    and the policy with the highest percentage among those that apply."""

    def __init__(self, catalogue: dict[str, CatalogueItem], policies: Sequence[WaiverPolicy]) -> None:
        self.prices = {code: Decimal(PRICES.get(code, DEFAULT_PRICE)) for code in catalogue}
        self.policies = sorted(policies, key=lambda p: -p.percentage)

    def __call__(
        self, code: str, item_pk: int, ent: EnterpriseRow, day: date
    ) -> tuple[Decimal, Decimal, WaiverPolicy | None]:
        fee = self.prices[code]
        for policy in self.policies:
            if policy.catalogue_item_id not in (None, item_pk):
                continue
            if policy.credit_code_prefix and not ent.credit_code.startswith(policy.credit_code_prefix):
                continue
            if not _covers(policy.division_id, ent.division):
                continue
            if day < policy.valid_from or (policy.valid_until and day > policy.valid_until):
                continue
            waived = (fee * policy.percentage / 100).quantize(Decimal("0.01"))
            return fee, waived, policy
        return fee, Decimal("0.00"), None


def _aware(day: date, hour: int, minute: int = 0) -> datetime:
    return timezone.make_aware(datetime.combine(day, dtime(hour, minute)))


CASE_FIELDS = (
    "id", "kind", "number", "state", "applicant_organization", "handling_organization", "division", "opened_at",
    "submitted_by", "submitted_at", "deadline", "decided_by", "decided_at", "closed_at", "rating_score",
    "rating_comment", "rated_by", "rated_at",
)  # fmt: skip
EVENT_FIELDS = ("id", "case", "at", "actor", "kind", "note")


def _insert(model, fields: Sequence[str], rows: list[tuple]) -> None:
    """INSERT the rows (values already in database form) with ``executemany``.

    bulk_create compiles every value through the ORM (about 20 µs each): for the ~400,000
    rows of the demo that alone is over a minute. The ids are given (see ``_Ids``).
    """
    if not rows:
        return
    qn = connection.ops.quote_name
    columns = ", ".join(qn(model._meta.get_field(name).column) for name in fields)
    marks = ", ".join(["%s"] * len(fields))
    sql = f"INSERT INTO {qn(model._meta.db_table)} ({columns}) VALUES ({marks})"
    with connection.cursor() as cursor:
        for start in range(0, len(rows), 5000):
            cursor.executemany(sql, rows[start : start + 5000])


class _Ids:
    """Primary keys handed out in advance (the writer runs in one transaction that holds the
    write lock); sequences are reset at the end for databases that have them."""

    def __init__(self, models) -> None:
        self.models = list(models)
        self.next = {}
        for model in self.models:
            last = model.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
            self.next[model] = last + 1

    def take(self, model) -> int:
        value = self.next[model]
        self.next[model] = value + 1
        return value

    def reset_sequences(self) -> None:
        statements = connection.ops.sequence_reset_sql(no_style(), self.models)
        if statements:
            with connection.cursor() as cursor:
                for sql in statements:
                    cursor.execute(sql)


class _Writer:
    """Turns the plan into rows, one chunk of enterprises at a time (a few INSERTs each)."""

    CHUNK = 10000

    def __init__(
        self,
        *,
        enterprises,
        catalogue,
        institutes,
        staff,
        fees,
        history_user,
        submitters,
        reviewers,
        contacts,
        seed,
        today,
    ):
        self.enterprises = enterprises
        self.catalogue = catalogue
        self.institutes = institutes  # area -> institution
        self.staff = staff  # area -> {1: user, 2: user, 3: user}
        self.fees = fees
        self.history_id = history_user.pk
        self.submitters = submitters  # enterprise pk -> user id
        self.reviewers = reviewers  # county code -> user id
        self.contacts = contacts  # enterprise pk -> (name, phone)
        self.rng = random.Random(seed + 1)  # application and filing details, in writing order
        self.today = today
        self.ids = _Ids(
            [Instrument, InstrumentFiling, InstrumentFiling.instruments.through, VerificationApplication,
             ApplicationItem, VerificationResult, IssuedDocument, Case, CaseEvent]
        )  # fmt: skip
        self.document_seq: Counter = Counter()
        self.pending: list[tuple[int, list[InstrumentPlan]]] = []
        self.pending_count = 0
        ops = connection.ops
        self.date = ops.adapt_datefield_value
        self.datetime = ops.adapt_datetimefield_value
        self.now = self.datetime(timezone.now())

    @staticmethod
    def case_numbers(kind: str, days: list[date]) -> list[str]:
        """Case numbers from the case kernel's counters for cases submitted on ``days``, in that
        order (one block per year)."""
        per_year = Counter(day.year for day in days)
        blocks = {year: iter(next_numbers(kind, year=year, count=n)) for year, n in sorted(per_year.items())}
        return [next(blocks[day.year]) for day in days]

    def aware(self, day: date, hour: int, minute: int = 0):
        return self.datetime(_aware(day, hour, minute))

    def add(self, index: int, plans: list[InstrumentPlan]) -> None:
        self.pending.append((index, plans))
        self.pending_count += len(plans)
        if self.pending_count >= self.CHUNK:
            self.flush()

    def flush(self) -> None:
        if not self.pending:
            return
        batch, self.pending, self.pending_count = self.pending, [], 0
        rng, today, ids, d, now = self.rng, self.today, self.ids, self.date, self.now
        catalogue_pk = {code: item.pk for code, item in self.catalogue.items()}

        instrument_rows, by_plan = [], []
        for index, plans in batch:
            ent = self.enterprises[index]
            pairs = []
            for p in plans:
                pk = ids.take(Instrument)
                pairs.append((p, pk))
                instrument_rows.append(
                    (pk, p.platform_code, ent.pk, ent.division, catalogue_pk[p.item_code] if p.item_code else None,
                     p.name, p.model_spec, p.measuring_range, p.accuracy_class, p.factory_number, p.manufacturer,
                     p.location, p.use_field, p.status, p.is_mandatory, p.filed, d(p.last_verified_on),
                     d(p.next_due_on), now, now)
                )  # fmt: skip
            by_plan.append((ent, pairs))
        _insert(
            Instrument,
            ("id", "platform_code", "organization", "division", "catalogue_item", "name", "model_spec",
             "measuring_range", "accuracy_class", "factory_number", "manufacturer", "location", "use_field",
             "status", "is_mandatory", "filed", "last_verified_on", "next_due_on", "created_at", "updated_at"),
            instrument_rows,
        )  # fmt: skip

        # 强检备案: a few approved filings per enterprise, each a case numbered by the case kernel
        # (numbers taken per year in writing order, so the same on every run).
        Through = InstrumentFiling.instruments.through
        planned_filings, member_rows = [], []
        for ent, pairs in by_plan:
            filed = [pk for p, pk in pairs if p.filed]
            if not filed:
                continue
            parts = min(3, 1 + len(filed) // 200)
            for part in range(parts):
                submitted = date(2024, 3, 1) + timedelta(days=rng.randint(0, 640))
                reviewed = submitted + timedelta(days=rng.randint(1, 5))
                filing_pk = ids.take(InstrumentFiling)
                planned_filings.append(
                    (filing_pk, ent, submitted, self.submitters.get(ent.pk, self.history_id),
                     _aware(submitted, rng.randint(8, 17), rng.randint(0, 59)),
                     self.reviewers.get(ent.division, self.history_id),
                     _aware(reviewed, rng.randint(8, 17), rng.randint(0, 59)))
                )  # fmt: skip
                member_rows.extend((ids.take(Through), filing_pk, pk) for pk in filed[part::parts])
        numbers = self.case_numbers(FILING.code, [submitted for _f, _e, submitted, *_r in planned_filings])
        filing_rows, case_rows, event_rows = [], [], []
        approved = InstrumentFiling.State.APPROVED.value
        for (filing_pk, ent, _day, submitter, submitted_at, reviewer, reviewed_at), number in zip(
            planned_filings, numbers, strict=True
        ):
            case_pk = ids.take(Case)
            dt = self.datetime
            case_rows.append(
                (case_pk, FILING.code, number, approved, ent.pk, None, ent.division, dt(submitted_at), submitter,
                 dt(submitted_at), None, reviewer, dt(reviewed_at), dt(reviewed_at), None, "", None, None)
            )  # fmt: skip
            event_rows.append((ids.take(CaseEvent), case_pk, dt(submitted_at), submitter, "submitted", ""))
            event_rows.append((ids.take(CaseEvent), case_pk, dt(reviewed_at), reviewer, "approved", ""))
            filing_rows.append(
                (filing_pk, number, ent.pk, ent.division, approved, submitter, dt(submitted_at), reviewer,
                 dt(reviewed_at), "", case_pk)
            )  # fmt: skip
        _insert(Case, CASE_FIELDS, case_rows)
        _insert(CaseEvent, EVENT_FIELDS, event_rows)
        _insert(
            InstrumentFiling,
            ("id", "number", "organization", "division", "state", "submitted_by", "submitted_at", "reviewed_by",
             "reviewed_at", "return_reason", "case"),
            filing_rows,
        )  # fmt: skip
        _insert(Through, ("id", "instrumentfiling", "instrument"), member_rows)

        # Verification history: one application per enterprise, institution and month.
        planned_applications, item_rows, result_rows, document_rows = [], [], [], []
        for ent, pairs in by_plan:
            groups: dict[tuple, list] = defaultdict(list)
            for p, pk in pairs:
                for v in p.history:
                    groups[(v.institution, v.verified_on.year, v.verified_on.month)].append((pk, p, v))
            ordered = sorted(
                groups.values(), key=lambda m: (min(v.verified_on for _i, _p, v in m), m[0][2].institution)
            )
            for members in ordered:
                area = members[0][2].institution
                institution_id = self.institutes[area].pk
                first = min(v.verified_on for _i, _p, v in members)
                submitted = _aware(first - timedelta(days=rng.randint(2, 10)), rng.randint(8, 17), rng.randint(0, 59))
                on_site = len(members) >= 20 or any(
                    p.item_code in ("1.1", "2.1", "2.2", "2.3") for _i, p, _v in members
                )
                application_pk = ids.take(VerificationApplication)
                fee_total = waived_total = Decimal("0.00")
                for instrument_pk, p, v in members:
                    item = self.catalogue[p.item_code]
                    fee, waived, policy = self.fees(p.item_code, item.pk, ent, v.verified_on)
                    fee_total += fee
                    waived_total += waived
                    item_pk, result_pk = ids.take(ApplicationItem), ids.take(VerificationResult)
                    item_rows.append(
                        (item_pk, application_pk, instrument_pk, item.pk, fee, waived, policy.pk if policy else None)
                    )
                    signers = self.staff[area]
                    result_rows.append(
                        (result_pk, item_pk, "pass" if v.passed else "fail", d(v.verified_on),
                         READINGS if v.passed else "", "", v.failure, signers[v.verifier].pk, signers[v.checker].pk,
                         signers[1].pk, "", institution_id, self.aware(v.verified_on, 17, 30))
                    )  # fmt: skip
                    year = v.verified_on.year
                    kind = IssuedDocument.Kind.CERTIFICATE if v.passed else IssuedDocument.Kind.NOTICE
                    prefix = "JD" if v.passed else "TZ"
                    self.document_seq[(kind, area, year)] += 1
                    number = f"{prefix}-{institution_id}-{year}-{self.document_seq[(kind, area, year)]:06d}"
                    issued = v.verified_on + timedelta(days=min(rng.randint(0, 2), (today - v.verified_on).days))
                    facts = document_public_facts(
                        institution_name=self.institutes[area].name,
                        instrument=p,
                        catalogue_item=item,
                        outcome="pass" if v.passed else "fail",
                        verified_on=v.verified_on,
                        issued_on=issued,
                    )
                    document_rows.append(
                        (ids.take(IssuedDocument), v.public_code, number,
                         kind.value,
                         result_pk, instrument_pk, institution_id, ent.pk, ent.division, self.aware(issued, 18),
                         d(v.valid_until), fee, waived, IssuedDocument.State.VALID.value, "", "", "",
                         json.dumps(facts, ensure_ascii=False), d(v.verified_on))
                    )  # fmt: skip
                name, phone = self.contacts.get(ent.pk, ("", ""))
                last = max(v.verified_on for _i, _p, v in members)
                planned_applications.append(
                    (application_pk, ent, institution_id, on_site, name, phone, submitted,
                     submitted + timedelta(hours=rng.randint(2, 40)), self.staff[area][1].pk, first,
                     _aware(last, 17, 30), fee_total, waived_total)
                )  # fmt: skip
        numbers = self.case_numbers(
            APPLICATION.code,
            [timezone.localdate(submitted) for _a, _e, _i, _o, _n, _p, submitted, *_r in planned_applications],
        )
        application_rows, case_rows, event_rows = [], [], []
        dt = self.datetime
        for planned, number in zip(planned_applications, numbers, strict=True):
            (application_pk, ent, institution_id, on_site, name, phone, submitted, decided, decider, first, done,
             fee_total, waived_total) = planned  # fmt: skip
            submitter = self.submitters.get(ent.pk, self.history_id)
            accept_by = submitted + timedelta(days=2)
            case_pk = ids.take(Case)
            case_rows.append(
                (case_pk, APPLICATION.code, number, "accepted", ent.pk, institution_id, ent.division, dt(submitted),
                 submitter, dt(submitted), dt(accept_by), decider, dt(decided), dt(done), None, "", None, None)
            )  # fmt: skip
            event_rows.append((ids.take(CaseEvent), case_pk, dt(submitted), submitter, "submitted", ""))
            event_rows.append((ids.take(CaseEvent), case_pk, dt(decided), decider, "accepted", ""))
            event_rows.append((ids.take(CaseEvent), case_pk, dt(done), decider, "completed", ""))
            application_rows.append(
                (application_pk, number, ent.pk, institution_id,
                 ent.division, "on_site" if on_site else "drop_off", ent.address if on_site else "",
                 name or "—", phone or "—", "", VerificationApplication.State.COMPLETED.value,
                 submitter, dt(submitted), dt(accept_by), dt(decided), decider, "",
                 d(first), fee_total, waived_total, case_pk)
            )  # fmt: skip
        _insert(Case, CASE_FIELDS, case_rows)
        _insert(CaseEvent, EVENT_FIELDS, event_rows)
        _insert(
            VerificationApplication,
            ("id", "number", "organization", "institution", "division", "mode", "site_address", "contact_name",
             "contact_phone", "note", "state", "submitted_by", "submitted_at", "accept_by", "decided_at",
             "decided_by", "reject_reason", "scheduled_on", "fee_total", "waived_total", "case"),
            application_rows,
        )  # fmt: skip
        _insert(
            ApplicationItem,
            ("id", "application", "instrument", "catalogue_item", "fee", "waived", "waiver_policy"),
            item_rows,
        )
        _insert(
            VerificationResult,
            ("id", "item", "outcome", "verified_on", "readings", "remarks", "failure_reasons", "verifier", "checker",
             "approver", "external_id", "institution", "recorded_at"),
            result_rows,
        )  # fmt: skip
        _insert(
            IssuedDocument,
            ("id", "public_code", "number", "kind", "result", "instrument", "institution", "organization", "division",
             "issued_at", "valid_until", "fee", "waived", "state", "revoked_reason", "pdf", "pdf_sha256",
             "public_facts", "verified_on"),
            document_rows,
        )  # fmt: skip


def _write_staff(institutes: dict[str, Organization], seed: int) -> tuple[dict[str, dict[int, object]], object]:
    """Three verification staff per institute (jl_<area>_1 manager, _2 and _3 clerks), and
    the account that holds history made before the platform."""
    User = get_user_model()
    rng = random.Random(seed + 2)
    password_hash = make_password(DEMO_PASSWORD)
    now = timezone.now()
    users, memberships, staff = [], [], {}
    for area, institute in sorted(institutes.items()):
        staff[area] = {}
        for n in range(1, STAFF_PER_INSTITUTION + 1):
            username = f"jl_{area}_{n}"
            user = User(
                username=username,
                display_name=_person(rng),
                email=f"{username}@example.com",
                password=password_hash,
                password_changed_at=now,
            )
            users.append(user)
            staff[area][n] = user
            role = MembershipRole.MANAGER if n == 1 else MembershipRole.CLERK
            memberships.append((user, institute, role))
    history = User(username=HISTORY_USERNAME, display_name=HISTORY_DISPLAY_NAME, is_active=False)
    history.set_unusable_password()
    users.append(history)
    User.objects.bulk_create(users)
    Membership.objects.bulk_create(
        [Membership(user=u, organization=o, role=r, is_default=True) for u, o, r in memberships]
    )
    return staff, history


def count_metrology_demo(today: date | None = None) -> dict[str, object]:
    today = today or timezone.localdate()
    mandatory_in_use = Instrument.objects.filter(is_mandatory=True, status=Instrument.Status.IN_USE)
    totals = IssuedDocument.objects.aggregate(fee=Sum("fee"), waived=Sum("waived"))
    return {
        "instruments": Instrument.objects.count(),
        "mandatory": Instrument.objects.filter(is_mandatory=True).count(),
        "filed": Instrument.objects.filter(filed=True).count(),
        "filings": InstrumentFiling.objects.count(),
        "applications": VerificationApplication.objects.count(),
        "results": VerificationResult.objects.count(),
        "certificates": IssuedDocument.objects.filter(kind=IssuedDocument.Kind.CERTIFICATE).count(),
        "notices": IssuedDocument.objects.filter(kind=IssuedDocument.Kind.NOTICE).count(),
        "due within 30 days": mandatory_in_use.filter(
            next_due_on__gte=today, next_due_on__lte=today + timedelta(days=DUE_SOON_DAYS)
        ).count(),
        "overdue": mandatory_in_use.filter(next_due_on__lt=today).count(),
        "total fee (yuan)": totals["fee"] or Decimal("0"),
        "total waived (yuan)": totals["waived"] or Decimal("0"),
    }


def build_metrology_demo(
    *, total: int = DEFAULT_INSTRUMENTS, seed: int = SEED, today: date | None = None
) -> MetrologySeedResult:
    """Build the metrology demo in one transaction, or explain why not (changing nothing).

    Raises :class:`NotReady` when seed_demo has not run.
    """
    started = time.perf_counter()
    today = today or timezone.localdate()
    reason = why_not()
    if reason:
        return MetrologySeedResult(created=False, message=reason, counts=count_metrology_demo(today))
    _check_ready()
    institutes = metrology_institutes()
    items = list(CatalogueItem.objects.active().order_by("level1_no", "level2_no", "code"))
    catalogue = {item.code: item for item in items}
    enterprises = load_enterprises()
    with transaction.atomic():
        scopes = _write_scopes(institutes, items)
        policies = _write_tariffs_and_policies(catalogue)["policies"]
        staff, history_user = _write_staff(institutes, seed)
        submitters: dict[int, int] = {}
        for m in Membership.objects.filter(
            organization__kind=OrganizationKind.ENTERPRISE, role__in=[MembershipRole.MANAGER, MembershipRole.CLERK]
        ).order_by("organization_id", "-role", "user_id"):
            submitters.setdefault(m.organization_id, m.user_id)
        reviewers: dict[str, int] = {}
        for m in (
            Membership.objects.filter(
                organization__kind=OrganizationKind.REGULATOR, organization__division__level="county"
            )
            .select_related("organization")
            .order_by("user_id")
        ):
            reviewers.setdefault(m.organization.division_id, m.user_id)
        contacts = {
            c.organization_id: (c.name, c.phone)
            for c in OrganizationContact.objects.filter(is_primary=True, organization__kind=OrganizationKind.ENTERPRISE)
        }
        writer = _Writer(
            enterprises=enterprises,
            catalogue=catalogue,
            institutes=institutes,
            staff=staff,
            fees=_Fees(catalogue, policies),
            history_user=history_user,
            submitters=submitters,
            reviewers=reviewers,
            contacts=contacts,
            seed=seed,
            today=today,
        )
        local = {code for code in institutes if code != REGION_CODE}
        for index, plans in plan_instruments(enterprises, catalogue, local, total=total, seed=seed, today=today):
            writer.add(index, plans)
        writer.flush()
        writer.ids.reset_sequences()
        fill_missing_content_hashes(IssuedDocument)  # the documents were written past the issuing service
        counts = count_metrology_demo(today)
        counts = {"authorisation scopes (per item)": scopes, **counts}
        audit_record(
            action=AUDIT_ACTION,
            details={
                "seed": seed,
                "instruments_requested": total,
                "today": today.isoformat(),
                "counts": {k: str(v) if isinstance(v, Decimal) else v for k, v in counts.items()},
                "seconds": round(time.perf_counter() - started, 2),
            },
        )
    return MetrologySeedResult(created=True, seconds=time.perf_counter() - started, counts=counts)
