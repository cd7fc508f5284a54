"""Use cases of organisations, memberships and enterprise registration.

Each function is the one way its change is made — from a page, the API, the management
console or a command. They take the acting user explicitly, check what that user may do
through the ``for_user`` querysets, run in one transaction, lock what they change and write
one audit record with it. A refusal changes nothing and is itself recorded.
"""

from __future__ import annotations

from typing import Any, cast

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from nqihub.audit.service import apply_changes, audited_service, locked_for, may, requires
from nqihub.audit.services import audit_record
from nqihub.cases import services as cases
from nqihub.core.access import Capability, MembershipRole, OrganizationKind, has_capability
from nqihub.core.errors import INVALID, Conflict, Forbidden, InvalidInput, NotFound
from nqihub.divisions.models import AdminDivision

from . import errors
from .casekinds import REGISTRATION
from .credit_code import CreditCodeError, validate_credit_code
from .models import (
    Discipline,
    EnterpriseRegistration,
    InstitutionDiscipline,
    Membership,
    Organization,
    OrganizationContact,
)
from .selectors import credit_code_division_note
from .signals import organization_moved

REGISTRATION_FIELDS = (
    "credit_code",
    "name",
    "division",
    "address",
    "legal_representative",
    "industry",
    "contact_name",
    "contact_phone",
    "contact_email",
)
REQUIRED_REGISTRATION_FIELDS = (
    "credit_code",
    "name",
    "division",
    "address",
    "legal_representative",
    "contact_name",
    "contact_phone",
)


def _clean_credit_code(value: str, *, field: str = "credit_code") -> str:
    try:
        return validate_credit_code(value)
    except CreditCodeError as exc:
        raise InvalidInput(exc.messages[0], code=f"credit_code_{exc.code}", field=field) from exc


def _registered_county(division: AdminDivision | str | None) -> AdminDivision:
    code = division.pk if isinstance(division, AdminDivision) else division
    found = AdminDivision.objects.filter(pk=code, level=AdminDivision.Level.COUNTY, is_current=True).first()
    if found is None:
        raise InvalidInput(
            _("Choose the county-level division where the enterprise is registered."),
            code="division_not_county",
            field="division",
        )
    return found


def _clean_registration(data: dict[str, Any]) -> dict[str, Any]:
    cleaned = {k: (data.get(k) or "") for k in REGISTRATION_FIELDS}
    for key, value in cleaned.items():
        if isinstance(value, str):
            cleaned[key] = value.strip()
    missing = [k for k in REQUIRED_REGISTRATION_FIELDS if not cleaned[k]]
    if missing:
        raise InvalidInput(
            _("Please fill in every required field."),
            code="required",
            field=missing[0],
            errors={k: [_("This field is required.")] for k in missing},
        )
    cleaned["credit_code"] = _clean_credit_code(cleaned["credit_code"])
    cleaned["division"] = _registered_county(cleaned["division"])
    _confirm_division(cleaned, data.get("confirm_division"))
    return cleaned


def _confirm_division(cleaned: dict[str, Any], confirmed) -> None:
    """The same question the form asks, for every way in (page, API): when the code was issued in
    another division than the county chosen, the applicant confirms both before it goes in, so
    that a slip of the county does not have to reach the reviewer."""
    note = credit_code_division_note(cleaned["credit_code"], cleaned["division"])
    if note and str(confirmed).strip().lower() not in ("true", "1", "on", "yes"):
        raise errors.DIVISION_UNCONFIRMED(
            message=" ".join([note, _("If both are right, confirm the county and submit again.")]),
            field="division",
        )


def organization_check_code_free(
    credit_code: str, *, exclude_registration: int | None = None, exclude_organization: int | None = None
) -> None:
    taken = Organization.objects.filter(credit_code=credit_code)
    if exclude_organization is not None:
        taken = taken.exclude(pk=exclude_organization)
    if taken.exists():
        raise errors.CREDIT_CODE_REGISTERED(field="credit_code")
    open_apps = EnterpriseRegistration.objects.open().filter(credit_code=credit_code)
    if exclude_registration is not None:
        open_apps = open_apps.exclude(pk=exclude_registration)
    if open_apps.exists():
        raise errors.CREDIT_CODE_PENDING(field="credit_code")


