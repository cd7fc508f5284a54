"""``manage.py seed_sampling_demo``: a year of supervision sampling on top of the demo of
``seed_demo`` (see :mod:`nqihub.sampling.demo`)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from nqihub.core import context
from nqihub.sampling.demo import SEED, NotReady, build_sampling_demo


class Command(BaseCommand):
    help = (
        "Load supervision-sampling demo data after seed_demo: the item list, the two pools, plans, "
        "batches of every type with their draws, sampling records at every stage, results, objections, "
        "the handling of failures and published results. Deterministic; does nothing if plans exist."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--seed", type=int, default=SEED, help="Random seed (default %(default)s).")

    def handle(self, *args: Any, **options: Any) -> None:
        with context.use(context.RequestContext(channel="cli")):
            try:
                result = build_sampling_demo(seed=options["seed"])
            except NotReady as exc:
                raise CommandError(str(exc)) from exc
        if not result.created:
            self.stdout.write(self.style.WARNING(result.message))
            return
        self.stdout.write(self.style.SUCCESS("Supervision-sampling demo data loaded in %.1f s:" % result.seconds))
        width = max(len(key) for key in result.counts)
        for key, value in result.counts.items():
            self.stdout.write(f"  {key:<{width}}  {value:>8,}")
