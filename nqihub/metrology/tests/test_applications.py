"""Online verification applications (在线报检): which institutions are offered, submitting,
withdrawing, accepting (fees fixed), rejecting and scheduling; every refusal with its code,
recorded and changing nothing; who sees which application (queryset, pages, API).

The fixtures here (``metrology_institution``, ``signers``, ``submitted``…) are shared with
``test_results.py`` and ``test_lims_api.py``, which import them.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from nqihub.audit.models import AuditEvent
from nqihub.cases.models import Case, CaseEvent
from nqihub.core.access import MembershipRole, OrganizationKind
from nqihub.core.errors import Conflict, Forbidden, InvalidInput, NotFound
from nqihub.metrology.models import (
    ApplicationItem,
    Instrument,
    MetrologyPolicy,
    Tariff,
    VerificationApplication,
    WaiverPolicy,
)
from nqihub.metrology.services import applications as services
from nqihub.organizations.models import AuthorisationScope, Discipline, InstitutionDiscipline
from nqihub.testing.factories import MembershipFactory, OrganizationFactory, UserFactory
from nqihub.workcalendar.services import is_working_day

APPLICATION_TYPE = "metrology.verificationapplication"


# --- Fixtures (imported by the other application test modules) ------------------------------------


def authorise(institution, *codes, areas=(), discipline=Discipline.METROLOGY, valid_until=None):
    for code in codes:
        scope = AuthorisationScope.objects.create(
            organization=institution,
            discipline=discipline,
            subject_code=code,
            subject_name=f"检定 {code}",
            valid_until=valid_until,
        )
        if areas:
            scope.areas.set(areas)


@pytest.fixture
def metrology_institution(world, scale):
    """The 包头 institution (in 昆都仑区) authorised for scales, its own division and below."""
    InstitutionDiscipline.objects.create(organization=world.institution, discipline=Discipline.METROLOGY)
    authorise(world.institution, scale.code)
    return world.institution


@pytest.fixture
def signers(world, metrology_institution):
    """Three people of the institution (``inst`` is its manager) plus a clerk of another one."""
    users = world.users
    users["inst_checker"] = UserFactory(username="inst_checker")
    MembershipFactory(user=users["inst_checker"], organization=world.institution, role=MembershipRole.CLERK)
    users["inst_approver"] = UserFactory(username="inst_approver")
    MembershipFactory(user=users["inst_approver"], organization=world.institution, role=MembershipRole.VIEWER)
    other = OrganizationFactory(
        kind=OrganizationKind.INSTITUTION, name="另一检定所", division_id="150203", credit_code=None
    )
    InstitutionDiscipline.objects.create(organization=other, discipline=Discipline.METROLOGY)
    users["other_inst"] = UserFactory(username="other_inst")
    MembershipFactory(user=users["other_inst"], organization=other, role=MembershipRole.MANAGER)
    world.other_institution = other
    return users["inst"], users["inst_checker"], users["inst_approver"]


def submit(world, instruments, *names, user="ent_manager", **overrides):
    data = {
        "instrument_ids": [instruments[n].pk for n in names] if names else [instruments["kundulun"].pk],
        "institution_id": world.institution.pk,
        "mode": "drop_off",
        "contact_name": "李四",
        "contact_phone": "0472-1234567",
    }
    data.update(overrides)
    return services.application_submit(actor=world.users[user], **data)


@pytest.fixture
def submitted(world, instruments, signers):
    return submit(world, instruments)


@pytest.fixture
def accepted(world, submitted):
    return services.application_accept(actor=world.users["inst"], application=submitted)


def snapshot():
    return (
        list(
            VerificationApplication.objects.order_by("pk").values_list(
                "pk", "state", "reject_reason", "scheduled_on", "fee_total", "decided_by_id"
            )
        ),
        sorted(ApplicationItem.objects.values_list("pk", "instrument_id", "fee", "waived")),
        CaseEvent.objects.count(),
        list(Case.objects.order_by("pk").values_list("pk", "state", "decided_at", "closed_at")),
    )


def refused(call, error, code: str, action: str, outcome: str | None = None):
    """Run ``call``: it must raise ``error`` with ``code``, change nothing and be recorded."""
    before = snapshot()
    with pytest.raises(error) as exc:
        call()
    assert exc.value.code == code
    assert snapshot() == before
    record = AuditEvent.objects.filter(action=action).exclude(outcome="success").latest("seq")
    assert record.details["code"] == code
    if outcome:
        assert record.outcome == outcome
    return exc.value


def reread(application) -> VerificationApplication:
    return VerificationApplication.objects.get(pk=application.pk)  # protected state: re-read


# --- Institutions offered ---------------------------------------------------------------------------


@pytest.mark.django_db
def test_institutions_offered_cover_every_item_and_the_enterprise_area(
    world, signers, scale, catalogue, django_assert_max_num_queries
):
    other_item = next(i for i in catalogue.values() if i.code != scale.code)
    offered = lambda org, *items: set(  # noqa: E731
        services.institutions_offering(organization=org, catalogue_items=items).values_list("pk", flat=True)
    )
    with django_assert_max_num_queries(2):  # the division (if not loaded) and the institutions
        assert offered(world.ent_kundulun, scale) == {world.institution.pk}
    # Its own division and below only (no areas): not 青山区 nor 新城区.
    assert offered(world.ent_qingshan, scale) == set()
    assert offered(world.ent_xincheng, scale) == set()
    # Not authorised for the second item: offered for neither both nor it alone.
    assert offered(world.ent_kundulun, scale, other_item) == set()
    # Another institution authorised for both items over the whole 包头市.
    authorise(world.other_institution, scale.code, other_item.code, areas=["150200"])
    assert offered(world.ent_kundulun, scale, other_item) == {world.other_institution.pk}
    assert offered(world.ent_qingshan, scale) == {world.other_institution.pk}
    assert offered(world.ent_xincheng, scale) == set()
    assert offered(world.ent_kundulun, scale) == {world.institution.pk, world.other_institution.pk}
    # An expired scope, a testing scope, an inactive institution do not count.
    AuthorisationScope.objects.filter(organization=world.other_institution, subject_code=other_item.code).update(
        valid_until=timezone.localdate() - timedelta(days=1)
    )
    assert offered(world.ent_kundulun, scale, other_item) == set()
    authorise(world.other_institution, other_item.code, areas=["150200"], discipline=Discipline.TESTING)
    assert offered(world.ent_kundulun, scale, other_item) == set()
    world.other_institution.is_active = False
    world.other_institution.save()
    assert offered(world.ent_qingshan, scale) == set()


# --- The workflow -----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_submit_accept_schedule(world, instruments, signers, scale):
    MetrologyPolicy.objects.update_or_create(pk=1, defaults={"acceptance_working_days": 3})
    Tariff.objects.create(catalogue_item=scale, price=Decimal("40.00"), valid_from="2020-01-01", source="test")
    WaiverPolicy.objects.create(
        name="小微企业减半", basis="campaign", percentage=50, valid_from="2020-01-01", source="test"
    )
    start = timezone.localdate() + timedelta(days=3)
    application = submit(
        world,
        instruments,
        mode="on_site",
        site_address="包头市昆都仑区钢铁大街 1 号",
        wished_from=start,
        wished_until=start + timedelta(days=5),
        note="请上午来",
    )
    # 报检, unlike certificates (JD-…): prefix, year, sequence from the case counter.
    assert application.number == f"BJ{timezone.localdate().year}000001"
    assert application.state == "submitted" and application.institution == world.institution
    assert application.division_id == "150203" and application.mode == "on_site"
    # 3 working days: weekends and the calendar's days off skipped, make-up days counted.
    days, day = 0, timezone.localtime(application.submitted_at)
    while days < 3:
        day += timedelta(days=1)
        days += is_working_day(day.date())
    assert timezone.localtime(application.accept_by) == day
    assert list(application.items.values_list("instrument_id", "catalogue_item_id")) == [
        (instruments["kundulun"].pk, scale.pk)
    ]

    services.application_accept(actor=world.users["inst_checker"], application=application.pk)
    application = reread(application)
    assert application.state == "accepted" and application.decided_by == world.users["inst_checker"]
    assert application.fee_total == Decimal("40.00") and application.waived_total == Decimal("20.00")
    item = application.items.get()
    assert (item.fee, item.waived, item.waiver_policy.name) == (Decimal("40.00"), Decimal("20.00"), "小微企业减半")

    on = timezone.localdate() + timedelta(days=4)
    services.application_schedule(actor=world.users["inst"], application=application, on_date=on, note="上午")
    application = reread(application)
    assert application.state == "scheduled" and application.scheduled_on == on
    assert list(application.case.events.values_list("kind", flat=True)) == ["submitted", "accepted", "scheduled"]
    trail = list(
        AuditEvent.objects.filter(target_type=APPLICATION_TYPE, target_id=str(application.pk))
        .order_by("seq")
        .values_list("action", "outcome")
    )
    assert trail == [
        ("verification_application.submit", "success"),
        ("verification_application.accept", "success"),
        ("verification_application.schedule", "success"),
    ]


@pytest.mark.django_db
def test_reject_with_reason_and_withdraw(world, instruments, signers):
    first = submit(world, instruments)
    services.application_reject(actor=world.users["inst"], application=first, reason="  暂无该量程标准器  ")
    first = reread(first)
    assert first.state == "rejected" and first.reject_reason == "暂无该量程标准器"
    assert first.case.events.last().note == "暂无该量程标准器"
    # A rejected application no longer holds the instrument: it may be applied for again.
    second = submit(world, instruments, user="ent_clerk")
    services.application_withdraw(actor=world.users["ent_manager"], application=second.pk)
    assert reread(second).state == "withdrawn"
    assert list(reread(second).case.events.values_list("kind", flat=True)) == ["submitted", "withdrawn"]


@pytest.mark.django_db
def test_overdue_acceptance(world, submitted):
    assert not services.is_overdue(submitted)
    VerificationApplication.objects.filter(pk=submitted.pk).update(accept_by=timezone.now() - timedelta(minutes=1))
    assert services.is_overdue(reread(submitted))
    assert VerificationApplication.objects.for_user(world.users["inst"]).overdue_acceptance().count() == 1


# --- Refusals ---------------------------------------------------------------------------------------

SUBMIT = "verification_application.submit"


@pytest.mark.django_db
def test_another_enterprises_instrument_is_not_found(world, instruments, signers):
    exc = refused(lambda: submit(world, instruments, "kundulun", "xincheng"), NotFound, "not_found", SUBMIT, "denied")
    assert "X-0001" not in str(exc.message)
    refused(lambda: submit(world, instruments, instrument_ids=[999999]), NotFound, "not_found", SUBMIT)


@pytest.mark.django_db
def test_institution_without_the_scope_is_not_offered(world, instruments, signers, catalogue, scale):
    refused(
        lambda: submit(world, instruments, institution_id=world.other_institution.pk),
        InvalidInput,
        "institution_not_offered",
        SUBMIT,
        "failure",
    )
    refused(
        lambda: submit(world, instruments, institution_id=world.ent_xincheng.pk),
        InvalidInput,
        "institution_not_offered",
        SUBMIT,
    )
    refused(lambda: submit(world, instruments, institution_id="x"), InvalidInput, "institution_not_offered", SUBMIT)
    # The 新城区 enterprise is outside the institution's area.
    refused(
        lambda: submit(world, instruments, "xincheng", user="ent_other"),
        InvalidInput,
        "institution_not_offered",
        SUBMIT,
    )


@pytest.mark.django_db
def test_instrument_rules(world, instruments, signers):
    k = instruments["kundulun"]
    Instrument.objects.filter(pk=k.pk).update(status="scrapped")
    refused(lambda: submit(world, instruments), InvalidInput, "instrument_scrapped", SUBMIT)
    Instrument.objects.filter(pk=k.pk).update(status="in_use", catalogue_item=None)
    refused(lambda: submit(world, instruments), InvalidInput, "no_catalogue_item", SUBMIT)
    Instrument.objects.filter(pk=k.pk).update(catalogue_item=instruments["xincheng"].catalogue_item)
    submit(world, instruments)
    refused(lambda: submit(world, instruments), Conflict, "in_open_application", SUBMIT)
    refused(lambda: submit(world, instruments, instrument_ids=[]), InvalidInput, "no_instruments", SUBMIT)
    refused(lambda: submit(world, instruments, instrument_ids=["abc"]), InvalidInput, "invalid_id", SUBMIT)


@pytest.mark.django_db
def test_details_rules(world, instruments, signers):
    today = timezone.localdate()
    cases = [
        ({"mode": "mail"}, "invalid_mode"),
        ({"mode": "on_site", "wished_from": today, "wished_until": today}, "address_required"),
        ({"mode": "on_site", "site_address": "某地"}, "dates_required"),
        (
            {"mode": "on_site", "site_address": "某地", "wished_from": today + timedelta(2), "wished_until": today},
            "invalid_dates",
        ),
        (
            {"mode": "on_site", "site_address": "某地", "wished_from": today - timedelta(1), "wished_until": today},
            "date_in_past",
        ),
        ({"contact_phone": ""}, "contact_required"),
    ]
    for overrides, code in cases:
        refused(lambda overrides=overrides: submit(world, instruments, **overrides), InvalidInput, code, SUBMIT)


@pytest.mark.django_db
def test_who_may_submit(world, instruments, signers, ent_viewer):
    for user in ("ent_viewer", "inst", "kundulun", "sysadmin"):
        refused(lambda user=user: submit(world, instruments, user=user), Forbidden, "permission_denied", SUBMIT)


@pytest.mark.django_db
def test_institution_steps_refused(world, submitted, signers):
    accept = "verification_application.accept"
    # Another institution, the enterprise, a regulator: never found or not theirs.
    refused(
        lambda: services.application_accept(actor=world.users["other_inst"], application=submitted),
        NotFound,
        "not_found",
        accept,
        "denied",
    )
    refused(
        lambda: services.application_accept(actor=world.users["ent_manager"], application=submitted),
        Forbidden,
        "permission_denied",
        accept,
    )
    refused(
        lambda: services.application_accept(actor=world.users["kundulun"], application=submitted),
        Forbidden,
        "permission_denied",
        accept,
    )
    refused(
        lambda: services.application_accept(actor=world.users["inst_approver"], application=submitted),
        Forbidden,
        "permission_denied",
        accept,
    )
    refused(
        lambda: services.application_accept(actor=world.users["sysadmin"], application=submitted),
        NotFound,
        "not_found",
        accept,
    )
    refused(
        lambda: services.application_reject(actor=world.users["inst"], application=submitted, reason="  "),
        InvalidInput,
        "reason_required",
        "verification_application.reject",
    )
    refused(
        lambda: services.application_schedule(
            actor=world.users["inst"], application=submitted, on_date=timezone.localdate()
        ),
        Conflict,
        "invalid_state",
        "verification_application.schedule",
    )
    services.application_accept(actor=world.users["inst"], application=submitted)
    refused(
        lambda: services.application_accept(actor=world.users["inst"], application=submitted),
        Conflict,
        "invalid_state",
        accept,
    )
    refused(
        lambda: services.application_withdraw(actor=world.users["ent_manager"], application=submitted),
        Conflict,
        "invalid_state",
        "verification_application.withdraw",
    )
    refused(
        lambda: services.application_schedule(
            actor=world.users["inst"], application=submitted, on_date=timezone.localdate() - timedelta(days=1)
        ),
        InvalidInput,
        "date_in_past",
        "verification_application.schedule",
    )
    refused(
        lambda: services.application_withdraw(actor=world.users["inst"], application=submitted),
        Forbidden,
        "permission_denied",
        "verification_application.withdraw",
    )


# --- Who sees which application -----------------------------------------------------------------------

VISIBILITY = {
    "ent_manager": True,
    "ent_clerk": True,
    "ent_other": False,
    "inst": True,
    "other_inst": False,
    "kundulun": True,
    "baotou": True,
    "region": True,
    "qingshan": False,
    "xincheng": False,
    "hohhot": False,
    "sysadmin": False,
    "secadmin": False,
    "auditor": False,
    "applicant": False,
}


@pytest.mark.django_db
def test_permission_matrix(world, submitted, web, api):
    from nqihub.testing.factories import MembershipFactory as MF

    world.users["hohhot"] = UserFactory(username="hohhot")
    MF(user=world.users["hohhot"], organization=world.hohhot_reg, role=MembershipRole.CLERK)
    for name, sees in VISIBILITY.items():
        user = world.users[name]
        assert VerificationApplication.objects.for_user(user).filter(pk=submitted.pk).exists() is sees, name
        page = web(user).get(f"/metrology/applications/{submitted.pk}/")
        assert page.status_code == (200 if sees else 404), name
        listed = web(user).get("/metrology/applications/")
        assert (submitted.number in listed.content.decode()) is sees, name
        response = api(user).get(f"/api/v1/verification-applications/{submitted.pk}/")
        assert response.status_code == (200 if sees else 404), name
        ids = [a["id"] for a in api(user).get("/api/v1/verification-applications/").json()["results"]]
        assert (submitted.pk in ids) is sees, name
    # Regulators' reads are recorded.
    assert AuditEvent.objects.filter(action="data.query", actor_username="baotou").count() >= 4


@pytest.mark.django_db
@pytest.mark.parametrize("who", ["ent_manager", "kundulun", "other_inst"])
def test_outsiders_are_refused_before_their_input_is_checked(world, submitted, who):
    """Someone who may not decide is told so whatever they send (an empty reason, no date):
    the refusal is "denied", not a form error that would reveal the form's rules."""
    user = world.users.get(who) or world.users["inst"]
    if who == "other_inst":
        from nqihub.testing.factories import MembershipFactory, UserFactory

        user = UserFactory()
        MembershipFactory(user=user, organization=world.other_institution, role="manager")
    for call, action in (
        (lambda: services.application_reject(actor=user, application=submitted, reason=""), "reject"),
        (lambda: services.application_schedule(actor=user, application=submitted, on_date=None), "schedule"),
    ):
        before = snapshot()
        with pytest.raises((Forbidden, NotFound)):
            call()
        assert snapshot() == before
        record = AuditEvent.objects.filter(action=f"verification_application.{action}").latest("seq")
        assert record.outcome == "denied"