def _credit_code(actor, **kwargs) -> dict[str, str] | None:
    """A submission's refusal names the code applied for (none when only permission was asked)."""
    if "data" not in kwargs:
        return None
    return {"credit_code": str(kwargs["data"].get("credit_code", ""))[:40]}


def _require_applicant(actor, **_kwargs) -> None:
    if not actor.is_authenticated or actor.staff_role:
        raise Forbidden(_("Platform staff accounts cannot apply for enterprises."), code="staff_cannot_apply")


def _registration_for(actor, registration_id: int, step: str) -> EnterpriseRegistration:
    """The application locked, the actor's right to take ``step`` asked again under the lock."""
    return locked_for(
        EnterpriseRegistration.objects.for_user(actor, "view"),
        EnterpriseRegistration.objects.for_user(actor, step),
        registration_id,
    )


def _check_state(registration: EnterpriseRegistration, *states: str) -> None:
    if registration.state not in states:
        raise Conflict(
            _("This application is %(state)s and can no longer be changed this way.")
            % {"state": registration.get_state_display()},
            code="invalid_state",
        )


@audited_service(
    "registration.submit",
    gettext_lazy("Enterprise registration submitted"),
    check=_require_applicant,
    details=_credit_code,
    conflict=lambda: Conflict(  # another application for the same code committed a moment ago
        _("An application for this unified social credit code is already being processed."),
        code="credit_code_pending",
        field="credit_code",
    ),
)
def registration_submit(*, actor, data: dict[str, Any]) -> EnterpriseRegistration:
    """An enterprise applies to join the platform with its credit code."""
    cleaned = _clean_registration(data)
    organization_check_code_free(cleaned["credit_code"])
    now = timezone.now()
    case = cases.case_open(kind=REGISTRATION.code, actor=actor, division=cleaned["division"], at=now)
    registration = EnterpriseRegistration.objects.create(
        case=case, number=case.number, state=case.state, applicant=actor, submitted_at=now, **cleaned
    )
    audit_record(
        action="registration.submit",
        actor=actor,
        target=registration,
        details={"credit_code": registration.credit_code},
    )
    return registration


@audited_service(
    "registration.resubmit",
    gettext_lazy("Enterprise registration resubmitted"),
    check=may(EnterpriseRegistration, "change", "registration"),
    target="registration",
    conflict=lambda: Conflict(code="credit_code_pending"),
)
def registration_resubmit(
    *, actor, registration: EnterpriseRegistration, data: dict[str, Any]
) -> EnterpriseRegistration:
    locked = _registration_for(actor, registration.pk, "change")
    _check_state(locked, EnterpriseRegistration.State.RETURNED)
    cleaned = _clean_registration(data)
    organization_check_code_free(cleaned["credit_code"], exclude_registration=locked.pk)
    for key, value in cleaned.items():
        setattr(locked, key, value)
    now = timezone.now()
    locked.submitted_at = now
    locked.save()
    cases.case_resubmit(locked.case, actor=actor, subject=locked, at=now)
    audit_record(action="registration.resubmit", actor=actor, target=locked)
    return locked


@audited_service(
    "registration.withdraw",
    gettext_lazy("Enterprise registration withdrawn"),
    check=may(EnterpriseRegistration, "withdraw", "registration"),
    target="registration",
)
def registration_withdraw(*, actor, registration: EnterpriseRegistration) -> EnterpriseRegistration:
    locked = _registration_for(actor, registration.pk, "withdraw")
    _check_state(locked, *EnterpriseRegistration.OPEN_STATES)
    cases.case_withdraw(locked.case, actor=actor, subject=locked)
    audit_record(action="registration.withdraw", actor=actor, target=locked)
    return locked


