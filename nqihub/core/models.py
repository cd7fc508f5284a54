"""Tables of the platform core."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class RateCounter(models.Model):
    """One fixed window of one rate limit (``nqihub.core.ratelimit``) when the counters live in
    the database: every app server counts in the same row, raised by one atomic statement.

    Django's database cache cannot serve here: its ``incr`` reads and writes back a pickled
    value, so two servers counting at once lose hits."""

    key = models.CharField(_("key"), max_length=200)
    window_start = models.BigIntegerField(_("window start"), help_text=_("Seconds since the epoch."))
    expires_at = models.BigIntegerField(_("expires at"), db_index=True, help_text=_("Seconds since the epoch."))
    hits = models.PositiveIntegerField(_("hits"), default=0)

    class Meta:
        verbose_name = _("rate counter")
        verbose_name_plural = _("rate counters")
        constraints = [models.UniqueConstraint(fields=["key", "window_start"], name="core_ratecounter_key_window")]

    def __str__(self) -> str:
        return f"{self.key} @ {self.window_start}: {self.hits}"
