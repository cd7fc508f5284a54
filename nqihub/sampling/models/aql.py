"""The GB/T 2828.1 switching rules as data: one row, edited by the system administrator.

The rules (normal ↔ tightened ↔ reduced, discontinuation, the switching score) were written from
memory of ISO 2859-1:1999 clause 9 and not checked against the standard's text, so their numbers,
source and verification state are data the administrator corrects; ``aql.next_severity`` applies
them. The sampling tables themselves are a standard's tables and live in ``nqihub/sampling/aql.py``.
"""

from __future__ import annotations

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from .. import aql


class Evidence(models.TextChoices):
    """How far a rule was checked, in the terms of the project's domain facts."""

    VERIFIED = aql.VERIFIED, _("Verified against the official text")
    CORROBORATED = aql.CORROBORATED, _("Corroborated by several sources")
    UNVERIFIED = aql.UNVERIFIED, _("Not verified: check before relying on it")


def _count(label, default, *, maximum=100, help_text=""):
    return models.PositiveSmallIntegerField(
        label, default=default, validators=[MinValueValidator(1), MaxValueValidator(maximum)], help_text=help_text
    )


class SwitchingRules(models.Model):
    """The switching rules of GB/T 2828.1-2012 clause 9 (one row, pk 1)."""

    tighten_rejections = _count(
        _("normal → tightened: lots not accepted"), 2, help_text=_("Within the window of consecutive lots below.")
    )
    tighten_window = _count(_("normal → tightened: window of consecutive lots"), 5)
    restore_accepted = _count(_("tightened → normal: consecutive lots accepted"), 5)
    reduce_score = _count(_("normal → reduced: switching score at least"), 30, maximum=1000)
    score_step_ac2 = _count(
        _("score added when Ac ≥ 2"), 3, help_text=_("When the lot would also be accepted one AQL step tighter.")
    )
    score_step_ac01 = _count(_("score added when Ac is 0 or 1"), 2, help_text=_("When the lot is accepted."))
    discontinue_rejections = _count(_("tightened → discontinued: lots not accepted"), 5)
    rule_text = models.TextField(_("rules as written"), help_text=_("The rules in words, as in the source."))
    source = models.CharField(_("source"), max_length=300)
    evidence = models.CharField(
        _("evidence"),
        max_length=16,
        choices=Evidence.choices,
        default=Evidence.UNVERIFIED,
        help_text=_("Unverified rules are shown as such and must be checked before they are relied on."),
    )
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    NUMBERS = (
        "tighten_rejections",
        "tighten_window",
        "restore_accepted",
        "reduce_score",
        "score_step_ac2",
        "score_step_ac01",
        "discontinue_rejections",
    )

    class Meta:
        verbose_name = _("GB/T 2828.1 switching rules")
        verbose_name_plural = _("GB/T 2828.1 switching rules")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(tighten_rejections__lte=models.F("tighten_window")),
                name="sampling_switching_rejections_within_window",
            )
        ]

    def __str__(self) -> str:
        return str(self._meta.verbose_name)

    def as_rules(self) -> aql.Rules:
        return aql.Rules(**{name: getattr(self, name) for name in self.NUMBERS})
