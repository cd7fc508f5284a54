"""Demo data: a believable Inner Mongolia to try NQI Hub on (``manage.py seed_demo``).

Why a builder of its own rather than fixtures: the demo needs thousands of enterprises with
*valid* credit codes spread over every 旗县区, and the same data on every machine, so that a
bug report against the demo ("log in as kundulun_reg and open QY…") means the same thing
everywhere. Everything is therefore planned by pure functions from one seeded
``random.Random`` (:func:`plan_demo`, no database, no clock) and only then written
(:func:`build_demo`).

What is real and what is invented:

* the divisions are the shipped GB/T 2260 table (loaded by the migrations);
* the regulators follow the real structure (自治区局 → 盟市局 → 旗县区局);
* the institutions and enterprises named in the project's seed documents (Chinese news
  reports) keep their names, but their credit codes, CMA numbers, addresses, legal
  representatives and telephone numbers are made up: they must never be mistaken for the
  real ones;
* everything else (about 2,400 enterprises, their people and numbers) is generated.
"""

from __future__ import annotations

import base64
import hashlib
import random
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.contrib.auth.password_validation import validate_password
from django.db import transaction
from django.utils import timezone

from nqihub.audit.models import AuditEvent, Outcome
from nqihub.audit.services import audit_record
from nqihub.core.access import MembershipRole, OrganizationKind, StaffRole
from nqihub.divisions.models import AdminDivision

from .credit_code import make_credit_code, make_organisation_code
from .models import (
    AuthorisationScope,
    Discipline,
    EnterpriseRegistration,
    InstitutionDiscipline,
    Membership,
    Organization,
    OrganizationContact,
)

__all__ = [
    "ACCOUNTS",
    "DEMO_PASSWORD",
    "SEED",
    "County",
    "DemoPlan",
    "SeedResult",
    "accounts_markdown",
    "build_demo",
    "demo_exists",
    "load_divisions",
    "plan_demo",
    "totp_base32",
    "totp_key_hex",
]

#: The one seed of the demo: change it and every generated name and code changes.
SEED = 2026
#: Shared, published password of every demo account (meets the default policy: 12
#: characters, four character classes).
DEMO_PASSWORD = "Demo@2026nqi"
#: How many enterprises are generated on top of the ones named in the seed documents.
GENERATED_ENTERPRISES = 2400
#: Every county gets at least this many generated enterprises.
MIN_PER_COUNTY = 5
#: The action of the audit record written by the seeding; also its "already seeded" marker.
AUDIT_ACTION = "demo.seed"
REGION_CODE = "150000"
REGION_REGULATOR = "内蒙古自治区市场监督管理局"

# --- Plan data types -----------------------------------------------------------------------


@dataclass(frozen=True)
class County:
    """A current county-level division with its 盟市, as the planner needs it."""

    code: str
    name: str
    prefecture_code: str
    prefecture_name: str

    @property
    def is_district(self) -> bool:
        return self.name.endswith("区")

    @property
    def is_city(self) -> bool:
        """A county-level city (县级市), e.g. 满洲里市: named without its 盟市."""
        return self.name.endswith("市")

    @property
    def name_prefix(self) -> str:
        """The county as the start of a company name: 包头市昆都仑区, but 太仆寺旗 alone."""
        return self.prefecture_name + self.name if self.is_district else self.name

    @property
    def place(self) -> str:
        """How the county is written at the start of an address."""
        return self.name if self.is_city else self.prefecture_name + self.name


@dataclass(frozen=True)
class Divisions:
    """The divisions the demo is built on, read once from the database."""

    province_name: str
    prefectures: tuple[tuple[str, str], ...]  # (code, name), in code order
    counties: tuple[County, ...]  # in code order


@dataclass(frozen=True)
class ContactSpec:
    name: str
    title: str
    phone: str
    email: str = ""


@dataclass(frozen=True)
class OrgSpec:
    """One organisation to create (enterprise, institution or regulator)."""

    kind: str
    name: str
    division: str
    credit_code: str | None
    address: str = ""
    legal_representative: str = ""
    industry: str = ""
    phone: str = ""
    cma_number: str = ""
    disciplines: tuple[str, ...] = ()
    scopes: tuple[ScopeSpec, ...] = ()
    contact: ContactSpec | None = None


@dataclass(frozen=True)
class ScopeSpec:
    discipline: str
    subject_name: str
    basis: str
    areas: tuple[str, ...]


@dataclass(frozen=True)
class ApplicationSpec:
    """An enterprise registration application made through the real services."""

    applicant: str
    outcome: str  # "submitted", "returned" or "approved"
    reviewer: str
    data: dict
    reason: str = ""


@dataclass(frozen=True)
class AccountSpec:
    username: str
    display_name: str
    staff_role: str = ""
    memberships: tuple[tuple[str, str], ...] = ()  # (organisation name, role); first is default
    sees: str = ""


@dataclass
class DemoPlan:
    regulators: list[OrgSpec]
    institutions: list[OrgSpec]
    named_enterprises: list[OrgSpec]
    generated_enterprises: list[OrgSpec]
    applications: list[ApplicationSpec]

    @property
    def enterprises(self) -> list[OrgSpec]:
        return self.named_enterprises + self.generated_enterprises


@dataclass
class SeedResult:
    created: bool
    seconds: float = 0.0
    counts: dict[str, int] = field(default_factory=dict)
    message: str = ""


# --- Word lists ---------------------------------------------------------------------------

