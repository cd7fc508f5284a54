"""The registries through which apps plug their parts into the kernel (docs/architecture.md,
"Registries"): each app registers from its own AppConfig.ready(), and the kernel reads them."""

from __future__ import annotations

import pytest

from nqihub.audit.actions import label_for
from nqihub.core import registries


@pytest.fixture
def clean_panels(monkeypatch):
    """The home panels as registered, restored after the test."""
    monkeypatch.setattr(registries, "_HOME_PANELS", dict(registries._HOME_PANELS))


def test_every_home_page_has_its_apps_panels():
    names = {audience: [p.name for p in registries.home_panels(audience)] for audience in registries.HOME_AUDIENCES}
    assert names == {
        "system_admin": ["organizations.system_admin"],
        "security_admin": ["accounts.security"],
        "audit_admin": ["audit.dashboard"],
        "regulator": ["organizations.regulator", "metrology.summary"],
        "organization": ["organizations.organization", "metrology.summary"],
        "applicant": ["organizations.applicant"],
    }


@pytest.mark.django_db
def test_a_registered_panel_reaches_its_audience_only(world, web, clean_panels):
    registries.register_home_panel(
        "test.extra", lambda user: {"seen_by": user.username}, audiences=["regulator"], key="extra"
    )
    assert web(world.users["baotou"]).get("/").context["extra"] == {"seen_by": world.users["baotou"].username}
    assert "extra" not in web(world.users["ent_manager"]).get("/").context


def test_an_unknown_audience_is_refused(clean_panels):
    with pytest.raises(ValueError, match="Unknown home page audience: auditors"):
        registries.register_home_panel("test.bad", dict, audiences=["auditors"])


def test_daily_jobs_run_in_their_order(monkeypatch):
    monkeypatch.setattr(registries, "_DAILY_JOBS", {})
    registries.register_daily_job("second", order=20)
    registries.register_daily_job("first", order=10)
    registries.register_daily_job("second", order=5)  # registering again replaces
    assert registries.daily_jobs() == ["second", "first"]


@pytest.mark.parametrize(
    ("code", "app"),
    [
        ("auth.login", "accounts"),
        ("security_policy.update", "accounts"),
        ("registration.approve", "organizations"),
        ("demo.seed", "organizations"),
        ("divisions.load", "divisions"),
        ("calendar_entry.create", "workcalendar"),
        ("data.export_requested", "downloads"),
        ("data.query", "audit"),
        ("reminder.run", "metrology"),
        ("tariff.update", "metrology"),
        ("instrument.import", "metrology"),
    ],
)
def test_each_app_registers_its_audit_labels(code, app):
    """Registered by the app's ready(), so a label is there whatever this process imported."""
    assert label_for(code) != code, (code, app)
