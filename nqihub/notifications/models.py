from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from nqihub.core.scoping import ScopedQuerySet, own_organization


class NoticeQuerySet(ScopedQuerySet):
    # A notice is for an organisation: the people acting for it read it.
    scope = {"view": (own_organization(),)}

    def unread(self) -> NoticeQuerySet:
        return self.filter(read_at__isnull=True)


class Notice(models.Model):
    """An in-app notice to an organisation (due reminders, decisions on its applications).
    ``kind`` + ``key`` identify what it is about, so one thing is announced once."""

    organization = models.ForeignKey(
        "organizations.Organization", verbose_name=_("organisation"), on_delete=models.CASCADE, related_name="notices"
    )
    kind = models.CharField(_("kind"), max_length=32, db_index=True)
    key = models.CharField(_("about"), max_length=100, blank=True)
    title = models.CharField(_("title"), max_length=200)
    body = models.TextField(_("text"), blank=True)
    link = models.CharField(_("link"), max_length=300, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True, db_index=True)
    read_at = models.DateTimeField(_("read"), null=True, blank=True)

    objects = NoticeQuerySet.as_manager()

    class Meta:
        verbose_name = _("notice")
        verbose_name_plural = _("notices")
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "kind", "key"], condition=~models.Q(key=""), name="notice_once_per_key"
            )
        ]
        indexes = [models.Index(fields=["organization", "read_at"], name="notice_unread_idx")]

    def __str__(self) -> str:
        return self.title