SURNAMES = (
    "王李张刘陈杨赵黄周吴徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈"
    "姚卢姜崔钟谭陆汪范金石廖贾夏付方白邹孟熊秦邱江尹薛闫段雷侯史陶贺顾毛郝龚邵万武乔康包云奇"
)
#: Surnames common in Inner Mongolia are repeated so they come up more often.
SURNAMES_WEIGHTED = SURNAMES + "王李张刘白包郝乔云"
#: Common given names; a person gets one of these or a single character.
GIVEN_NAMES = (
    "建国", "志强", "海燕", "晓东", "丽娟", "秀英", "桂英", "玉兰", "俊杰", "志刚", "永红", "建华",
    "红梅", "晓峰", "雪梅", "春燕", "国庆", "海军", "文博", "子涵", "欣怡", "浩然", "宇航", "佳琪",
    "思远", "瑞峰", "立新", "振华", "秀兰", "凤英", "建军", "志明", "晓燕", "丽华", "海涛", "宏伟",
    "玉梅", "金花", "慧敏", "亚楠", "文静", "红霞", "建平", "国华", "晓光", "丽萍", "永刚", "俊峰",
    "雅琴", "淑芬", "德胜", "保平", "巧玲", "爱民", "新华", "卫东", "利军", "美玲", "天宇", "梓轩",
)  # fmt: skip
GIVEN_SINGLE = "伟芳娜敏静丽强磊军洋勇艳杰涛明超霞平刚辉鹏飞峰斌宁琳雪颖鑫波亮晶健浩阳华英梅兰"
#: Mongolian given names, written without a Han surname as is usual.
MONGOLIAN_NAMES = (
    "巴特尔", "乌兰", "其其格", "斯琴", "额尔敦", "那仁", "苏和", "阿拉坦", "朝鲁", "萨仁",
    "格日勒", "宝音", "图雅", "哈斯", "敖登", "布仁", "达来", "乌日娜", "孟和", "塔娜",
)  # fmt: skip
CONTACT_TITLES = ("办公室主任", "质量负责人", "计量管理员", "行政主管", "副总经理", "技术负责人", "综合部经理")

#: 字号 (trade names) usable anywhere. Well-known real brands are left out on purpose.
TRADE_WORDS = (
    "草原", "北疆", "金河", "塞北", "黄河", "鑫达", "恒源", "金泰", "宏远", "蒙源", "瑞丰", "德润",
    "华盛", "广源", "兴旺", "天泽", "福瑞", "恒通", "盛世", "嘉禾", "润泽", "博远", "聚鑫", "众邦",
    "祥和", "万通", "正元", "益民", "宏达", "腾飞", "永盛", "金诚", "蓝天", "绿源", "丰泽", "汇通",
    "安泰", "晟达", "鸿运", "泰和", "银河", "白云", "大漠", "蒙原", "牧歌", "骏马", "金穗", "天骄",
    "朔方", "长盛", "瑞源", "恒达", "中盛", "华兴", "新源", "宏泰", "诚信", "富民", "金驼", "雪原",
)  # fmt: skip
#: 字号 that belong to one 盟市 (nicknames, rivers, mountains).
LOCAL_TRADE_WORDS: dict[str, tuple[str, ...]] = {
    "150100": ("青城", "敕勒川", "大青山", "昭君"),
    "150200": ("鹿城", "阴山", "钢城", "稀都"),
    "150300": ("乌海湖", "甘德尔", "书法城"),
    "150400": ("红山", "玉龙", "西拉沐沦", "松州"),
    "150500": ("科尔沁", "西辽河", "孝庄河"),
    "150600": ("康巴什", "乌兰木伦", "库布其", "暖城"),
    "150700": ("呼伦", "兴安岭", "额尔古纳", "海拉尔河"),
    "150800": ("河套", "狼山", "乌梁素海"),
    "150900": ("察哈尔", "黄旗海", "辉腾锡勒"),
    "152200": ("兴安", "洮儿河", "罕山"),
    "152500": ("锡林", "乌珠穆沁", "浑善达克"),
    "152900": ("贺兰", "巴丹吉林", "胡杨"),
}
#: (word in the name, industry recorded). The industries are the ones where measuring
#: instruments under mandatory verification are everyday tools: scales, fuel dispensers,
#: water, gas, heat and electricity meters, pressure gauges, laboratory instruments.
INDUSTRIES: tuple[tuple[str, str, float], ...] = (
    # (word in the name, industry recorded, weight anywhere in the region)
    ("乳业", "乳制品制造", 0.4),
    ("羊绒制品", "毛纺织及羊绒制品加工", 0.1),
    ("稀土材料", "稀土金属冶炼和加工", 0),
    ("煤炭", "煤炭开采和洗选业", 0),
    ("电力", "电力生产和供应业", 0.4),
    ("化工", "化学原料和化学制品制造业", 0.2),
    ("冶金", "黑色金属冶炼和压延加工业", 0.1),
    ("食品", "食品制造业", 1),
    ("物流", "道路货物运输与仓储", 1),
    ("建材", "非金属矿物制品业", 0.8),
    ("燃气", "燃气生产和供应业", 0.8),
    ("供热", "热力生产和供应业", 0.8),
    ("水务", "水的生产和供应业", 0.6),
    ("加油站", "机动车燃油零售", 1),
    ("农牧业", "畜牧业", 0.5),
    ("医药", "医药制造业", 0.4),
    ("商贸", "批发业", 1.5),
    ("超市", "零售业", 1.5),
    ("肉业", "屠宰及肉类加工", 0.5),
    ("粮油", "谷物磨制及食用油加工", 0.5),
    ("酒业", "酒的制造", 0.3),
    ("机械", "通用设备制造业", 0.4),
    ("汽车销售服务", "汽车零售", 0.8),
    ("餐饮管理", "餐饮业", 1),
    ("物业服务", "物业管理", 0.8),
    ("建筑工程", "房屋建筑业", 1),
    ("环保科技", "生态保护和环境治理业", 0.4),
)
#: Weight of an industry word in one 盟市 (its economy), replacing the region-wide weight:
#: rare earths in Baotou, coal in Ordos and Wuhai, dairy around Hohhot, cattle and sheep
#: in the pastoral leagues.
LOCAL_INDUSTRY_WEIGHTS: dict[str, dict[str, float]] = {
    "150100": {"乳业": 3, "食品": 1.5, "医药": 1.5, "电力": 0.8, "羊绒制品": 0.3},
    "150200": {"稀土材料": 4, "冶金": 2.5, "机械": 2, "羊绒制品": 1, "电力": 0.8},
    "150300": {"煤炭": 2.5, "化工": 3, "建材": 1.5, "冶金": 1},
    "150400": {"农牧业": 1.5, "冶金": 1, "煤炭": 0.5, "粮油": 1.5, "酒业": 1},
    "150500": {"农牧业": 2, "肉业": 1.5, "粮油": 2, "煤炭": 0.5, "电力": 0.8},
    "150600": {"煤炭": 4, "羊绒制品": 2, "化工": 2, "电力": 2},
    "150700": {"乳业": 2, "农牧业": 2, "肉业": 1.5, "煤炭": 0.5},
    "150800": {"食品": 1.5, "粮油": 2.5, "农牧业": 1.5, "酒业": 0.8},
    "150900": {"食品": 2, "物流": 1.5, "冶金": 1.2, "电力": 0.8},
    "152200": {"粮油": 2, "农牧业": 2, "酒业": 0.8},
    "152500": {"肉业": 2.5, "农牧业": 2.5, "煤炭": 1.2, "乳业": 1.5, "酒业": 0.5},
    "152900": {"化工": 2, "羊绒制品": 1.5, "农牧业": 1.5},
}
#: Farming and herding companies are registered in the banners and counties, not in the
#: city districts: their weight there is multiplied by this.
DISTRICT_FARMING_FACTOR = 0.25
ROADS = (
    "建设路", "团结大街", "民族街", "新华大街", "文化路", "友谊大街", "人民路", "解放路", "工业路",
    "胜利路", "光明路", "和平路", "迎宾路", "振兴路", "滨河路", "幸福路", "育才路", "公园路",
    "草原路", "科技路", "兴安路", "北京路", "园区纬三路", "开发区创业路", "物流园区经二路",
)  # fmt: skip
#: Telephone area codes of the 盟市 (长途区号), for plausible landline numbers.
AREA_CODES: dict[str, str] = {
    "150100": "0471", "150200": "0472", "150300": "0473", "150400": "0476",
    "150500": "0475", "150600": "0477", "150700": "0470", "150800": "0478",
    "150900": "0474", "152200": "0482", "152500": "0479", "152900": "0483",
}  # fmt: skip