@audited_service(
    "registration.approve",
    gettext_lazy("Enterprise registration approved"),
    check=may(EnterpriseRegistration, "review", "registration"),
    target="registration",
    conflict=lambda: Conflict(code="credit_code_registered"),
)
def registration_approve(*, actor, registration: EnterpriseRegistration) -> EnterpriseRegistration:
    """The county regulator approves: the enterprise is created and the applicant becomes
    its manager, acting for it from their next request on."""
    locked = _registration_for(actor, registration.pk, "review")
    _check_state(locked, EnterpriseRegistration.State.SUBMITTED)
    if Organization.objects.filter(credit_code=locked.credit_code).exists():
        raise Conflict(
            _("An organisation with this unified social credit code is already registered on the platform."),
            code="credit_code_registered",
        )
    organization = Organization.objects.create(
        kind=OrganizationKind.ENTERPRISE,
        name=locked.name,
        credit_code=locked.credit_code,
        division=locked.division,
        address=locked.address,
        legal_representative=locked.legal_representative,
        industry=locked.industry,
    )
    OrganizationContact.objects.create(
        organization=organization,
        name=locked.contact_name,
        phone=locked.contact_phone,
        email=locked.contact_email,
        is_primary=True,
    )
    has_default = Membership.objects.filter(user=locked.applicant, is_default=True).exists()
    membership = Membership.objects.create(
        user=locked.applicant,
        organization=organization,
        role=MembershipRole.MANAGER,
        is_default=not has_default,
    )
    now = timezone.now()
    locked.organization = organization
    locked.reviewed_at = now
    locked.reviewed_by = actor
    locked.save()
    cases.case_approve(locked.case, actor=actor, subject=locked, at=now)
    cases.case_set_parties(locked.case, applicant_organization=organization)
    audit_record(
        action="registration.approve",
        actor=actor,
        target=locked,
        details={"organization_id": organization.pk, "membership_id": membership.pk},
    )
    return locked


@audited_service(
    "registration.return",
    gettext_lazy("Enterprise registration returned"),
    check=may(EnterpriseRegistration, "review", "registration"),
    target="registration",
)
def registration_return(*, actor, registration: EnterpriseRegistration, reason: str) -> EnterpriseRegistration:
    locked = _registration_for(actor, registration.pk, "review")  # who, before what
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput(
            _("Give the reason for returning the application, so the applicant can correct it."),
            code="reason_required",
            field="reason",
        )
    _check_state(locked, EnterpriseRegistration.State.SUBMITTED)
    now = timezone.now()
    locked.return_reason = reason[:2000]
    locked.reviewed_at = now
    locked.reviewed_by = actor
    locked.save()
    cases.case_return(locked.case, actor=actor, reason=locked.return_reason, subject=locked, at=now)
    audit_record(action="registration.return", actor=actor, target=locked, details={"reason": locked.return_reason})
    return locked


# --- Organisations ----------------------------------------------------------------------

ORGANIZATION_FIELDS = (
    "name",
    "credit_code",
    "division",
    "address",
    "legal_representative",
    "industry",
    "phone",
    "cma_number",
    "cnas_number",
)


def organization_clean_data(data: dict[str, Any], *, kind: str) -> dict[str, Any]:
    cleaned: dict[str, Any] = {}
    for key in ORGANIZATION_FIELDS:
        if key in data:
            value = data[key]
            cleaned[key] = value.strip() if isinstance(value, str) else value
    if "name" in cleaned and not cleaned["name"]:
        raise errors.REQUIRED(_("The name is required."), field="name")
    if cleaned.get("credit_code"):
        cleaned["credit_code"] = _clean_credit_code(cleaned["credit_code"])
    elif "credit_code" in cleaned:
        if kind == OrganizationKind.ENTERPRISE:
            raise errors.REQUIRED(_("An enterprise needs its unified social credit code."), field="credit_code")
        cleaned["credit_code"] = None
    if "division" in cleaned:
        division = cleaned["division"]
        code = division.pk if isinstance(division, AdminDivision) else division
        found = AdminDivision.objects.filter(pk=code, is_current=True).first()
        if found is None:
            raise errors.DIVISION_UNKNOWN(field="division")
        if kind != OrganizationKind.REGULATOR and found.level != AdminDivision.Level.COUNTY:
            raise errors.DIVISION_NOT_COUNTY(field="division")
        cleaned["division"] = found
    return cleaned


