"""Enterprise registration: the whole workflow, and every refusal changing nothing."""

from __future__ import annotations

import pytest
from django.utils import translation

from nqihub.audit.models import AuditEvent
from nqihub.cases.services import case_open
from nqihub.core.errors import Conflict, Forbidden, InvalidInput, NotFound
from nqihub.organizations import services
from nqihub.organizations.models import EnterpriseRegistration, Membership, Organization
from nqihub.testing.factories import valid_code


def _data(**overrides):
    data = {
        "credit_code": valid_code(7001),
        "name": "包头市鹿城测试有限公司",
        "division": "150203",
        "address": "昆都仑区阿尔丁大街 9 号",
        "legal_representative": "孙七",
        "industry": "稀土",
        "contact_name": "孙七",
        "contact_phone": "13900000000",
        "contact_email": "sun@example.cn",
    }
    data.update(overrides)
    return data


def _get(pk):
    return EnterpriseRegistration.objects.get(pk=pk)


@pytest.mark.django_db
def test_submit_approve_creates_enterprise_and_manager(world):
    applicant, reviewer = world.users["applicant"], world.users["kundulun"]
    registration = services.registration_submit(actor=applicant, data=_data())
    assert registration.state == "submitted"
    assert registration.number.startswith("QY")
    services.registration_approve(actor=reviewer, registration=registration)
    registration = _get(registration.pk)
    assert registration.state == "approved"
    org = registration.organization
    assert org.kind == "enterprise" and org.credit_code == valid_code(7001) and org.division_id == "150203"
    membership = Membership.objects.get(user=applicant, organization=org)
    assert membership.role == "manager" and membership.is_default
    assert org.contacts.get().phone == "13900000000"
    actions = list(AuditEvent.objects.order_by("seq").values_list("action", "outcome"))
    assert ("registration.submit", "success") in actions
    assert ("registration.approve", "success") in actions


@pytest.mark.django_db
def test_return_then_resubmit_then_approve(world):
    applicant, reviewer = world.users["applicant"], world.users["kundulun"]
    registration = services.registration_submit(actor=applicant, data=_data())
    services.registration_return(actor=reviewer, registration=registration, reason="营业执照地址与填写不一致")
    registration = _get(registration.pk)
    assert registration.state == "returned"
    assert registration.return_reason == "营业执照地址与填写不一致"
    services.registration_resubmit(
        actor=applicant, registration=registration, data=_data(address="昆都仑区钢铁大街 10 号")
    )
    registration = _get(registration.pk)
    assert registration.state == "submitted" and registration.address == "昆都仑区钢铁大街 10 号"
    services.registration_approve(actor=reviewer, registration=registration)
    assert _get(registration.pk).state == "approved"


@pytest.mark.django_db
def test_return_needs_a_reason(world):
    registration = services.registration_submit(actor=world.users["applicant"], data=_data())
    with pytest.raises(InvalidInput) as exc:
        services.registration_return(actor=world.users["kundulun"], registration=registration, reason="   ")
    assert exc.value.code == "reason_required"
    assert _get(registration.pk).state == "submitted"


@pytest.mark.django_db
def test_withdraw(world):
    registration = services.registration_submit(actor=world.users["applicant"], data=_data())
    services.registration_withdraw(actor=world.users["applicant"], registration=registration)
    assert _get(registration.pk).state == "withdrawn"
    # A withdrawn application frees the code for a new one.
    again = services.registration_submit(actor=world.users["applicant"], data=_data())
    assert again.state == "submitted"


@pytest.mark.django_db
def test_someone_else_cannot_withdraw_or_resubmit(world):
    registration = services.registration_submit(actor=world.users["applicant"], data=_data())
    with pytest.raises(NotFound):
        services.registration_withdraw(actor=world.users["ent_other"], registration=registration)
    with pytest.raises(Forbidden):  # the county regulator sees it but it is not theirs to withdraw
        services.registration_withdraw(actor=world.users["kundulun"], registration=registration)
    assert _get(registration.pk).state == "submitted"


@pytest.mark.django_db
def test_approving_twice_is_refused(world):
    registration = services.registration_submit(actor=world.users["applicant"], data=_data())
    services.registration_approve(actor=world.users["kundulun"], registration=registration)
    with pytest.raises(Conflict) as exc:
        services.registration_approve(actor=world.users["kundulun"], registration=registration)
    assert exc.value.code == "invalid_state"
    assert Organization.objects.filter(credit_code=valid_code(7001)).count() == 1