#: Rough weight of each county in the number of enterprises — an invented mix of
#: population and economy (city districts heavy, pastoral banners light). Default 1.
COUNTY_WEIGHTS: dict[str, float] = {
    # 呼和浩特
    "150102": 7, "150103": 5, "150104": 4, "150105": 8, "150121": 3, "150122": 1.5,
    "150123": 1.5, "150124": 0.8,
    # 包头
    "150202": 6, "150203": 8, "150204": 6, "150205": 0.5, "150206": 0.3, "150207": 5,
    "150221": 2.5, "150223": 0.8,
    # 乌海
    "150302": 3, "150304": 1.5,
    # 赤峰
    "150402": 6, "150403": 2.5, "150404": 5, "150421": 2, "150422": 2.5, "150423": 1.5,
    "150424": 1.5, "150425": 1.8, "150426": 3, "150428": 2.5, "150429": 4, "150430": 4,
    # 通辽
    "150502": 6, "150521": 3, "150522": 2.5, "150523": 2.5, "150524": 1.2, "150525": 2.8,
    "150526": 2.2, "150581": 2,
    # 鄂尔多斯
    "150602": 7, "150603": 2.5, "150621": 3.5, "150622": 4, "150623": 0.8, "150624": 1.5,
    "150625": 1.2, "150626": 1.5, "150627": 2.5,
    # 呼伦贝尔
    "150702": 4, "150721": 2.2, "150722": 2.2, "150723": 1.8, "150724": 1.2, "150725": 0.6,
    "150726": 0.4, "150727": 0.4, "150781": 2, "150782": 2.5, "150783": 3, "150784": 0.7,
    "150785": 0.8,
    # 巴彦淖尔
    "150802": 5, "150821": 2.3, "150823": 2.5, "150824": 1.2, "150825": 0.6, "150826": 2.5,
    # 乌兰察布
    "150902": 4, "150921": 1.2, "150923": 1.3, "150925": 1.2, "150926": 1.6, "150927": 0.9,
    "150928": 0.8, "150981": 2.4,
    # 兴安盟
    "152201": 3.5, "152202": 0.5, "152221": 2.5, "152222": 2, "152223": 2.8, "152224": 2.3,
    # 锡林郭勒盟
    "152502": 3.5, "152522": 0.4, "152523": 0.4, "152524": 0.7, "152525": 0.9, "152526": 0.8,
    "152528": 0.3, "152529": 0.6, "152530": 0.8, "152531": 0.9,
    # 阿拉善盟
    "152921": 2.5, "152922": 0.3, "152923": 0.4,
}  # fmt: skip

# --- Named organisations (from the seed documents) -------------------------------------------

