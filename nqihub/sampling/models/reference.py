"""一单一细则: product categories, the inspection-item list (抽查事项清单), the versioned 实施细则
with their test items, and the rules of the procedure as editable data with their source."""

from __future__ import annotations

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from ..querysets import CategoryQuerySet, ReferenceQuerySet, RulesQuerySet, TestItemQuerySet


class ProductCategory(models.Model):
    """A product category of supervision sampling (乳制品, 羊绒制品, 稀土永磁材料 …). A testing
    institution's CMA capability covers categories: its ``AuthorisationScope`` rows of discipline
    ``testing`` carry the category's code as ``subject_code``."""

    code = models.CharField(_("code"), max_length=20, unique=True)
    name = models.CharField(_("name"), max_length=100)
    parent = models.ForeignKey(
        "self", verbose_name=_("parent"), null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    is_active = models.BooleanField(_("active"), default=True)

    objects = CategoryQuerySet.as_manager()

    class Meta:
        verbose_name = _("product category")
        verbose_name_plural = _("product categories")
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class InspectionItem(models.Model):
    """One line of the random-inspection item list (随机抽查事项清单): what is checked, on what
    legal basis, by which method, whether it is a key item (ratio uncapped) or a general one
    (ratio capped by the rules), and how often. Kept by a regulator for its division."""

    class Importance(models.TextChoices):
        GENERAL = "general", _("General item")
        KEY = "key", _("Key item")

    class Method(models.TextChoices):
        SAMPLE_TEST = "sample_test", _("Sampling and testing")
        ON_SITE = "on_site", _("On-site inspection")

    code = models.CharField(_("item code"), max_length=40)
    name = models.CharField(_("item"), max_length=200)
    category = models.ForeignKey(
        ProductCategory, verbose_name=_("product category"), on_delete=models.PROTECT, related_name="items"
    )
    legal_basis = models.CharField(_("legal basis"), max_length=500)
    method = models.CharField(_("method"), max_length=16, choices=Method.choices, default=Method.SAMPLE_TEST)
    importance = models.CharField(_("importance"), max_length=16, choices=Importance.choices)
    ratio_percent = models.DecimalField(
        _("sampling ratio (%)"),
        max_digits=5,
        decimal_places=2,
        validators=[MinValueValidator(0), MaxValueValidator(100)],
    )
    frequency_per_year = models.PositiveSmallIntegerField(_("times a year"), default=1)
    owner = models.ForeignKey(
        "organizations.Organization", verbose_name=_("kept by"), on_delete=models.PROTECT, related_name="+"
    )
    division = models.ForeignKey("divisions.AdminDivision", on_delete=models.PROTECT, related_name="+", editable=False)
    is_active = models.BooleanField(_("active"), default=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    objects = ReferenceQuerySet.as_manager()

    class Meta:
        verbose_name = _("inspection item")
        verbose_name_plural = _("inspection items")
        ordering = ["code"]
        constraints = [
            models.UniqueConstraint(fields=["owner", "code"], name="sampling_item_code_unique"),
            models.CheckConstraint(
                condition=models.Q(ratio_percent__gte=0, ratio_percent__lte=100), name="sampling_item_ratio_0_100"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class InspectionRules(models.Model):
    """A version of an item's implementation rules (实施细则): how many units are taken and how the
    product is judged. A new version supersedes the current one; records keep the version they used."""

    item = models.ForeignKey(InspectionItem, on_delete=models.PROTECT, related_name="rules_versions")
    version = models.PositiveSmallIntegerField(_("version"))
    title = models.CharField(_("title"), max_length=200)
    effective_from = models.DateField(_("effective from"))
    superseded_on = models.DateField(_("superseded on"), null=True, blank=True)
    test_quantity = models.PositiveSmallIntegerField(_("units for testing"), validators=[MinValueValidator(1)])
    spare_quantity = models.PositiveSmallIntegerField(_("spare units"), default=0)
    sampling_method = models.TextField(_("how samples are taken"), blank=True)
    judgement_rule = models.TextField(
        _("judgement rule"), default="所检项目全部符合要求的，判定为合格；任一项目不符合要求的，判定为不合格。"
    )

    objects = RulesQuerySet.as_manager()

    class Meta:
        verbose_name = _("implementation rules")
        verbose_name_plural = _("implementation rules")
        ordering = ["item", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["item", "version"], name="sampling_rules_version_unique"),
            models.UniqueConstraint(
                fields=["item"], condition=models.Q(superseded_on__isnull=True), name="sampling_rules_one_current"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.title} v{self.version}"


class TestItem(models.Model):
    """One test item of a version of the rules, with its limit and how it is judged."""

    class Judgement(models.TextChoices):
        RANGE = "range", _("Within the limits")
        TEXT = "text", _("Meets the requirement (judged by the tester)")

    rules = models.ForeignKey(InspectionRules, on_delete=models.CASCADE, related_name="test_items")
    seq = models.PositiveSmallIntegerField(_("no."))
    name = models.CharField(_("test item"), max_length=200)
    method_standard = models.CharField(_("test method"), max_length=200, blank=True)
    requirement = models.CharField(_("requirement"), max_length=300)
    judgement = models.CharField(_("judged"), max_length=8, choices=Judgement.choices, default=Judgement.RANGE)
    lower = models.DecimalField(_("lower limit"), max_digits=14, decimal_places=4, null=True, blank=True)
    upper = models.DecimalField(_("upper limit"), max_digits=14, decimal_places=4, null=True, blank=True)
    unit = models.CharField(_("unit"), max_length=30, blank=True)
    is_key = models.BooleanField(_("key test item"), default=False)

    objects = TestItemQuerySet.as_manager()

    class Meta:
        verbose_name = _("test item")
        verbose_name_plural = _("test items")
        ordering = ["rules", "seq"]
        constraints = [
            models.UniqueConstraint(fields=["rules", "seq"], name="sampling_test_item_seq_unique"),
            models.CheckConstraint(
                condition=models.Q(lower__isnull=True)
                | models.Q(upper__isnull=True)
                | models.Q(lower__lte=models.F("upper")),
                name="sampling_test_item_limits_ordered",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.seq}. {self.name}"


class SamplingRule(models.Model):
    """A number the procedure runs on (days to object, to correct, to re-check, to disclose; the
    repeat window; the minimum of inspectors …), kept as data with where it comes from and how far
    that was verified, because several are cited second-hand (see the project's domain facts).
    Read through ``services.rules.rule(code)``; changed by the system administrator."""

    class Unit(models.TextChoices):
        DAYS = "days", _("days")
        WORKING_DAYS = "working_days", _("working days")
        MONTHS = "months", _("months")
        PERCENT = "percent", _("per cent")
        COUNT = "count", _("count")

    class Verification(models.TextChoices):
        VERIFIED = "verified", _("Verified against the text")
        CORROBORATED = "corroborated", _("Corroborated by several sources")
        UNVERIFIED = "unverified", _("Not verified")

    code = models.CharField(_("code"), max_length=40, unique=True)
    label = models.CharField(_("rule"), max_length=200)
    value = models.PositiveIntegerField(_("value"))
    unit = models.CharField(_("unit"), max_length=16, choices=Unit.choices)
    source = models.CharField(_("source"), max_length=500)
    verification = models.CharField(
        _("verification"), max_length=16, choices=Verification.choices, default=Verification.UNVERIFIED
    )
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("sampling rule")
        verbose_name_plural = _("sampling rules")
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.label}: {self.value} {self.get_unit_display()}"