@pytest.mark.django_db
def test_code_already_registered_is_refused(world):
    existing = world.ent_kundulun.credit_code
    before = EnterpriseRegistration.objects.count()
    with pytest.raises(Conflict) as exc:
        services.registration_submit(actor=world.users["applicant"], data=_data(credit_code=existing))
    assert exc.value.code == "credit_code_registered"
    assert EnterpriseRegistration.objects.count() == before
    refused = AuditEvent.objects.filter(action="registration.submit").latest("seq")
    assert refused.outcome == "failure" and refused.details["code"] == "credit_code_registered"


@pytest.mark.django_db
def test_code_with_open_application_is_refused(world):
    services.registration_submit(actor=world.users["applicant"], data=_data())
    with pytest.raises(Conflict) as exc:
        services.registration_submit(actor=world.users["ent_other"], data=_data(name="另一家"))
    assert exc.value.code == "credit_code_pending"
    assert EnterpriseRegistration.objects.count() == 1


@pytest.mark.django_db
def test_open_application_uniqueness_is_enforced_by_the_database(world):
    """Two simultaneous submissions cannot both pass the existence check: the partial unique
    constraint stops the second at the database, and the service reports it cleanly."""
    from django.db import IntegrityError, transaction

    services.registration_submit(actor=world.users["applicant"], data=_data())
    first = EnterpriseRegistration.objects.get()
    case = case_open(kind="enterprise_registration", actor=world.users["ent_other"])
    with pytest.raises(IntegrityError, match=r"(?i)unique"), transaction.atomic():
        EnterpriseRegistration.objects.create(
            case=case,
            number=case.number,
            applicant=world.users["ent_other"],
            credit_code=first.credit_code,
            name="并发",
            division_id="150203",
            address="a",
            legal_representative="b",
            contact_name="c",
            contact_phone="d",
            submitted_at=first.submitted_at,
        )


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("code", "error"),
    [
        ("91150203MA0N1234", "credit_code_length"),
        ("91150203MA0N12345O", "credit_code_charset"),
        ("91AB0203MA0N123456", "credit_code_division"),
        ("911502036000373410", "credit_code_check_character"),
    ],
)
def test_bad_credit_codes_get_their_own_message_and_change_nothing(world, code, error):
    before = (EnterpriseRegistration.objects.count(), Organization.objects.count())
    with pytest.raises(InvalidInput) as exc:
        services.registration_submit(actor=world.users["applicant"], data=_data(credit_code=code))
    assert exc.value.code == error
    assert exc.value.field == "credit_code"
    assert (EnterpriseRegistration.objects.count(), Organization.objects.count()) == before


@pytest.mark.django_db
def test_credit_code_message_is_chinese_by_default(world):
    with translation.override("zh-hans"), pytest.raises(InvalidInput) as exc:
        services.registration_submit(actor=world.users["applicant"], data=_data(credit_code="123"))
    assert "18" in str(exc.value.message)
    assert any("\u4e00" <= ch <= "\u9fff" for ch in str(exc.value.message))


@pytest.mark.django_db
def test_division_must_be_a_current_county(world):
    for division in ("150200", "152100", "999999"):
        with pytest.raises(InvalidInput) as exc:
            services.registration_submit(actor=world.users["applicant"], data=_data(division=division))
        assert exc.value.code == "division_not_county"
    assert EnterpriseRegistration.objects.count() == 0


@pytest.mark.django_db
def test_missing_fields_are_named(world):
    with pytest.raises(InvalidInput) as exc:
        services.registration_submit(actor=world.users["applicant"], data=_data(name="", contact_phone=""))
    assert set(exc.value.errors) == {"name", "contact_phone"}


@pytest.mark.django_db
def test_staff_cannot_apply(world):
    with pytest.raises(Forbidden):
        services.registration_submit(actor=world.users["sysadmin"], data=_data())


@pytest.mark.django_db
def test_full_width_code_is_accepted_and_normalised(world):
    full_width = "".join(chr(ord(c) + 0xFEE0) for c in valid_code(7001))
    registration = services.registration_submit(actor=world.users["applicant"], data=_data(credit_code=full_width))
    assert registration.credit_code == valid_code(7001)


# --- Through the page and the API --------------------------------------------------------


