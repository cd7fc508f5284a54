"""Background exports: one row per export a person asked for, its state and its file."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from django_fsm import FSMField, FSMModelMixin, transition

from nqihub.core.scoping import ScopedQuerySet, own_user
from nqihub.tables.jobs import BackgroundJob


def _still_acting_for_organization(actor) -> Q:
    from nqihub.organizations.models import Membership

    still_member = Membership.objects.active().filter(user=actor.user).values("organization_id")
    return Q(created_by=actor.user) & (Q(organization__isnull=True) | Q(organization__in=still_member))


class ExportJobQuerySet(ScopedQuerySet):
    """A person sees only the exports they asked for themselves (nobody else's, whatever
    their role). They download one only while they still act for the organisation they
    made it for: a person who left it (or whose organisation was deactivated) no longer
    takes its data away."""

    scope = {"view": (own_user("created_by"),), "download": (_still_acting_for_organization,)}


class ExportJob(FSMModelMixin, BackgroundJob):
    """One export run in the background (``nqihub.downloads.services.export_start``): the
    search as given, re-applied in the task with the person's permissions at that time; the
    workbook goes to the default storage and is deleted after ``NQI_EXPORT_RETENTION_DAYS``
    (the row stays, with its counts)."""

    class State(models.TextChoices):
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Exporting")
        DONE = "done", _("Ready")
        # Translators: an export that could not be made (失败, not 不合格)
        FAILED = "failed", pgettext_lazy("export state", "Failed")

    RUNNING_STATES = (State.RUNNING,)

    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("requested by"), on_delete=models.PROTECT, related_name="+"
    )
    # The organisation the person acted for: the task acts for it again (and checks that it
    # still may). Empty for someone acting for none (platform staff).
    organization = models.ForeignKey(
        "organizations.Organization",
        verbose_name=_("organisation"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="export_jobs",
    )
    kind = models.CharField(_("kind"), max_length=64)
    params = models.JSONField(_("search"), default=dict, blank=True)
    title = models.CharField(_("title"), max_length=200)
    state = FSMField(_("state"), max_length=16, choices=State.choices, default=State.QUEUED, protected=True)
    rows_written = models.PositiveIntegerField(_("rows"), default=0)
    total_rows = models.PositiveIntegerField(_("rows expected"), null=True, blank=True)
    file = models.FileField(upload_to="downloads/%Y/%m/", blank=True)
    sha256 = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    error = models.TextField(_("error"), blank=True)

    objects = ExportJobQuerySet.as_manager()

    class Meta:
        verbose_name = _("background export")
        verbose_name_plural = _("background exports")
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["created_by", "created_at"], name="exportjob_owner_idx")]

    def __str__(self) -> str:
        return self.title

    @transition(field=state, source=State.QUEUED, target=State.RUNNING)
    def start(self, *, at) -> None:
        self.started_at = at

    @transition(field=state, source=State.RUNNING, target=State.DONE)
    def finish(self, *, at, rows: int, sha256: str) -> None:
        self.finished_at, self.rows_written, self.sha256, self.error = at, rows, sha256, ""

    @transition(field=state, source=[State.QUEUED, State.RUNNING], target=State.FAILED)
    def fail(self, *, at, message: str) -> None:
        self.finished_at, self.error = at, message

    @transition(field=state, source=State.RUNNING, target=State.QUEUED)
    def requeue(self) -> None:
        """The worker died: make the file again."""

    @property
    def finished(self) -> bool:
        return self.state in (self.State.DONE, self.State.FAILED)

    @property
    def progress(self) -> int | None:
        """Percent written, when the number of rows to expect is known."""
        if self.state == self.State.DONE:
            return 100
        if not self.total_rows:
            return None
        return min(99, int(100 * self.rows_written / self.total_rows))