def _set_disciplines(organization: Organization, disciplines) -> None:
    wanted = {d for d in disciplines or [] if d in Discipline.values}
    InstitutionDiscipline.objects.filter(organization=organization).exclude(discipline__in=wanted).delete()
    have = set(InstitutionDiscipline.objects.filter(organization=organization).values_list("discipline", flat=True))
    InstitutionDiscipline.objects.bulk_create(
        [InstitutionDiscipline(organization=organization, discipline=d) for d in sorted(wanted - have)]
    )


@audited_service(
    "organization.create",
    gettext_lazy("Organisation created"),
    check=requires(Capability.MANAGE_ORGANIZATIONS),
    conflict=lambda: Conflict(code="credit_code_registered", field="credit_code"),
)
def organization_create(*, actor, kind: str, data: dict[str, Any], disciplines=None) -> Organization:
    """The system administrator adds an institution, a regulator or an enterprise."""
    if kind not in OrganizationKind.values:
        raise errors.INVALID_KIND(field="kind")
    cleaned = organization_clean_data(data, kind=kind)
    if "division" not in cleaned:
        raise errors.REQUIRED(_("Choose a division."), field="division")
    if cleaned.get("credit_code"):
        organization_check_code_free(cleaned["credit_code"])
    organization = Organization.objects.create(kind=kind, **cleaned)
    if kind == OrganizationKind.INSTITUTION:
        _set_disciplines(organization, disciplines)
    audit_record(action="organization.create", actor=actor, target=organization, details={"kind": kind})
    return organization


@audited_service(
    "organization.update",
    gettext_lazy("Organisation changed"),
    check=may(Organization, "change", "organization"),
    target="organization",
)
def organization_update(*, actor, organization: Organization, data: dict[str, Any], disciplines=None) -> Organization:
    """Change an organisation's profile: its own manager, or the system administrator.

    Enterprises cannot change their credit code or division here: those identify them and
    changing them is the system administrator's correction.
    """
    locked = locked_for(
        Organization.objects.for_user(actor, "view"), Organization.objects.for_user(actor, "change"), organization.pk
    )
    if not has_capability(actor, Capability.MANAGE_ORGANIZATIONS):
        data = {k: v for k, v in data.items() if k not in ("credit_code", "division")}
    cleaned = organization_clean_data(data, kind=locked.kind)
    if cleaned.get("credit_code") and cleaned["credit_code"] != locked.credit_code:
        if Organization.objects.filter(credit_code=cleaned["credit_code"]).exclude(pk=locked.pk).exists():
            raise errors.CREDIT_CODE_REGISTERED(field="credit_code")
    old_division_id = locked.division_id
    changes = apply_changes(locked, cleaned, lambda value: str(getattr(value, "pk", value) or ""))
    try:
        locked.full_clean(exclude=["division"])
    except ValidationError as exc:
        raise INVALID("; ".join(exc.messages)) from exc
    locked.save()
    if disciplines is not None and locked.kind == OrganizationKind.INSTITUTION:
        _set_disciplines(locked, disciplines)
    details: dict[str, Any] = {"changes": changes}
    if locked.division_id != old_division_id:
        moved = organization_moved.send(
            sender=Organization,
            organization=locked,
            old_division_id=old_division_id,
            new_division_id=locked.division_id,
        )
        details["moved"] = {
            name: count for _receiver, result in moved for name, count in cast(dict, result or {}).items()
        }
    audit_record(action="organization.update", actor=actor, target=locked, details=details)
    return locked


