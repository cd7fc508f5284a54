"""Reads shared by pages, dashboards and exports."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.db.models import Count
from django.utils.translation import gettext as _

from nqihub.core.access import get_actor

from .credit_code import CENTRAL_DIVISION_CODE, is_valid_organisation_code
from .models import EnterpriseRegistration, Membership, Organization


def kind_counts(queryset) -> dict[str, int]:
    counts = {row["kind"]: row["n"] for row in queryset.order_by().values("kind").annotate(n=Count("pk"))}
    return {k: counts.get(k, 0) for k in ("enterprise", "institution", "regulator")}


def regulator_dashboard(user) -> dict:
    actor = get_actor(user)
    organizations = Organization.objects.for_user(user, "view")
    registrations = EnterpriseRegistration.objects.for_user(user, "view")
    reviewable = EnterpriseRegistration.objects.for_user(user, "review").filter(state="submitted")
    return {
        "jurisdiction": actor.jurisdiction,
        "counts": kind_counts(organizations),
        "pending_review": reviewable.select_related("division").order_by("submitted_at")[:10],
        "pending_review_count": reviewable.count(),
        "can_review": actor.jurisdiction is not None and actor.jurisdiction.level == "county" and actor.can_work,
        "recent_registrations": registrations.select_related("division").order_by("-submitted_at")[:10],
    }


def organization_dashboard(user) -> dict:
    actor = get_actor(user)
    org = actor.organization
    assert org is not None  # the home page of an organisation's member (core.views.home)
    members = (
        Membership.objects.for_user(user, "view").filter(organization=org).select_related("user")
        if actor.role == "manager"
        else Membership.objects.none()
    )
    return {
        "organization": org,
        "members": members,
        "scopes": org.authorisation_scopes.all()[:20] if org.kind == "institution" else [],
        "my_registrations": EnterpriseRegistration.objects.filter(applicant=user).select_related("division")[:5],
    }


def applicant_dashboard(user) -> dict:
    return {"my_registrations": EnterpriseRegistration.objects.filter(applicant=user).select_related("division")}


def system_admin_dashboard(user) -> dict:
    organizations = Organization.objects.for_user(user, "view")
    return {
        "counts": kind_counts(organizations),
        "account_count": get_user_model().objects.filter(is_active=True).count(),
        "open_registrations": EnterpriseRegistration.objects.for_user(user, "view").open().count(),
    }


def credit_code_division_note(code: str, division) -> str | None:
    """The code was issued in another division (positions 3–8) than the county chosen on the
    form, or None. Information, not a refusal: an enterprise that moved keeps its code."""
    from nqihub.divisions.models import AdminDivision

    if len(code) != 18 or division is None:
        return None
    issued_in = code[2:8]
    if issued_in == CENTRAL_DIVISION_CODE:
        return None
    chosen = division.code
    # A city's registration authority registers the enterprises of its districts with the
    # city's code or its 市辖区 summary code (xxyy00 / xxyy01).
    same_city = issued_in[:4] == chosen[:4] and issued_in[4:] in ("00", "01")
    if issued_in == chosen or same_city:
        return None
    known = AdminDivision.objects.filter(code=issued_in).values_list("name", flat=True).first()
    return _(
        "The credit code was issued in division %(code)s (%(name)s), not in %(chosen)s chosen on "
        "the form: check that the enterprise is registered where it says."
    ) % {"code": issued_in, "name": known or _("not a division on the platform"), "chosen": division.name}


def credit_code_review_notes(code: str, division) -> list[str]:
    """What a reviewer should look at twice in a credit code, as information (neither refuses
    the application): the division the code was issued in (positions 3–8) against the county
    chosen on the form, and the GB 11714 check of the old organisation code (positions 9–17),
    which codes issued since 2015 need not pass."""
    notes: list[str] = []
    if len(code) != 18:
        return notes
    division_note = credit_code_division_note(code, division)
    if division_note:
        notes.append(division_note)
    if not is_valid_organisation_code(code[8:17]):
        notes.append(
            _(
                "Positions 9–17 (the former organisation code) do not pass their GB 11714 check. Codes "
                "issued since 2015 need not; older ones should: information only."
            )
        )
    return notes
