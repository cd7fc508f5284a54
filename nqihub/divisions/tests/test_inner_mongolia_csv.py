"""The committed Inner Mongolia CSV against FACTS 2.2 (no database needed)."""

from __future__ import annotations

import re
from collections import Counter

import pytest

from nqihub.divisions.loaders import (
    CURRENT_SOURCE,
    INNER_MONGOLIA_CSV,
    build_inner_mongolia_rows,
    read_csv,
    rows_from_stdnum,
    stdnum_source,
)

# FACTS 2.2, copied verbatim: the 12 盟市 and their current county-level divisions.
FACTS_2_2 = """
- **150100 呼和浩特市** (9): 150102 新城区、150103 回民区、150104 玉泉区、150105 赛罕区、150121 土默特左旗、150122 托克托县、150123 和林格尔县、150124 清水河县、150125 武川县
- **150200 包头市** (9): 150202 东河区、150203 昆都仑区、150204 青山区、150205 石拐区、150206 白云鄂博矿区、150207 九原区、150221 土默特右旗、150222 固阳县、150223 达尔罕茂明安联合旗
- **150300 乌海市** (3): 150302 海勃湾区、150303 海南区、150304 乌达区
- **150400 赤峰市** (12): 150402 红山区、150403 元宝山区、150404 松山区、150421 阿鲁科尔沁旗、150422 巴林左旗、150423 巴林右旗、150424 林西县、150425 克什克腾旗、150426 翁牛特旗、150428 喀喇沁旗、150429 宁城县、150430 敖汉旗
- **150500 通辽市** (8): 150502 科尔沁区、150521 科尔沁左翼中旗、150522 科尔沁左翼后旗、150523 开鲁县、150524 库伦旗、150525 奈曼旗、150526 扎鲁特旗、150581 霍林郭勒市
- **150600 鄂尔多斯市** (9): 150602 东胜区、150603 康巴什区、150621 达拉特旗、150622 准格尔旗、150623 鄂托克前旗、150624 鄂托克旗、150625 杭锦旗、150626 乌审旗、150627 伊金霍洛旗
- **150700 呼伦贝尔市** (14): 150702 海拉尔区、150703 扎赉诺尔区、150721 阿荣旗、150722 莫力达瓦达斡尔族自治旗、150723 鄂伦春自治旗、150724 鄂温克族自治旗、150725 陈巴尔虎旗、150726 新巴尔虎左旗、150727 新巴尔虎右旗、150781 满洲里市、150782 牙克石市、150783 扎兰屯市、150784 额尔古纳市、150785 根河市
- **150800 巴彦淖尔市** (7): 150802 临河区、150821 五原县、150822 磴口县、150823 乌拉特前旗、150824 乌拉特中旗、150825 乌拉特后旗、150826 杭锦后旗
- **150900 乌兰察布市** (11): 150902 集宁区、150921 卓资县、150922 化德县、150923 商都县、150924 兴和县、150925 凉城县、150926 察哈尔右翼前旗、150927 察哈尔右翼中旗、150928 察哈尔右翼后旗、150929 四子王旗、150981 丰镇市
- **152200 兴安盟** (6): 152201 乌兰浩特市、152202 阿尔山市、152221 科尔沁右翼前旗、152222 科尔沁右翼中旗、152223 扎赉特旗、152224 突泉县
- **152500 锡林郭勒盟** (12): 152501 二连浩特市、152502 锡林浩特市、152522 阿巴嘎旗、152523 苏尼特左旗、152524 苏尼特右旗、152525 东乌珠穆沁旗、152526 西乌珠穆沁旗、152527 太仆寺旗、152528 镶黄旗、152529 正镶白旗、152530 正蓝旗、152531 多伦县
- **152900 阿拉善盟** (3): 152921 阿拉善左旗、152922 阿拉善右旗、152923 额济纳旗
"""


def facts_listing() -> tuple[dict[str, str], dict[str, tuple[str, str]]]:
    """(prefecture code → name, county code → (name, prefecture code))."""
    prefectures: dict[str, str] = {}
    counties: dict[str, tuple[str, str]] = {}
    for line in FACTS_2_2.strip().splitlines():
        match = re.match(r"- \*\*(\d{6}) (\S+)\*\* \((\d+)\): (.*)$", line)
        assert match, line
        code, name, count, rest = match.groups()
        prefectures[code] = name
        items = rest.split("、")
        assert len(items) == int(count)
        for item in items:
            county_code, county_name = item.split(" ")
            counties[county_code] = (county_name, code)
    return prefectures, counties


def county_type(name: str) -> str:
    """Classify by name suffix; 自治旗 must be tested before 旗."""
    for suffix in ("自治旗", "旗", "区", "市", "县"):
        if name.endswith(suffix):
            return suffix
    raise AssertionError(f"unclassifiable county name {name}")


