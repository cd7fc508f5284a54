from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from .querysets import AdminDivisionQuerySet


class AdminDivision(models.Model):
    """One administrative division code of GB/T 2260 (current or historic).

    ``path`` is the chain of codes from the province down, each followed by "/", e.g.
    ``150000/150200/150203/``. Jurisdiction scoping is a prefix match on it, which works the
    same on SQLite and PostgreSQL and also covers county-level units placed directly under a
    province (省直辖县级市), where the code itself is no prefix of the parent's.
    """

    class Level(models.TextChoices):
        PROVINCE = "province", _("Province / autonomous region")
        PREFECTURE = "prefecture", _("Prefecture / league / city")
        COUNTY = "county", _("County / banner / district")

    code = models.CharField(_("code"), max_length=6, primary_key=True)
    name = models.CharField(_("name"), max_length=64)
    level = models.CharField(_("level"), max_length=16, choices=Level.choices)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("parent"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )
    path = models.CharField(_("path"), max_length=64, db_index=True, editable=False)
    is_current = models.BooleanField(_("in force"), default=True)
    valid_until = models.PositiveSmallIntegerField(
        _("last year in force"), null=True, blank=True, help_text=_("Only for historic codes.")
    )
    source = models.CharField(_("source"), max_length=200, blank=True)

    objects = AdminDivisionQuerySet.as_manager()

    class Meta:
        verbose_name = _("administrative division")
        verbose_name_plural = _("administrative divisions")
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.name}（{self.code}）"

    def save(self, *args, **kwargs) -> None:
        self.path = self.compute_path()
        super().save(*args, **kwargs)

    def compute_path(self) -> str:
        prefix = self.parent.path if self.parent_id and self.parent else ""
        return f"{prefix}{self.code}/"

    def contains(self, other: AdminDivision) -> bool:
        return other.path.startswith(self.path)