#: Enterprises named in the seed documents: (name, county, industry). 乌海市妇幼保健医院 is
#: named there too but is a public hospital, not an enterprise, so it is left out.
NAMED_ENTERPRISES: tuple[tuple[str, str, str], ...] = (
    ("内蒙古鹿王羊绒有限公司", "150207", "毛纺织及羊绒制品加工"),
    ("包头东宝生物技术股份有限公司", "150207", "生物制品制造（明胶）"),
    ("包头天和磁材科技股份有限公司", "150203", "稀土永磁材料制造"),
    ("包头市三隆稀有金属材料有限责任公司", "150203", "稀有金属材料制造"),
    ("内蒙古太仆寺旗草原酿酒有限责任公司", "152527", "酒的制造"),
    ("丰镇市海鹏食品股份有限公司", "150981", "食品制造业"),
    ("内蒙古恒欣利和物业服务有限公司", "150204", "物业管理"),
    ("内蒙古北方重型汽车股份有限公司", "150204", "汽车制造业（矿用车）"),
    ("包头金山磁材有限公司", "150202", "稀土永磁材料制造"),
    ("蒙草生态环境股份有限公司", "150105", "生态保护和环境治理业"),
    ("内蒙古赛诺种羊科技有限公司", "150121", "畜牧业（种羊繁育）"),
    ("内蒙古稀奥科镍氢动力电池有限公司", "150207", "电池制造"),
    ("内蒙古伊利实业集团股份有限公司", "150105", "乳制品制造"),
)

#: Technical institutions: (name, county, disciplines, area of their legal authorisation).
NAMED_INSTITUTIONS: tuple[tuple[str, str, tuple[str, ...], str], ...] = (
    ("内蒙古自治区纤维检验局", "150102", (Discipline.TESTING,), REGION_CODE),
    ("内蒙古自治区标准化院", "150105", (Discipline.STANDARDISATION,), REGION_CODE),
    (
        "内蒙古自治区稀土产品质量监督研究院",
        "150207",
        (Discipline.TESTING, Discipline.CERTIFICATION),
        REGION_CODE,
    ),
    ("内蒙古自治区药品检验研究院", "150102", (Discipline.TESTING,), REGION_CODE),
    ("内蒙古自治区食品检验检测中心", "150105", (Discipline.TESTING,), REGION_CODE),
    (
        "内蒙古自治区产品质量检验研究院",
        "150105",
        (Discipline.TESTING, Discipline.CERTIFICATION),
        REGION_CODE,
    ),
    ("包头市质量技术监督检验测试所", "150203", (Discipline.METROLOGY, Discipline.TESTING), "150200"),
    ("内蒙古自治区计量测试研究院", "150102", (Discipline.METROLOGY,), REGION_CODE),
)
#: The county where each 盟市's government, regulator and metrology institute sit.
PREFECTURE_SEATS: dict[str, str] = {
    "150100": "150105", "150200": "150203", "150300": "150302", "150400": "150402",
    "150500": "150502", "150600": "150602", "150700": "150702", "150800": "150802",
    "150900": "150902", "152200": "152201", "152500": "152502", "152900": "152921",
}  # fmt: skip
#: 盟市 that get a legal metrology verification institute of their own. Baotou has the
#: 包头市质量技术监督检验测试所 above (the "包头市质计所" that runs 包检道).
METROLOGY_PREFECTURES = tuple(code for code in PREFECTURE_SEATS if code != "150200")
SCOPE_BASIS = "授权证书（演示数据）"
METROLOGY_SUBJECT = "强制检定计量器具（按授权目录）"
TESTING_SUBJECT = "检验检测能力（以资质认定证书附表为准，演示数据）"

# --- Accounts ----------------------------------------------------------------------------