@pytest.fixture(scope="module")
def rows():
    return read_csv(INNER_MONGOLIA_CSV)


def test_one_province_row(rows):
    provinces = [r for r in rows if r["level"] == "province"]
    assert provinces == [
        {
            "code": "150000",
            "name": "内蒙古自治区",
            "level": "province",
            "parent_code": None,
            "is_current": True,
            "valid_until": None,
            "source": CURRENT_SOURCE,
        }
    ]


def test_current_prefectures_and_counties_are_exactly_facts_2_2(rows):
    prefectures, counties = facts_listing()
    current_prefectures = {r["code"]: r["name"] for r in rows if r["level"] == "prefecture" and r["is_current"]}
    current_counties = {
        r["code"]: (r["name"], r["parent_code"]) for r in rows if r["level"] == "county" and r["is_current"]
    }
    assert len(current_prefectures) == 12
    assert len(current_counties) == 103
    assert current_prefectures == prefectures
    assert current_counties == counties
    assert all(r["parent_code"] == "150000" for r in rows if r["level"] == "prefecture")


def test_county_counts_by_type(rows):
    counts = Counter(county_type(r["name"]) for r in rows if r["level"] == "county" and r["is_current"])
    assert counts == {"区": 23, "市": 11, "县": 17, "旗": 49, "自治旗": 3}


def test_no_summary_codes(rows):
    codes = {r["code"] for r in rows}
    assert (
        not {
            "150101",
            "150201",
            "150301",
            "150401",
            "150501",
            "150601",
            "150701",
            "150801",
            "150901",
        }
        & codes
    )
    assert not any(r["name"] == "市辖区" for r in rows)


def test_historic_leagues(rows):
    by_code = {r["code"]: r for r in rows}
    expected = {"152100": ("呼伦贝尔盟", 2001), "152300": ("哲里木盟", 1999), "152600": ("乌兰察布盟", 2003),
                "152700": ("伊克昭盟", 2001), "152800": ("巴彦淖尔盟", 2003), "152400": ("昭乌达盟", 1983)}  # fmt: skip
    for code, (name, year) in expected.items():
        row = by_code[code]
        assert (row["name"], row["is_current"], row["valid_until"]) == (
            name,
            False,
            year,
        )
        assert row["level"] == "prefecture" and row["parent_code"] == "150000"
        assert row["source"] == stdnum_source(historic=True)


def test_historic_rows_are_consistent(rows):
    codes = {r["code"] for r in rows}
    for row in rows:
        assert row["code"].startswith("15")
        if row["is_current"]:
            assert row["valid_until"] is None and row["source"] == CURRENT_SOURCE
        else:
            assert row["valid_until"] and 1980 <= row["valid_until"] <= 2030
            assert "historic" in row["source"]
        if row["level"] == "county":
            # Parent is the prefecture named by the code prefix, else the province.
            prefecture = row["code"][:4] + "00"
            assert row["parent_code"] == (prefecture if prefecture in codes else "150000")
    assert {
        "152101",
        "152601",
        "152701",
        "152801",
    } <= codes  # 海拉尔市, 集宁市, 东胜市, 临河市
    assert len(codes) == len(rows)


def test_csv_is_reproducible_from_stdnum(rows):
    """The committed CSV is exactly what the generator gives with the installed python-stdnum.

    If this fails after upgrading python-stdnum, review the loc.dat changes and regenerate with
    ``nqihub.divisions.loaders.write_inner_mongolia_csv()``.
    """
    assert build_inner_mongolia_rows() == rows


def test_rows_from_stdnum_whole_country():
    rows = rows_from_stdnum()
    codes = [r["code"] for r in rows]
    assert len(codes) == len(set(codes))
    provinces = {r["code"] for r in rows if r["level"] == "province"}
    assert len(provinces) == 34
    by_code = {r["code"]: r for r in rows}
    # Parents always come first and exist.
    seen: set[str] = set()
    for row in rows:
        assert row["parent_code"] is None or row["parent_code"] in seen
        seen.add(row["code"])
    # 省直辖县级市: 429000 is a summary code, so 仙桃市 hangs directly under 湖北省.
    assert "429000" not in by_code
    assert by_code["429004"]["parent_code"] == "420000"
    # Renamed code keeps its current name; municipalities' 市辖区/县 summaries are skipped.
    assert by_code["150105"]["name"] == "赛罕区"
    assert "110100" not in by_code and by_code["110101"]["parent_code"] == "110000"
    assert by_code["810000"]["name"] == "香港特别行政区"
    # Inner Mongolia is the same set of codes as the CSV.
    im = {r["code"]: r for r in rows if r["code"].startswith("15")}
    assert im.keys() == {r["code"] for r in read_csv(INNER_MONGOLIA_CSV)}
