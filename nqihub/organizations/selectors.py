"""Reads shared by pages, dashboards and exports."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.db.models import Count

from nqihub.core.access import get_actor

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
