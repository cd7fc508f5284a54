import pytest


@pytest.mark.django_db
def test_every_role_reaches_its_pages(world, web, api):
    for name in ["applicant", "ent_manager", "kundulun", "baotou", "sysadmin", "secadmin", "auditor", "inst"]:
        c = web(world.users[name])
        r = c.get("/")
        assert r.status_code == 200, (name, r.status_code)
    c = web(world.users["baotou"])
    for url in [
        "/organizations/",
        "/organizations/registrations/",
        f"/organizations/{world.ent_kundulun.pk}/",
        "/organizations/export.xlsx",
    ]:
        assert c.get(url).status_code == 200, url
    c = web(world.users["applicant"])
    assert c.get("/organizations/registrations/new/").status_code == 200
    c = web(world.users["auditor"])
    assert c.get("/audit/").status_code == 200
    c = web(world.users["secadmin"])
    assert c.get("/accounts/security/").status_code == 200
    assert c.get("/console/").status_code == 200
    a = api(world.users["baotou"])
    r = a.get("/api/v1/organizations/")
    assert r.status_code == 200, r.content
    assert r.json()["count"] == 6  # Baotou and its counties: 3 regulators, 2 enterprises, 1 institution


@pytest.mark.django_db
def test_home_pages_show_metrology_work(world, web):
    from datetime import timedelta

    from django.utils import timezone

    from nqihub.metrology.models import Instrument

    today = timezone.localdate()
    for n, due in enumerate([today - timedelta(days=3), today + timedelta(days=10), today + timedelta(days=200)]):
        Instrument.objects.create(
            organization=world.ent_kundulun,
            division_id="150203",
            name="电子计价秤",
            factory_number=f"H{n}",
            use_field="trade",
            is_mandatory=True,
            next_due_on=due,
        )
    enterprise = web(world.users["ent_manager"]).get("/").context["metrology"]
    assert (enterprise["due"]["red"], enterprise["due"]["amber"], enterprise["due"]["green"]) == (1, 1, 1)
    regulator = web(world.users["baotou"]).get("/").context["metrology"]
    assert regulator["due"]["red"] == 1 and regulator["filings_to_review"] == 0  # the city does not review
    other = web(world.users["xincheng"]).get("/").context["metrology"]
    assert other["due"]["red"] == 0  # another jurisdiction
    institution = web(world.users["inst"]).get("/").context["metrology"]
    assert institution["awaiting_acceptance"] == 0 and "due" not in institution
