"""``manage.py seed_metrology_demo``: instruments, filings and verification history on top of
the demo of ``seed_demo`` (see :mod:`nqihub.metrology.demo`)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from nqihub.core import context
from nqihub.metrology.demo import DEFAULT_INSTRUMENTS, SEED, NotReady, build_metrology_demo


class Command(BaseCommand):
    help = (
        "Load metrology demo data after seed_demo: about 100,000 instruments over the demo "
        "enterprises, 强检备案, verification applications, results and documents (some due "
        "soon, some overdue, some failed), demo tariffs and waiver policies, and per-item "
        "authorisation scopes of the metrology institutes. Deterministic; does nothing if "
        "instruments are already there."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--instruments",
            type=int,
            default=DEFAULT_INSTRUMENTS,
            help="How many instruments to generate (default %(default)s).",
        )
        parser.add_argument("--seed", type=int, default=SEED, help="Random seed (default %(default)s).")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["instruments"] < 1:
            raise CommandError("--instruments must be at least 1.")
        with context.use(context.RequestContext(channel="cli")):
            try:
                result = build_metrology_demo(total=options["instruments"], seed=options["seed"])
            except NotReady as exc:
                raise CommandError(str(exc)) from exc
        if not result.created:
            self.stdout.write(self.style.WARNING(result.message))
            return
        width = max(len(key) for key in result.counts)
        self.stdout.write(self.style.SUCCESS("Metrology demo data loaded in %.1f s:" % result.seconds))
        for key, value in result.counts.items():
            shown = f"{value:>14,.2f}" if isinstance(value, Decimal) else f"{value:>11,}"
            self.stdout.write(f"  {key:<{width}}  {shown}")
        self.stdout.write(
            "Verification staff accounts: jl_<area>_1 (manager), jl_<area>_2, jl_<area>_3 "
            "(e.g. jl_150200_1 for 包头市质量技术监督检验测试所, jl_150000_1 for the regional institute); "
            "same password as the other demo accounts."
        )
