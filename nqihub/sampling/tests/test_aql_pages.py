"""GB/T 2828.1 sampling plans through the page, the API and the console: staff only (regulators,
technical institutions, the system administrator), signed-out and other callers refused, bad
input refused with the fields named in the reader's language, the tables' verification state
shown with every plan, and the switching rules changed only by the system administrator."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from nqihub.audit.models import AuditEvent
from nqihub.core.errors import Forbidden, InvalidInput
from nqihub.sampling import aql
from nqihub.sampling.models import SwitchingRules
from nqihub.sampling.services.aql import current_switching_rules, switching_rules_update

pytestmark = pytest.mark.django_db

URL = "/sampling/aql/"
API = "/api/v1/aql-plans/"
STAFF = ["region", "kundulun", "kundulun_viewer", "inst", "sysadmin"]
OTHERS = ["ent_manager", "ent_other", "applicant", "secadmin", "auditor"]


def test_the_urls():
    assert reverse("sampling:aql") == URL


# --------------------------------------------------------------------------- page


def test_signed_out_visitors_are_sent_to_sign_in(client):
    response = client.get(URL, {"lot_size": "1000", "aql": "2.5"})
    assert response.status_code == 302 and "/accounts/" in response["Location"]


@pytest.mark.parametrize("who", OTHERS)
def test_the_page_refuses_everyone_but_staff(world, web, who):
    assert web(world.users[who]).get(URL, {"lot_size": "1000", "aql": "2.5"}).status_code == 403


@pytest.mark.parametrize("who", STAFF)
def test_staff_get_the_plan_in_chinese(world, web, who):
    page = web(world.users[who]).get(URL, {"lot_size": "1000", "level": "II", "aql": "2.5", "severity": "normal"})
    assert page.status_code == 200
    html = page.content.decode()
    assert 'data-testid="code-letter">J<' in html
    assert 'data-testid="n">80<' in html
    assert 'data-testid="ac">5<' in html and 'data-testid="re">6<' in html
    assert "抽样方案" in html and "样本量" in html  # Chinese by default
    assert "多个来源印证" in html  # Table 2-A: corroborated, shown with the plan


def test_the_page_shows_the_plan_used_the_100_percent_note_and_the_doubt(world, web):
    html = web(world.users["kundulun"]).get(URL, {"lot_size": "5", "level": "II", "aql": "10"}).content.decode()
    assert 'data-testid="code-letter">A<' in html and 'data-testid="used-letter">C' in html
    assert 'data-testid="n">5<' in html and 'data-testid="inspect">5' in html
    assert 'data-testid="doubts"' in html and "A/10" in html
    assert 'data-testid="notes"' in html


def test_the_page_without_input_shows_the_empty_form_and_the_rules(world, web):
    html = web(world.users["inst"]).get(URL).content.decode()
    assert 'data-testid="plan-form"' in html and 'data-testid="plan"' not in html
    assert 'data-testid="switching-rules"' in html and "evidence-unverified" in html
    assert "转移得分" in html  # the rules as written, from the data migration


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"lot_size": "一千", "aql": "2.5"}, "lot_size"),
        ({"lot_size": "1", "aql": "2.5"}, "lot_size"),
        ({"lot_size": "", "aql": "2.5"}, "lot_size"),
        ({"lot_size": "1000", "aql": "3.0"}, "aql"),
        ({"lot_size": "1000", "aql": "2.5", "level": "IV"}, "level"),
        ({"lot_size": "1000", "aql": "2.5", "severity": "lenient"}, "severity"),
    ],
)
def test_the_page_refuses_bad_input_on_its_field(world, web, params, field):
    page = web(world.users["kundulun"]).get(URL, params)
    assert page.status_code == 400
    html = page.content.decode()
    assert f'data-field="{field}"' in html and 'data-testid="plan"' not in html
    assert html.count('<ul class="errorlist"') == 1  # the service's message, once


TABLES = "/sampling/aql/tables/"


def test_the_tables_page_is_for_staff_only(world, web, client):
    assert client.get(TABLES).status_code == 302
    assert web(world.users["ent_manager"]).get(TABLES).status_code == 403
    assert web(world.users["kundulun"]).get(TABLES).status_code == 200


@pytest.mark.parametrize("severity", aql.SEVERITIES)
def test_the_tables_page_shows_each_table_with_its_doubtful_cells(world, web, severity):
    html = web(world.users["inst"]).get(TABLES, {"severity": severity}).content.decode()
    table = aql.TABLES[severity]
    assert html.count('data-testid="doubtful"') == len(table.doubts) > 0
    letters = re.findall(r"<tr><th>([A-Z])</th><td>(\d+)</td>", html)  # one row per code letter
    assert letters == [(letter, str(n)) for letter, n in table.sizes.items()]
    assert ("<tr><th>S</th><td>3150</td>" in html) is (severity == aql.TIGHTENED)
    assert str(table.title) in html and f"表 {table.key}" in html
    assert html.count('<tr><td class="nowrap">') == 15  # Table 1


def test_the_tables_page_falls_back_to_normal_for_an_unknown_severity(world, web):
    html = web(world.users["inst"]).get(TABLES, {"severity": "<b>"}).content.decode()
    assert "表 2-A：正常检验一次抽样方案" in html
    assert html.count('data-testid="doubtful"') == 2


# --------------------------------------------------------------------------- API


def test_the_api_refuses_signed_out_callers(client):
    response = client.get(API, {"lot_size": "1000", "aql": "2.5"})
    assert response.status_code == 401 and response.json()["code"] == "not_authenticated"


@pytest.mark.parametrize("who", OTHERS)
def test_the_api_refuses_everyone_but_staff(world, api, who):
    response = api(world.users[who]).get(API, {"lot_size": "1000", "aql": "2.5"})
    assert response.status_code == 403 and response.json()["code"] == "not_allowed"


@pytest.mark.parametrize("who", STAFF)
def test_the_api_answers_staff(world, api, who):
    response = api(world.users[who]).get(API, {"lot_size": "4000", "level": "II", "aql": "2.5"})
    assert response.status_code == 200
    body = response.json()
    assert {k: body[k] for k in ("code_letter", "used_letter", "n", "ac", "re", "full_inspection", "inspect")} == {
        "code_letter": "L",
        "used_letter": "L",
        "n": 200,
        "ac": 10,
        "re": 11,
        "full_inspection": False,
        "inspect": 200,
    }
    assert body["severity"] == "normal" and body["evidence"] == "corroborated" and body["doubts"] == []
    assert body["table"]["key"] == "2-A" and body["table_1"]["evidence"] == "corroborated"


def test_the_api_follows_the_arrows_and_reports_what_it_rests_on(world, api):
    c = api(world.users["inst"])
    body = c.get(API, {"lot_size": "20", "aql": "0.10"}).json()
    assert (body["code_letter"], body["used_letter"], body["n"], body["full_inspection"], body["inspect"]) == (
        "C",
        "K",
        125,
        True,
        20,
    )
    assert [note["code"] for note in body["notes"]] == ["arrow_down", "full_inspection"]
    body = c.get(API, {"lot_size": "600000", "level": "III", "aql": "0.025", "severity": "tightened"}).json()
    assert (body["used_letter"], body["n"], body["ac"], body["re"]) == ("S", 3150, 1, 2)
    assert body["evidence"] == "doubtful" and body["doubts"][0]["cell"] == "S/0.025"
    assert body["table"] == {
        "key": "2-B",
        "title": str(aql.TIGHTENED_TABLE.title),
        "evidence": "unverified",
        "source": str(aql.TIGHTENED_TABLE.source),
    }
    body = c.get(API, {"lot_size": "1000", "aql": "1.0", "severity": "reduced"}).json()
    assert (body["n"], body["ac"], body["re"], body["table"]["evidence"]) == (32, 1, 3, "unverified")


@pytest.mark.parametrize(
    ("params", "code", "fields"),
    [
        ({"aql": "2.5"}, "lot_size_invalid", {"lot_size"}),
        ({"lot_size": "12.5", "aql": "2.5"}, "lot_size_invalid", {"lot_size"}),
        ({"lot_size": "١٠٠٠", "aql": "2.5"}, "lot_size_invalid", {"lot_size"}),  # digits, but not ASCII
        ({"lot_size": "10000000000", "aql": "2.5"}, "lot_size_invalid", {"lot_size"}),
        ({"lot_size": "1000", "aql": "3"}, "aql_not_in_table", {"aql"}),
        ({"lot_size": "1000"}, "aql_not_in_table", {"aql"}),
        ({"lot_size": "1000", "aql": "sNaN"}, "aql_not_in_table", {"aql"}),
        ({"lot_size": "²", "aql": "2.5"}, "lot_size_invalid", {"lot_size"}),  # a digit to str.isdigit
        ({"lot_size": "1000", "aql": "2.5", "level": "II "}, None, set()),  # stripped, accepted
        ({"lot_size": "1000", "aql": "2.5", "level": "G-2"}, "inspection_level_unknown", {"level"}),
        ({"lot_size": "1000", "aql": "2.5", "severity": "x"}, "severity_unknown", {"severity"}),
        (
            {"lot_size": "0", "aql": "99", "level": "V", "severity": "x"},
            "lot_size_invalid",
            {"lot_size", "aql", "level", "severity"},
        ),
    ],
)
def test_the_api_refuses_bad_input_with_the_fields_named(world, api, params, code, fields):
    response = api(world.users["kundulun"]).get(API, params)
    if code is None:
        assert response.status_code == 200
        return
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == code and set(body["errors"]) == fields and body["detail"]


def test_the_api_speaks_the_callers_language(world, api):
    c = api(world.users["kundulun"])
    chinese = c.get(API, {"lot_size": "x", "aql": "2.5"}).json()["detail"]
    english = c.get(API, {"lot_size": "x", "aql": "2.5"}, HTTP_ACCEPT_LANGUAGE="en").json()["detail"]
    assert "批量" in chinese
    assert english.startswith("Give the lot size")


# --------------------------------------------------------------------------- switching rules as data

GOOD = {
    "tighten_rejections": "2",
    "tighten_window": "5",
    "restore_accepted": "5",
    "reduce_score": "30",
    "score_step_ac2": "3",
    "score_step_ac01": "2",
    "discontinue_rejections": "5",
    "rule_text": "对照 GB/T 2828.1-2012 第 9 章核实。",
    "source": "GB/T 2828.1-2012 第 9 章（纸本）",
    "evidence": "verified",
}


def test_the_default_rules_are_the_facts_marked_unverified(world):
    rules = current_switching_rules()
    assert rules.pk == 1 and rules.evidence == "unverified" and "未核实" in rules.source
    assert rules.as_rules() == aql.Rules()
    assert "转移得分" in rules.rule_text


def test_the_system_administrator_changes_the_rules(world):
    rules = switching_rules_update(actor=world.users["sysadmin"], data={**GOOD, "reduce_score": "40"})
    assert rules.as_rules().reduce_score == 40 and rules.evidence == "verified"
    event = AuditEvent.objects.filter(action="sampling_switching_rules.update").latest("pk")
    assert event.outcome == "success" and event.details["changes"]["reduce_score"] == [30, 40]
    history = [aql.Lot(accepted=True, ac=1)] * 15
    assert aql.next_severity(current_switching_rules().as_rules(), history).severity == aql.NORMAL


@pytest.mark.parametrize("who", ["region", "kundulun", "ent_manager", "inst", "secadmin", "auditor"])
def test_nobody_else_may_change_the_rules(world, who):
    with pytest.raises(Forbidden):
        switching_rules_update(actor=world.users[who], data=GOOD)
    assert SwitchingRules.objects.get().evidence == "unverified"
    assert AuditEvent.objects.filter(action="sampling_switching_rules.update", outcome="denied").count() == 1


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("tighten_rejections", "0"),
        ("tighten_rejections", "6"),  # more than the window
        ("tighten_window", "两"),
        ("reduce_score", "1001"),
        ("score_step_ac2", ""),
        ("rule_text", "  "),
        ("source", "x" * 301),
        ("evidence", "sure"),
    ],
)
def test_bad_rules_are_refused_and_nothing_changes(world, field, value):
    with pytest.raises(InvalidInput) as refused:
        switching_rules_update(actor=world.users["sysadmin"], data={**GOOD, field: value})
    assert field in refused.value.errors and refused.value.code == "switching_rules_invalid"
    rules = SwitchingRules.objects.get()
    assert rules.evidence == "unverified" and rules.as_rules() == aql.Rules()


def test_the_console_edits_the_rules_for_the_system_administrator_only(world, web):
    change = "/console/sampling/switchingrules/1/change/"
    assert web(world.users["kundulun"]).get(change).status_code in (302, 403)
    admin = web(world.users["sysadmin"])
    assert admin.get(change).status_code == 200
    assert admin.get("/console/sampling/switchingrules/add/").status_code == 403
    bad = admin.post(change, {**GOOD, "tighten_rejections": "9"})
    assert bad.status_code == 200 and SwitchingRules.objects.get().evidence == "unverified"
    assert admin.post(change, {**GOOD, "restore_accepted": "4"}).status_code == 302
    rules = SwitchingRules.objects.get()
    assert (rules.restore_accepted, rules.evidence) == (4, "verified")
    assert AuditEvent.objects.filter(action="sampling_switching_rules.update", outcome="success").count() == 1