def organization_set_active(*, actor, organization: Organization, active: bool) -> Organization:
    """The system administrator activates or deactivates an organisation."""
    return (_organization_activate if active else _organization_deactivate)(actor=actor, organization=organization)


def _set_organization_active(actor, organization: Organization, *, active: bool, action: str) -> Organization:
    locked = Organization.objects.select_for_update().get(pk=organization.pk)
    locked.is_active = active
    locked.save(update_fields=["is_active", "updated_at"])
    audit_record(action=action, actor=actor, target=locked)
    return locked


@audited_service(
    "organization.activate",
    gettext_lazy("Organisation activated"),
    check=requires(Capability.MANAGE_ORGANIZATIONS),
    target="organization",
)
def _organization_activate(*, actor, organization: Organization) -> Organization:
    return _set_organization_active(actor, organization, active=True, action="organization.activate")


@audited_service(
    "organization.deactivate",
    gettext_lazy("Organisation deactivated"),
    check=requires(Capability.MANAGE_ORGANIZATIONS),
    target="organization",
)
def _organization_deactivate(*, actor, organization: Organization) -> Organization:
    return _set_organization_active(actor, organization, active=False, action="organization.deactivate")


# --- Memberships (role grants) --------------------------------------------------------


def membership_grant_check(*, actor, user, role: str) -> None:
    """The rules of a role grant, raised as ServiceError (the console form shows them)."""
    if not has_capability(actor, Capability.GRANT_ROLES):
        raise Forbidden()
    if role not in MembershipRole.values:
        raise errors.INVALID_ROLE(field="role")
    if user.staff_role:
        raise errors.STAFF_NO_MEMBERSHIP(field="user")


def _grantee(actor, **kwargs) -> dict[str, str] | None:
    return {"user": getattr(kwargs["user"], "username", "")} if "user" in kwargs else None


@audited_service(
    "membership.grant", gettext_lazy("Role granted"), check=requires(Capability.GRANT_ROLES), details=_grantee
)
def membership_grant(*, actor, user, organization: Organization, role: str) -> Membership:
    """Give a person a role in an organisation (or change it). Security administrator only."""
    membership_grant_check(actor=actor, user=user, role=role)
    membership, created = Membership.objects.select_for_update().get_or_create(
        user=user,
        organization=organization,
        defaults={"role": role, "is_default": not Membership.objects.filter(user=user).exists()},
    )
    before = None if created else membership.role
    if not created:
        membership.role = role
        membership.is_active = True
        membership.save(update_fields=["role", "is_active"])
    audit_record(
        action="membership.grant",
        actor=actor,
        target=membership,
        organization=None,
        details={"user": user.username, "organization_id": organization.pk, "role": role, "before": before},
    )
    return membership


@audited_service(
    "membership.revoke", gettext_lazy("Role revoked"), check=requires(Capability.GRANT_ROLES), target="membership"
)
def membership_revoke(*, actor, membership: Membership) -> Membership:
    locked = Membership.objects.select_for_update().get(pk=membership.pk)
    locked.is_active = False
    locked.save(update_fields=["is_active"])
    audit_record(action="membership.revoke", actor=actor, target=locked)
    return locked


@audited_service(
    "membership.switch",
    gettext_lazy("Organisation switched"),
    details=lambda actor, **kw: {"organization_id": str(kw["organization_id"])},
)
def membership_switch(*, actor, organization_id) -> Membership:
    """Which of their organisations a person acts for from now on (recorded, since every
    later record names that organisation)."""
    from nqihub.core.access import resolve_acting_membership

    membership = resolve_acting_membership(actor, organization_id)
    if membership is None:
        raise NotFound()
    audit_record(action="membership.switch", actor=actor, target=membership, organization=membership.organization)
    return membership