@pytest.mark.django_db
@pytest.mark.parametrize("who", ["ent_manager", "kundulun", "ent_other"])
@pytest.mark.parametrize(
    "step, body",
    [("reject", {"reason": "x" * 3000}), ("schedule", {"on_date": "not a date"})],
)
def test_api_outsiders_with_a_bad_body_are_refused_not_told_about_it(world, submitted, api, who, step, body):
    """The API's convention is permission, then body: an invalid body from someone who may not
    decide is answered 403/404 (never 400), and the refusal is recorded as denied."""
    before = snapshot()
    response = api(world.users[who]).post(
        f"/api/v1/verification-applications/{submitted.pk}/{step}/", body, format="json"
    )
    assert response.status_code in (403, 404), response.content
    assert response.status_code == (404 if who == "ent_other" else 403)
    assert snapshot() == before
    record = AuditEvent.objects.filter(action=f"verification_application.{step}").latest("seq")
    assert (record.outcome, record.actor_username) == ("denied", who)


@pytest.mark.django_db
def test_api_bad_body_from_the_institution_is_a_form_error(world, submitted, api):
    response = api(world.users["inst"]).post(
        f"/api/v1/verification-applications/{submitted.pk}/schedule/", {"on_date": "not a date"}, format="json"
    )
    assert response.status_code == 400


@pytest.mark.django_db
@pytest.mark.parametrize("who", ["kundulun", "inst", "applicant"])
def test_api_create_refuses_a_non_enterprise_before_its_body(world, api, who):
    response = api(world.users[who]).post(
        "/api/v1/verification-applications/", {"instrument_ids": "nonsense", "mode": "?"}, format="json"
    )
    assert response.status_code == 403, response.content
    record = AuditEvent.objects.filter(action="verification_application.submit").latest("seq")
    assert (record.outcome, record.actor_username) == ("denied", who)


@pytest.mark.django_db
def test_api_create_bad_body_from_an_enterprise_is_a_form_error(world, api):
    response = api(world.users["ent_manager"]).post(
        "/api/v1/verification-applications/", {"instrument_ids": "nonsense", "mode": "?"}, format="json"
    )
    assert response.status_code == 400
