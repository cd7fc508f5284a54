from __future__ import annotations

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from nqihub.core.access import MembershipRole, OrganizationKind

from .credit_code import credit_code_validator
from .querysets import (
    AuthorisationScopeQuerySet,
    EnterpriseRegistrationQuerySet,
    MembershipQuerySet,
    OrganizationQuerySet,
)


class Discipline(models.TextChoices):
    """The kinds of work a technical institution is set up for (one institution may do several)."""

    METROLOGY = "metrology", _("Metrology verification")
    TESTING = "testing", _("Inspection and testing")
    CERTIFICATION = "certification", _("Certification")
    STANDARDISATION = "standardisation", _("Standardisation")


class Organization(models.Model):
    """An enterprise, a technical institution or a regulator.

    One table for the three kinds keeps memberships, scoping and audit uniform; the fields
    that only one kind uses are blank for the others. ``division`` is the registered
    county-level division for enterprises and institutions, and the division a regulator
    governs (its level — 自治区, 盟市 or 旗县区 — is the division's level).
    """

    kind = models.CharField(_("kind"), max_length=16, choices=OrganizationKind.choices, db_index=True)
    name = models.CharField(_("name"), max_length=200)
    credit_code = models.CharField(
        _("unified social credit code"),
        max_length=18,
        unique=True,
        null=True,
        blank=True,
        validators=[credit_code_validator],
    )
    division = models.ForeignKey(
        "divisions.AdminDivision", verbose_name=_("division"), on_delete=models.PROTECT, related_name="organizations"
    )
    address = models.CharField(_("address"), max_length=300, blank=True)
    legal_representative = models.CharField(_("legal representative"), max_length=100, blank=True)
    industry = models.CharField(_("industry"), max_length=100, blank=True)
    phone = models.CharField(_("telephone"), max_length=40, blank=True)
    # Technical institutions (their disciplines are InstitutionDiscipline rows)
    cma_number = models.CharField(_("CMA certificate number"), max_length=40, blank=True)
    cnas_number = models.CharField(_("CNAS accreditation number"), max_length=40, blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    objects = OrganizationQuerySet.as_manager()

    class Meta:
        verbose_name = _("organisation")
        verbose_name_plural = _("organisations")
        ordering = ["name", "pk"]
        indexes = [models.Index(fields=["kind", "division"], name="org_kind_division_idx")]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("organizations:detail", args=[self.pk])

    @property
    def regulator_level(self) -> str | None:
        return self.division.level if self.kind == OrganizationKind.REGULATOR else None

    def get_disciplines_display(self) -> list[str]:
        return [d.get_discipline_display() for d in self.disciplines.all()]


class InstitutionDiscipline(models.Model):
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="disciplines")
    discipline = models.CharField(_("discipline"), max_length=20, choices=Discipline.choices)

    class Meta:
        verbose_name = _("discipline")
        verbose_name_plural = _("disciplines")
        ordering = ["discipline"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "discipline"], name="institution_discipline_unique")
        ]

    def __str__(self) -> str:
        return self.get_discipline_display()


class OrganizationContact(models.Model):
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="contacts")
    name = models.CharField(_("name"), max_length=100)
    title = models.CharField(_("position"), max_length=100, blank=True)
    phone = models.CharField(_("telephone"), max_length=40, blank=True)
    email = models.EmailField(_("email"), blank=True)
    is_primary = models.BooleanField(_("primary contact"), default=False)

    class Meta:
        verbose_name = _("contact")
        verbose_name_plural = _("contacts")
        ordering = ["-is_primary", "pk"]

    def __str__(self) -> str:
        return self.name


class AuthorisationScope(models.Model):
    """One line of what a technical institution is legally authorised to do, and where.

    Later modules fill it: metrology with catalogue items of mandatory verification
    (``subject_code`` = catalogue code), testing with CMA/CNAS capability lines. ``areas`` is
    the designated area (an empty set means the institution's own division and below).
    """

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="authorisation_scopes", verbose_name=_("institution")
    )
    discipline = models.CharField(_("discipline"), max_length=20, choices=Discipline.choices)
    subject_code = models.CharField(_("subject code"), max_length=64, blank=True, db_index=True)
    subject_name = models.CharField(_("subject"), max_length=200)
    basis = models.CharField(_("authorisation document"), max_length=200, blank=True)
    limitation = models.CharField(_("limitation"), max_length=300, blank=True)
    valid_from = models.DateField(_("valid from"), null=True, blank=True)
    valid_until = models.DateField(_("valid until"), null=True, blank=True)
    areas = models.ManyToManyField("divisions.AdminDivision", verbose_name=_("designated area"), blank=True)

    objects = AuthorisationScopeQuerySet.as_manager()

    class Meta:
        verbose_name = _("authorisation scope")
        verbose_name_plural = _("authorisation scopes")
        ordering = ["organization", "discipline", "subject_code"]

    def __str__(self) -> str:
        return f"{self.organization}: {self.subject_name}"