ACCOUNTS: tuple[AccountSpec, ...] = (
    AccountSpec(
        "sysadmin",
        "赵志刚",
        StaffRole.SYSTEM_ADMIN,
        sees="系统管理员：账号、组织机构和系统配置（管理后台），所有组织机构；看不到审计记录，不能授权",
    ),
    AccountSpec(
        "secadmin",
        "孙丽华",
        StaffRole.SECURITY_ADMIN,
        sees="安全管理员：安全策略、授予和收回角色、解锁账号；可查看组织机构和成员，不能修改组织机构和配置",
    ),
    AccountSpec("auditor", "高慧敏", StaffRole.AUDIT_ADMIN, sees="审计管理员：只读审计记录（含哈希链校验和导出）"),
    AccountSpec(
        "nmg_admin",
        "白晓东",
        memberships=((REGION_REGULATOR, MembershipRole.CLERK),),
        sees="自治区局：全区所有组织机构和注册申请（只看不审，审核归旗县区局）",
    ),
    AccountSpec(
        "baotou_reg",
        "刘海燕",
        memberships=(("包头市市场监督管理局", MembershipRole.CLERK),),
        sees="包头市局：包头市 9 个旗县区的组织机构和注册申请",
    ),
    AccountSpec(
        "kundulun_reg",
        "郭建平",
        memberships=(("包头市昆都仑区市场监督管理局", MembershipRole.CLERK),),
        sees="昆都仑区局（旗县区审核人）：本区企业；3 件待审的企业注册申请、1 件已退回",
    ),
    AccountSpec(
        "qingshan_reg",
        "李娜",
        memberships=(("包头市青山区市场监督管理局", MembershipRole.CLERK),),
        sees="青山区局：本区企业；1 件已批准的注册申请（由其创建的企业）",
    ),
    AccountSpec(
        "hohhot_reg",
        "其其格",
        memberships=(("呼和浩特市市场监督管理局", MembershipRole.CLERK),),
        sees="呼和浩特市局：呼和浩特市 9 个旗县区的组织机构和注册申请",
    ),
    AccountSpec(
        "baotou_jiliang",
        "王东升",
        memberships=(("包头市质量技术监督检验测试所", MembershipRole.MANAGER),),
        sees="包头市质计所（包检道）负责人：本机构资料、成员和授权范围（计量、检验检测）",
    ),
    AccountSpec(
        "nmg_jiliang",
        "陈志远",
        memberships=(("内蒙古自治区计量测试研究院", MembershipRole.MANAGER),),
        sees="自治区计量院负责人：本机构资料、成员和授权范围（全区）",
    ),
    AccountSpec(
        "tianhe",
        "杨振华",
        memberships=(("包头天和磁材科技股份有限公司", MembershipRole.MANAGER),),
        sees="天和磁材负责人：本企业资料和成员，可修改企业资料",
    ),
    AccountSpec(
        "tianhe_clerk",
        "韩雪",
        memberships=(("包头天和磁材科技股份有限公司", MembershipRole.CLERK),),
        sees="天和磁材经办人：本企业资料（只办事，不改资料、不管成员）",
    ),
    AccountSpec(
        "luwang",
        "周丽萍",
        memberships=(("内蒙古鹿王羊绒有限公司", MembershipRole.MANAGER),),
        sees="鹿王羊绒负责人：本企业资料和成员",
    ),
    AccountSpec(
        "multi",
        "马俊峰",
        memberships=(
            ("包头东宝生物技术股份有限公司", MembershipRole.CLERK),
            ("包头金山磁材有限公司", MembershipRole.CLERK),
        ),
        sees="两家企业（东宝生物、金山磁材）的经办人：用页眉的单位下拉框切换当前代表的单位",
    ),
    AccountSpec("applicant", "吴晓明", sees="未加入任何单位：1 件待审的企业注册申请，可再申请注册企业"),
    AccountSpec("applicant2", "郝瑞", sees="未加入任何单位：1 件待审、1 件被退回（可修改后重新提交）的注册申请"),
    AccountSpec("applicant3", "包斯琴", sees="未加入任何单位：1 件待审的企业注册申请"),
    AccountSpec("newco", "贾宏伟", sees="注册申请已获青山区局批准，成为新企业的负责人（演示注册流程的结果）"),
)
STAFF_ROLE_LABELS: dict[str, str] = {
    StaffRole.SYSTEM_ADMIN: "系统管理员",
    StaffRole.SECURITY_ADMIN: "安全管理员",
    StaffRole.AUDIT_ADMIN: "审计管理员",
}
MEMBERSHIP_ROLE_LABELS: dict[str, str] = {
    MembershipRole.MANAGER: "负责人",
    MembershipRole.CLERK: "经办人",
    MembershipRole.VIEWER: "查看",
}
RETURN_REASON = "法定代表人姓名与营业执照登记信息不一致，联系电话无法接通，请核对后重新提交。"


def totp_key_hex(username: str) -> str:
    """The published demo TOTP key of a staff account (hex, as TOTPDevice stores it).

    Derived from the username so every installation has the same keys and the README can
    print them: demo accounts are for trying the product, never for real data.
    """
    return hashlib.sha1(username.encode("utf-8")).digest()[:20].hex()


def totp_base32(username: str) -> str:
    """The same key in base32, the form authenticator apps accept when typed in."""
    return base64.b32encode(bytes.fromhex(totp_key_hex(username))).decode("ascii")


# --- Pure planning ------------------------------------------------------------------------


def regulator_name(county: County) -> str:
    """旗县区局 name as the bureaus call themselves: a city district carries its city's name
    (包头市昆都仑区市场监督管理局); a banner, county or county-level city stands alone
    (太仆寺旗市场监督管理局, 满洲里市市场监督管理局)."""
    if county.name.endswith("区"):
        return county.prefecture_name + county.name + "市场监督管理局"
    return county.name + "市场监督管理局"


def allocate(counties: Sequence[County], total: int, minimum: int = MIN_PER_COUNTY) -> dict[str, int]:
    """Share ``total`` enterprises over the counties: ``minimum`` each, the rest by weight.

    Largest-remainder rounding with ties broken by code, so the sum is exact and the result
    is the same everywhere.
    """
    base = {c.code: minimum for c in counties}
    rest = total - minimum * len(counties)
    if rest <= 0:
        return base
    weights = {c.code: COUNTY_WEIGHTS.get(c.code, 1.0) for c in counties}
    weight_sum = sum(weights.values())
    shares = {code: rest * w / weight_sum for code, w in weights.items()}
    for code, share in shares.items():
        base[code] += int(share)
    left = total - sum(base.values())
    by_remainder = sorted(shares, key=lambda code: (-(shares[code] - int(shares[code])), code))
    for code in by_remainder[:left]:
        base[code] += 1
    return base