@pytest.mark.django_db
def test_page_shows_error_on_the_field_and_keeps_input(world, web):
    client = web(world.users["applicant"])
    response = client.post("/organizations/registrations/new/", _data(credit_code="911502036000373410"))
    assert response.status_code == 200
    form = response.context["form"]
    assert "credit_code" in form.errors
    assert form.data["name"] == "包头市鹿城测试有限公司"
    assert EnterpriseRegistration.objects.count() == 0


@pytest.mark.django_db
def test_page_flow_submit_and_see_state(world, web):
    client = web(world.users["applicant"])
    response = client.post("/organizations/registrations/new/", _data())
    registration = EnterpriseRegistration.objects.get()
    assert response.status_code == 302 and response.url == registration.get_absolute_url()
    page = client.get(registration.get_absolute_url())
    assert page.status_code == 200 and registration.number in page.content.decode()
    home = client.get("/")
    assert registration.number in home.content.decode()


@pytest.mark.django_db
def test_api_error_body_has_detail_code_and_field(world, api):
    client = api(world.users["applicant"])
    response = client.post("/api/v1/registrations/", _data(credit_code="91150203MA0N1234"), format="json")
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "credit_code_length"
    assert body["detail"]
    assert "credit_code" in body["errors"]
    duplicate = client.post("/api/v1/registrations/", _data(credit_code=world.ent_kundulun.credit_code), format="json")
    assert duplicate.status_code == 409 and duplicate.json()["code"] == "credit_code_registered"
    missing = client.post("/api/v1/registrations/", {"name": "x"}, format="json")
    assert missing.status_code == 400 and set(missing.json()) >= {"detail", "code", "errors"}
    assert EnterpriseRegistration.objects.count() == 0


@pytest.mark.django_db
def test_api_return_and_resubmit(world, api):
    created = api(world.users["applicant"]).post("/api/v1/registrations/", _data(), format="json")
    assert created.status_code == 201, created.content
    pk = created.json()["id"]
    returned = api(world.users["kundulun"]).post(
        f"/api/v1/registrations/{pk}/return/", {"reason": "法人姓名有误"}, format="json"
    )
    assert returned.status_code == 200 and returned.json()["state"] == "returned"
    resubmitted = api(world.users["applicant"]).post(
        f"/api/v1/registrations/{pk}/resubmit/", _data(legal_representative="孙八"), format="json"
    )
    assert resubmitted.status_code == 200 and resubmitted.json()["state"] == "submitted"
    approved = api(world.users["kundulun"]).post(f"/api/v1/registrations/{pk}/approve/")
    assert approved.status_code == 200 and approved.json()["organization"]


@pytest.mark.django_db
def test_approved_applicant_acts_for_the_new_enterprise(world, web):
    applicant = world.users["applicant"]
    registration = services.registration_submit(actor=applicant, data=_data())
    services.registration_approve(actor=world.users["kundulun"], registration=registration)
    home = web(applicant).get("/")
    assert home.templates[0].name == "core/home_organization.html"
    assert "包头市鹿城测试有限公司" in home.content.decode()


@pytest.mark.django_db
@pytest.mark.parametrize(
    "who, step, status",
    [
        ("baotou", "return", 403),
        ("ent_other", "return", 404),
        ("ent_other", "resubmit", 404),
        ("kundulun", "resubmit", 403),
    ],
)
def test_api_outsiders_with_a_bad_body_are_refused_not_told_about_it(world, api, who, step, status):
    """Permission, then body: an invalid body from someone who may not take the step is answered
    403/404, never 400, and the refusal is recorded as denied."""
    registration = services.registration_submit(actor=world.users["applicant"], data=_data())
    response = api(world.users[who]).post(f"/api/v1/registrations/{registration.pk}/{step}/", {}, format="json")
    assert response.status_code == status, response.content
    if status == 403:  # a 404 is the viewset's own lookup, before any service is asked
        record = AuditEvent.objects.filter(action=f"registration.{step}").latest("seq")
        assert (record.outcome, record.actor_username) == ("denied", who)
    assert _get(registration.pk).state == "submitted"


@pytest.mark.django_db
def test_api_staff_with_a_bad_body_cannot_apply(world, api):
    response = api(world.users["sysadmin"]).post("/api/v1/registrations/", {"credit_code": ""}, format="json")
    assert response.status_code == 403, response.content
    record = AuditEvent.objects.filter(action="registration.submit").latest("seq")
    assert (record.outcome, record.actor_username) == ("denied", "sysadmin")
    assert not EnterpriseRegistration.objects.exists()