class Membership(models.Model):
    """A person acting for an organisation with a role. One person may hold several and
    switch which one they act for; ``is_default`` is the one they start with."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("account"), on_delete=models.CASCADE, related_name="memberships"
    )
    organization = models.ForeignKey(
        Organization, verbose_name=_("organisation"), on_delete=models.CASCADE, related_name="memberships"
    )
    role = models.CharField(_("role"), max_length=16, choices=MembershipRole.choices, default=MembershipRole.CLERK)
    is_active = models.BooleanField(_("active"), default=True)
    is_default = models.BooleanField(_("default"), default=False)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    objects = MembershipQuerySet.as_manager()

    class Meta:
        verbose_name = _("membership")
        verbose_name_plural = _("memberships")
        ordering = ["organization__name", "user__username"]
        constraints = [models.UniqueConstraint(fields=["user", "organization"], name="membership_unique_user_org")]

    def __str__(self) -> str:
        return f"{self.user} @ {self.organization} ({self.get_role_display()})"


class EnterpriseRegistration(models.Model):
    """An enterprise's online application to join the platform (企业注册申请).

    The county-level regulator of the enterprise's division approves it (which creates the
    organisation and makes the applicant its manager) or returns it with a reason, after
    which the applicant may correct and resubmit it. Its number, review state machine and
    timeline are its case's (``nqihub.cases``, kind ``enterprise_registration``); ``number`` and
    ``state`` are copies the kernel writes, kept here for the one-open-application constraint,
    the indexes and the searches.
    """

    class State(models.TextChoices):
        SUBMITTED = "submitted", _("Awaiting review")
        RETURNED = "returned", _("Returned for correction")
        APPROVED = "approved", _("Approved")
        WITHDRAWN = "withdrawn", _("Withdrawn")

    OPEN_STATES = (State.SUBMITTED, State.RETURNED)

    number = models.CharField(_("application number"), max_length=20, unique=True)
    applicant = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("applicant"),
        on_delete=models.PROTECT,
        related_name="enterprise_registrations",
    )
    credit_code = models.CharField(_("unified social credit code"), max_length=18, validators=[credit_code_validator])
    name = models.CharField(_("enterprise name"), max_length=200)
    division = models.ForeignKey(
        "divisions.AdminDivision", verbose_name=_("registered division"), on_delete=models.PROTECT, related_name="+"
    )
    address = models.CharField(_("address"), max_length=300)
    legal_representative = models.CharField(_("legal representative"), max_length=100)
    industry = models.CharField(_("industry"), max_length=100, blank=True)
    contact_name = models.CharField(_("contact person"), max_length=100)
    contact_phone = models.CharField(_("contact telephone"), max_length=40)
    contact_email = models.EmailField(_("contact email"), blank=True)
    # Written only by nqihub.cases.services (a copy of the case's state).
    state = models.CharField(_("state"), max_length=16, choices=State.choices, default=State.SUBMITTED, editable=False)
    submitted_at = models.DateTimeField(_("submitted"))
    reviewed_at = models.DateTimeField(_("reviewed"), null=True, blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("reviewer"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    return_reason = models.TextField(_("reason for return"), blank=True)
    organization = models.OneToOneField(
        Organization, null=True, blank=True, on_delete=models.PROTECT, related_name="registration"
    )
    case = models.OneToOneField("cases.Case", on_delete=models.PROTECT, related_name="registration", editable=False)

    objects = EnterpriseRegistrationQuerySet.as_manager()

    class Meta:
        verbose_name = _("enterprise registration")
        verbose_name_plural = _("enterprise registrations")
        ordering = ["-submitted_at", "-pk"]
        constraints = [
            # One open application per credit code, enforced by the database (race-safe).
            models.UniqueConstraint(
                fields=["credit_code"],
                condition=models.Q(state__in=["submitted", "returned"]),
                name="registration_one_open_per_code",
            )
        ]
        indexes = [models.Index(fields=["state", "division"], name="registration_state_div_idx")]

    def __str__(self) -> str:
        return f"{self.number} {self.name}"

    def get_absolute_url(self) -> str:
        return reverse("organizations:registration_detail", args=[self.pk])