class _Planner:
    """The random choices of one plan, drawn from one ``random.Random`` in a fixed order."""

    def __init__(self, divisions: Divisions, seed: int) -> None:
        self.divisions = divisions
        self.rng = random.Random(seed)
        self.names: set[str] = set()
        self.bodies: list[str] = []
        self.serial = 0

    # people and numbers
    def person(self) -> str:
        if self.rng.random() < 0.08:
            return self.rng.choice(MONGOLIAN_NAMES)
        surname = self.rng.choice(SURNAMES_WEIGHTED)
        if self.rng.random() < 0.35:
            return surname + self.rng.choice(GIVEN_SINGLE)
        return surname + self.rng.choice(GIVEN_NAMES)

    def phone(self, prefecture_code: str) -> str:
        return f"{AREA_CODES.get(prefecture_code, '0471')}-{self.rng.randint(2, 8)}{self.rng.randrange(10**6):06d}"

    def address(self, county: County) -> str:
        return f"{county.place}{self.rng.choice(ROADS)}{self.rng.randint(1, 399)}号"

    def body(self) -> str:
        """A fresh 9-character organisation code (GB 11714) for the next credit code.

        The seed digits come from one sample drawn up front, so no two bodies are equal and
        none falls in the ranges the test factories use (1xxxxxxx, 2xxxxxxx).
        """
        self.serial += 1
        return make_organisation_code(self.bodies[self.serial - 1])

    def reserve_bodies(self, count: int) -> None:
        self.bodies = [f"{n:08d}" for n in self.rng.sample(range(30_000_000, 100_000_000), count)]

    def contact(self, prefecture_code: str, email_id: str) -> ContactSpec:
        return ContactSpec(
            name=self.person(),
            title=self.rng.choice(CONTACT_TITLES),
            phone=self.phone(prefecture_code),
            email=f"{email_id}@example.com",
        )

    # enterprises
    def enterprise(self, county: County, name: str, industry: str, email_id: str) -> OrgSpec:
        return OrgSpec(
            kind=OrganizationKind.ENTERPRISE,
            name=name,
            division=county.code,
            credit_code=make_credit_code(authority="9", category="1", division=county.code, body=self.body()),
            address=self.address(county),
            legal_representative=self.person(),
            industry=industry,
            phone=self.phone(county.prefecture_code),
            contact=self.contact(county.prefecture_code, email_id),
        )

    def enterprise_name(self, county: County) -> tuple[str, str]:
        """A new unique "<行政区划><字号><行业>有限公司" name and its industry."""
        local = LOCAL_INDUSTRY_WEIGHTS.get(county.prefecture_code, {})
        weights = []
        for word, _label, weight in INDUSTRIES:
            weight = local.get(word, weight)
            if county.is_district and word in ("农牧业", "肉业", "粮油"):
                weight *= DISTRICT_FARMING_FACTOR
            weights.append(weight)
        trades = TRADE_WORDS + LOCAL_TRADE_WORDS.get(county.prefecture_code, ())
        for attempt in range(40):
            word, label, _weight = INDUSTRIES[self.rng.choices(range(len(INDUSTRIES)), weights=weights)[0]]
            roll = self.rng.random()
            if roll < 0.5:
                prefix = county.prefecture_name
            elif roll < 0.75:
                prefix = county.name_prefix
            else:
                prefix = "内蒙古"
            trade = self.rng.choice(trades)
            if attempt >= 20:
                # Crowded: lengthen the trade name instead of numbering companies.
                trade += self.rng.choice("兴盛源达丰通泰")
            form = "有限责任公司" if self.rng.random() < 0.12 else "有限公司"
            name = f"{prefix}{trade}{word}{form}"
            if name not in self.names:
                self.names.add(name)
                return name, label
        raise RuntimeError("could not find a free enterprise name")  # pragma: no cover


def _county_map(divisions: Divisions) -> dict[str, County]:
    return {c.code: c for c in divisions.counties}


def plan_demo(divisions: Divisions, seed: int = SEED, generated: int = GENERATED_ENTERPRISES) -> DemoPlan:
    """Everything the demo creates, decided without touching the database or the clock.

    Same ``divisions`` and ``seed`` → the same plan, on any machine: this is what the
    determinism test calls twice.
    """
    planner = _Planner(divisions, seed)
    counties = _county_map(divisions)
    prefectures = dict(divisions.prefectures)
    applications_count = 5
    planner.reserve_bodies(len(NAMED_ENTERPRISES) + generated + applications_count)

    # Regulators: 自治区局, 盟市局, 旗县区局, with credit codes of 机关 (authority 1,
    # category 1). Each sits in its own county, a 盟市局 in the 盟市's seat.
    def regulator(name: str, division: str, body_seed: str, seat: County) -> OrgSpec:
        return OrgSpec(
            kind=OrganizationKind.REGULATOR,
            name=name,
            division=division,
            credit_code=make_credit_code(
                authority="1", category="1", division=division, body=make_organisation_code(body_seed)
            ),
            address=planner.address(seat),
            phone=planner.phone(seat.prefecture_code),
        )

    regulators = [regulator(REGION_REGULATOR, REGION_CODE, "01150000", counties["150102"])]
    for index, (code, name) in enumerate(divisions.prefectures, start=1):
        regulators.append(
            regulator(name + "市场监督管理局", code, f"0115{index:04d}", counties[PREFECTURE_SEATS[code]])
        )
    for index, county in enumerate(divisions.counties, start=1):
        regulators.append(regulator(regulator_name(county), county.code, f"0116{index:04d}", county))

    # Technical institutions (事业单位: authority 1, category 2).
    institution_rows = list(NAMED_INSTITUTIONS)
    for prefecture_code in METROLOGY_PREFECTURES:
        institution_rows.append(
            (
                prefectures[prefecture_code] + "计量检定测试所",
                PREFECTURE_SEATS[prefecture_code],
                (Discipline.METROLOGY,),
                prefecture_code,
            )
        )
    institutions = []
    for index, (name, county_code, disciplines, area) in enumerate(institution_rows, start=1):
        county = counties[county_code]
        scopes: list[ScopeSpec] = []
        if Discipline.METROLOGY in disciplines:
            scopes.append(ScopeSpec(Discipline.METROLOGY, METROLOGY_SUBJECT, SCOPE_BASIS, (area,)))
        if Discipline.TESTING in disciplines:
            scopes.append(ScopeSpec(Discipline.TESTING, TESTING_SUBJECT, "CMA 资质认定证书（演示数据）", (area,)))
        needs_cma = Discipline.METROLOGY in disciplines or Discipline.TESTING in disciplines
        # 12 digits shaped like a CMA number: year, 05 (Inner Mongolia), 99 marks demo data.
        cma = f"{planner.rng.randint(19, 24)}0599{planner.rng.randrange(10**6):06d}" if needs_cma else ""
        institutions.append(
            OrgSpec(
                kind=OrganizationKind.INSTITUTION,
                name=name,
                division=county_code,
                credit_code=make_credit_code(
                    authority="1", category="2", division=county_code, body=make_organisation_code(f"0125{index:04d}")
                ),
                address=planner.address(county),
                legal_representative=planner.person(),
                industry="专业技术服务业",
                phone=planner.phone(county.prefecture_code),
                cma_number=cma,
                disciplines=tuple(disciplines),
                scopes=tuple(scopes),
                contact=planner.contact(county.prefecture_code, f"jg{index:03d}"),
            )
        )

    # Enterprises named in the seed documents, then the generated ones county by county.
    named = []
    for index, (name, county_code, industry) in enumerate(NAMED_ENTERPRISES, start=1):
        planner.names.add(name)
        named.append(planner.enterprise(counties[county_code], name, industry, f"qy{index:04d}"))
    generated_specs = []
    allocation = allocate(divisions.counties, generated)
    serial = len(named)
    for county in divisions.counties:
        for _ in range(allocation[county.code]):
            serial += 1
            name, industry = planner.enterprise_name(county)
            generated_specs.append(planner.enterprise(county, name, industry, f"qy{serial:04d}"))

    # Registration applications, made later through the services.
    applications = []
    plans = (
        ("applicant", "submitted", "kundulun_reg", "150203"),
        ("applicant2", "submitted", "kundulun_reg", "150203"),
        ("applicant3", "submitted", "kundulun_reg", "150203"),
        ("applicant2", "returned", "kundulun_reg", "150203"),
        ("newco", "approved", "qingshan_reg", "150204"),
    )
    for applicant, outcome, reviewer, county_code in plans:
        serial += 1
        spec = planner.enterprise(
            counties[county_code], *planner.enterprise_name(counties[county_code]), f"qy{serial:04d}"
        )
        assert spec.contact is not None
        applications.append(
            ApplicationSpec(
                applicant=applicant,
                outcome=outcome,
                reviewer=reviewer,
                reason=RETURN_REASON if outcome == "returned" else "",
                data={
                    "credit_code": spec.credit_code,
                    "name": spec.name,
                    "division": county_code,
                    "address": spec.address,
                    "legal_representative": spec.legal_representative,
                    "industry": spec.industry,
                    "contact_name": spec.contact.name,
                    "contact_phone": spec.contact.phone,
                    "contact_email": spec.contact.email,
                },
            )
        )
    return DemoPlan(
        regulators=regulators,
        institutions=institutions,
        named_enterprises=named,
        generated_enterprises=generated_specs,
        applications=applications,
    )


