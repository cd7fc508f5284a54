"""两库: the inspection-object pool (检查对象名录库: enterprises and their products, with risk
attributes) and the inspector pool (执法检查人员名录库, with declared conflicts). The institution
pool is the testing institutions whose CMA capability (``AuthorisationScope``, discipline
``testing``, ``subject_code`` = product category code) covers a category."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from ..querysets import ConflictQuerySet, InspectorQuerySet, PoolObjectQuerySet


class PoolObject(models.Model):
    """An enterprise and one of its products as an object of inspection: the product as the
    6-month rule identifies it (producer, standard, brand, model), where it is (the enterprise's
    division, copied so strata and jurisdiction need no join), and the risk that weights draws."""

    class Role(models.TextChoices):
        PRODUCER = "producer", _("Producer")
        SELLER = "seller", _("Seller")

    organization = models.ForeignKey(
        "organizations.Organization", verbose_name=_("enterprise"), on_delete=models.PROTECT, related_name="+"
    )
    division = models.ForeignKey(
        "divisions.AdminDivision", verbose_name=_("division"), on_delete=models.PROTECT, related_name="+"
    )
    category = models.ForeignKey(
        "sampling.ProductCategory", verbose_name=_("product category"), on_delete=models.PROTECT, related_name="+"
    )
    role = models.CharField(_("role"), max_length=16, choices=Role.choices, default=Role.PRODUCER)
    product_name = models.CharField(_("product"), max_length=200)
    brand = models.CharField(_("brand"), max_length=100, blank=True)
    model = models.CharField(_("model or specification"), max_length=100, blank=True)
    standard = models.CharField(_("product standard"), max_length=100, blank=True)
    # The producer named on the product, when the enterprise sells it (a platform organisation
    # where it is one, and the name as printed either way).
    producer = models.ForeignKey(
        "organizations.Organization",
        verbose_name=_("named producer"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    producer_name = models.CharField(_("named producer"), max_length=200, blank=True)
    # Risk attributes (风险属性); ``risk_score`` is computed from them and earlier results.
    complaints = models.PositiveIntegerField(_("complaints (12 months)"), default=0)
    earlier_failures = models.PositiveIntegerField(_("earlier failures"), default=0)
    abnormal_listed = models.BooleanField(_("on the abnormal-operations list"), default=False)
    risk_score = models.DecimalField(_("risk score"), max_digits=6, decimal_places=2, default=1)
    is_active = models.BooleanField(_("in the pool"), default=True)
    created_at = models.DateTimeField(_("added"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    objects = PoolObjectQuerySet.as_manager()

    class Meta:
        verbose_name = _("inspection object")
        verbose_name_plural = _("inspection objects")
        ordering = ["division", "category", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "category", "product_name", "brand", "model", "standard"],
                name="sampling_pool_object_unique",
            ),
            models.CheckConstraint(condition=models.Q(risk_score__gt=0), name="sampling_pool_risk_positive"),
        ]
        indexes = [
            # A draw reads the active pool of a jurisdiction and category: one index range.
            models.Index(
                fields=["category", "division"], condition=models.Q(is_active=True), name="sampling_pool_draw_idx"
            ),
        ]

    def __str__(self) -> str:
        parts = [self.product_name, self.brand, self.model]
        return " ".join(p for p in parts if p)

    @property
    def producer_display(self) -> str:
        if self.producer_id:
            return str(self.producer)
        return self.producer_name or (str(self.organization) if self.role == self.Role.PRODUCER else "")


class Inspector(models.Model):
    """A member of the enforcement staff pool: who, with which enforcement certificate, in which
    office, for which fields, and whether available now."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("account"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="sampling_inspector",
    )
    name = models.CharField(_("name"), max_length=50)
    enforcement_number = models.CharField(_("enforcement certificate number"), max_length=40, unique=True)
    office = models.ForeignKey(
        "organizations.Organization", verbose_name=_("office"), on_delete=models.PROTECT, related_name="+"
    )
    division = models.ForeignKey("divisions.AdminDivision", on_delete=models.PROTECT, related_name="+", editable=False)
    fields = models.ManyToManyField("sampling.ProductCategory", verbose_name=_("fields"), blank=True, related_name="+")
    is_available = models.BooleanField(_("available"), default=True)
    unavailable_until = models.DateField(_("unavailable until"), null=True, blank=True)
    certificate_valid_until = models.DateField(_("certificate valid until"), null=True, blank=True)

    objects = InspectorQuerySet.as_manager()

    class Meta:
        verbose_name = _("inspector")
        verbose_name_plural = _("inspectors")
        ordering = ["division", "name", "pk"]

    def __str__(self) -> str:
        return f"{self.name} ({self.enforcement_number})"


class InspectorConflict(models.Model):
    """A conflict of interest an inspector declared with an enterprise (利害关系): the draw never
    sends them there."""

    inspector = models.ForeignKey(Inspector, on_delete=models.CASCADE, related_name="conflicts")
    organization = models.ForeignKey(
        "organizations.Organization", verbose_name=_("enterprise"), on_delete=models.PROTECT, related_name="+"
    )
    reason = models.CharField(_("reason"), max_length=300)
    declared_at = models.DateTimeField(_("declared"))

    objects = ConflictQuerySet.as_manager()

    class Meta:
        verbose_name = _("declared conflict")
        verbose_name_plural = _("declared conflicts")
        constraints = [
            models.UniqueConstraint(fields=["inspector", "organization"], name="sampling_conflict_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.inspector} ↔ {self.organization}"
