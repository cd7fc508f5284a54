import pytest


@pytest.mark.django_db
def test_every_role_reaches_its_pages(world, web, api):
    for name in ["applicant","ent_manager","kundulun","baotou","sysadmin","secadmin","auditor","inst"]:
        c = web(world.users[name])
        r = c.get("/")
        assert r.status_code == 200, (name, r.status_code)
    c = web(world.users["baotou"])
    for url in ["/organizations/", "/organizations/registrations/", f"/organizations/{world.ent_kundulun.pk}/", "/organizations/export.xlsx"]:
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