@pytest.mark.django_db
def test_api_bad_body_from_the_reviewer_is_a_form_error(world, api):
    registration = services.registration_submit(actor=world.users["applicant"], data=_data())
    response = api(world.users["kundulun"]).post(f"/api/v1/registrations/{registration.pk}/return/", {}, format="json")
    assert response.status_code == 400


@pytest.mark.django_db
def test_the_reviewer_is_shown_a_code_from_elsewhere_and_a_failed_organisation_check(world, web):
    """Found when tried: a Fujian code filed under 昆都仑区 was approved with nothing shown, and
    a wrong GB 11714 check on positions 9–17 was not shown to the reviewer."""
    from nqihub.organizations.credit_code import make_credit_code, make_organisation_code
    from nqihub.organizations.selectors import credit_code_review_notes

    fujian = make_credit_code(division="350100", body=make_organisation_code("7002"))
    elsewhere = services.registration_submit(
        actor=world.users["applicant"], data=_data(credit_code=fujian, confirm_division=True)
    )
    page = web(world.users["kundulun"]).get(f"/organizations/registrations/{elsewhere.pk}/")
    notes = [n for n in page.content.decode().split('data-testid="code-note">')[1:]]
    assert len(notes) == 1 and "350100" in notes[0] and "昆都仑区" in notes[0]

    local = _get(elsewhere.pk).division
    assert credit_code_review_notes(valid_code(7001), local) == []
    # The city's own code and its 市辖区 summary code are the county's city registering it.
    assert credit_code_review_notes(make_credit_code(division="150200", body=make_organisation_code("1")), local) == []
    assert credit_code_review_notes(make_credit_code(division="150201", body=make_organisation_code("1")), local) == []
    bad_check = make_credit_code(
        division="150203", body="12345678" + ("0" if make_organisation_code("12345678")[-1] != "0" else "1")
    )
    with translation.override("en"):
        (note,) = credit_code_review_notes(bad_check, local)
    assert "GB 11714" in note


@pytest.mark.django_db
def test_the_form_asks_the_applicant_to_confirm_a_code_from_another_division(world, web):
    """Found when tried: nothing on the form compared the code's division with the county
    chosen. The applicant is shown the difference and submits again only by confirming it;
    the reviewer still sees the note."""
    from nqihub.organizations.credit_code import make_credit_code, make_organisation_code

    client = web(world.users["applicant"])
    fujian = make_credit_code(division="350100", body=make_organisation_code("7003"))
    response = client.post("/organizations/registrations/new/", _data(credit_code=fujian))
    assert response.status_code == 200 and EnterpriseRegistration.objects.count() == 0
    page = response.content.decode()
    assert "350100" in page and "昆都仑区" in page
    assert 'type="checkbox" name="confirm_division"' in page
    assert response.context["form"].data["name"] == "包头市鹿城测试有限公司"  # the input is kept

    response = client.post("/organizations/registrations/new/", _data(credit_code=fujian, confirm_division="on"))
    registration = EnterpriseRegistration.objects.get()
    assert response.status_code == 302 and registration.division_id == "150203"

    # A code of the county chosen goes straight in, with no box to tick.
    response = client.post("/organizations/registrations/new/", _data(credit_code=valid_code(7004)))
    assert response.status_code == 302 and EnterpriseRegistration.objects.count() == 2
    # An invalid code gets the service's own message, not the division question.
    response = client.post("/organizations/registrations/new/", _data(credit_code="911502036000373410"))
    assert "credit_code" in response.context["form"].errors
    assert 'name="confirm_division"' not in response.content.decode().replace(
        'type="hidden" name="confirm_division"', ""
    )


@pytest.mark.django_db
def test_the_api_asks_the_same_county_confirmation_as_the_form(world, api):
    """Found when tried: the API took a code issued in Fujian for a 昆都仑区 enterprise without
    the confirmation the form asks for. The service asks both ways in."""
    from nqihub.organizations.credit_code import make_credit_code, make_organisation_code

    client = api(world.users["applicant"])
    fujian = make_credit_code(division="350100", body=make_organisation_code("7013"))
    response = client.post("/api/v1/registrations/", _data(credit_code=fujian), format="json")
    assert response.status_code == 400, response.content
    body = response.json()
    assert body["code"] == "division_unconfirmed"
    assert "350100" in body["detail"]
    assert EnterpriseRegistration.objects.count() == 0
    response = client.post("/api/v1/registrations/", _data(credit_code=fujian, confirm_division=True), format="json")
    assert response.status_code == 201, response.content
    assert EnterpriseRegistration.objects.get().division_id == "150203"