# --- Writing ------------------------------------------------------------------------------


def load_divisions() -> Divisions:
    """The current divisions of Inner Mongolia, as the planner needs them."""
    rows = AdminDivision.objects.filter(is_current=True, code__startswith="15").order_by("code")
    province = next((d for d in rows if d.level == AdminDivision.Level.PROVINCE), None)
    if province is None:
        raise LookupError("division 150000 is not loaded; run manage.py migrate first")
    prefectures = [(d.code, d.name) for d in rows if d.level == AdminDivision.Level.PREFECTURE]
    names = dict(prefectures)
    counties = tuple(
        County(d.code, d.name, d.parent_id, names[d.parent_id])
        for d in rows
        if d.level == AdminDivision.Level.COUNTY and d.parent_id in names
    )
    return Divisions(province_name=province.name, prefectures=tuple(prefectures), counties=counties)


def demo_exists() -> str:
    """Why the demo must not be built here, or "" when it may.

    The marker is the audit record of an earlier seeding (it commits with the data); a
    regional bureau made by other means also stops us, because the demo would duplicate it.
    """
    if AuditEvent.objects.filter(action=AUDIT_ACTION, outcome=Outcome.SUCCESS).exists():
        return "The demo data has already been loaded into this database; nothing to do."
    if Organization.objects.filter(kind=OrganizationKind.REGULATOR, division_id=REGION_CODE).exists():
        return (
            "This database already has a regional market-regulation bureau, so it is not empty; "
            "seed_demo only fills a fresh database. Nothing was changed."
        )
    User = get_user_model()
    taken = sorted(User.objects.filter(username__in=[a.username for a in ACCOUNTS]).values_list("username", flat=True))
    if taken:
        return "These demo accounts already exist: " + ", ".join(taken) + ". Nothing was changed."
    return ""


def _organizations_from(specs: Sequence[OrgSpec]) -> list[Organization]:
    return [
        Organization(
            kind=s.kind,
            name=s.name,
            credit_code=s.credit_code,
            division_id=s.division,
            address=s.address,
            legal_representative=s.legal_representative,
            industry=s.industry,
            phone=s.phone,
            cma_number=s.cma_number,
        )
        for s in specs
    ]


def _write_organizations(plan: DemoPlan) -> dict[str, Organization]:
    """Bulk-create organisations, disciplines, scopes and contacts; return them by name.

    Bulk inserts rather than services: they are the starting state of the demo, not
    anyone's action, and 2,500 service calls with an audit record each would take minutes.
    """
    specs = plan.regulators + plan.institutions + plan.enterprises
    created = Organization.objects.bulk_create(_organizations_from(specs), batch_size=500)
    by_name = {org.name: org for org in created}
    pairs = list(zip(specs, created, strict=True))
    InstitutionDiscipline.objects.bulk_create(
        [InstitutionDiscipline(organization=org, discipline=d) for spec, org in pairs for d in spec.disciplines]
    )
    OrganizationContact.objects.bulk_create(
        [
            OrganizationContact(
                organization=org,
                name=spec.contact.name,
                title=spec.contact.title,
                phone=spec.contact.phone,
                email=spec.contact.email,
                is_primary=True,
            )
            for spec, org in pairs
            if spec.contact is not None
        ],
        batch_size=500,
    )
    scope_specs = [(org, scope) for spec, org in pairs for scope in spec.scopes]
    scopes = AuthorisationScope.objects.bulk_create(
        [
            AuthorisationScope(organization=org, discipline=s.discipline, subject_name=s.subject_name, basis=s.basis)
            for org, s in scope_specs
        ]
    )
    Area = AuthorisationScope.areas.through
    Area.objects.bulk_create(
        [
            Area(authorisationscope_id=scope.pk, admindivision_id=code)
            for scope, (_org, spec) in zip(scopes, scope_specs, strict=True)
            for code in spec.areas
        ]
    )
    return by_name


def _write_accounts(organizations: dict[str, Organization]) -> dict[str, object]:
    """Create the demo accounts, their memberships and the staff's confirmed TOTP devices."""
    from django_otp.plugins.otp_totp.models import TOTPDevice

    User = get_user_model()
    # One PBKDF2 hash for all: the password is published anyway, and hashing it 18 times
    # would take most of the command's time.
    password_hash = make_password(DEMO_PASSWORD)
    now = timezone.now()
    users: dict[str, object] = {}
    for spec in ACCOUNTS:
        user = User(
            username=spec.username,
            display_name=spec.display_name,
            email=f"{spec.username}@example.com",
            staff_role=spec.staff_role,
        )
        validate_password(DEMO_PASSWORD, user)
        user.password = password_hash
        user.password_changed_at = now
        user.save()
        users[spec.username] = user
        for position, (org_name, role) in enumerate(spec.memberships):
            Membership.objects.create(
                user=user, organization=organizations[org_name], role=role, is_default=position == 0
            )
        if spec.staff_role:
            TOTPDevice.objects.create(user=user, name="演示验证器", key=totp_key_hex(spec.username), confirmed=True)
    return users


def _write_applications(plan: DemoPlan, users: dict[str, object]) -> list[EnterpriseRegistration]:
    """Apply, return and approve through the services, so the reviewers' queue and the audit
    trail look exactly as after real use."""
    from .services import registration_approve, registration_return, registration_submit

    done = []
    for app in plan.applications:
        registration = registration_submit(actor=users[app.applicant], data=dict(app.data))
        if app.outcome == "returned":
            registration = registration_return(actor=users[app.reviewer], registration=registration, reason=app.reason)
        elif app.outcome == "approved":
            registration = registration_approve(actor=users[app.reviewer], registration=registration)
        done.append(registration)
    return done


def count_demo() -> dict[str, int]:
    """What the database holds now, for the summary and the idempotence test."""
    regulators = Organization.objects.filter(kind=OrganizationKind.REGULATOR)
    return {
        "regulators (自治区)": regulators.filter(division__level=AdminDivision.Level.PROVINCE).count(),
        "regulators (盟市)": regulators.filter(division__level=AdminDivision.Level.PREFECTURE).count(),
        "regulators (旗县区)": regulators.filter(division__level=AdminDivision.Level.COUNTY).count(),
        "institutions": Organization.objects.filter(kind=OrganizationKind.INSTITUTION).count(),
        "enterprises": Organization.objects.filter(kind=OrganizationKind.ENTERPRISE).count(),
        "contacts": OrganizationContact.objects.count(),
        "authorisation scopes": AuthorisationScope.objects.count(),
        "accounts": get_user_model().objects.count(),
        "memberships": Membership.objects.count(),
        "registrations (submitted)": EnterpriseRegistration.objects.filter(state="submitted").count(),
        "registrations (returned)": EnterpriseRegistration.objects.filter(state="returned").count(),
        "registrations (approved)": EnterpriseRegistration.objects.filter(state="approved").count(),
    }


def build_demo(seed: int = SEED) -> SeedResult:
    """Build the demo in one transaction, or explain why not (and change nothing)."""
    started = time.perf_counter()
    reason = demo_exists()
    if reason:
        return SeedResult(created=False, message=reason, counts=count_demo())
    plan = plan_demo(load_divisions(), seed)
    with transaction.atomic():
        organizations = _write_organizations(plan)
        users = _write_accounts(organizations)
        registrations = _write_applications(plan, users)
        counts = count_demo()
        seconds = time.perf_counter() - started
        audit_record(
            action=AUDIT_ACTION,
            details={
                "seed": seed,
                "counts": counts,
                "registrations": [r.number for r in registrations],
                "seconds": round(seconds, 2),
            },
        )
    return SeedResult(created=True, seconds=time.perf_counter() - started, counts=counts)


def accounts_markdown() -> str:
    """The demo accounts as a Markdown table (for the README and the command's output)."""
    lines = [
        "| 账号 | 姓名 | 角色 / 单位 | 密码 | TOTP 密钥（base32） | 能看到、能做什么 |",
        "|---|---|---|---|---|---|",
    ]
    for spec in ACCOUNTS:
        if spec.staff_role:
            role = STAFF_ROLE_LABELS[spec.staff_role]
            key = f"`{totp_base32(spec.username)}`"
        else:
            role = "；".join(f"{org}（{MEMBERSHIP_ROLE_LABELS[r]}）" for org, r in spec.memberships) or "无单位"
            if spec.username == "newco":
                role = "青山区新批准企业（负责人）"
            key = "—"
        lines.append(f"| `{spec.username}` | {spec.display_name} | {role} | `{DEMO_PASSWORD}` | {key} | {spec.sees} |")
    return "\n".join(lines) + "\n"
