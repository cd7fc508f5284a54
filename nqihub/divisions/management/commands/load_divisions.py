"""``manage.py load_divisions [--csv PATH | --stdnum [--province 15]]``.

Without options it (re)loads the bundled Inner Mongolia CSV, which is what the data migration
installs. ``--stdnum`` reads python-stdnum's loc.dat, the whole country unless ``--province``
is given; use it to cover other provinces until an official 民政部 list is bundled.
Loading is an upsert by code, so running it again changes nothing.
"""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser

from nqihub.divisions.loaders import (
    INNER_MONGOLIA_CSV,
    load_division_rows,
    read_csv,
    rows_from_stdnum,
)


class Command(BaseCommand):
    help = "Load GB/T 2260 administrative division codes from a CSV file or from python-stdnum."

    def add_arguments(self, parser: CommandParser) -> None:
        source = parser.add_mutually_exclusive_group()
        source.add_argument(
            "--csv",
            dest="csv_path",
            type=Path,
            help="CSV with columns code,name,level,parent_code,is_current,valid_until,source "
            f"(default: {INNER_MONGOLIA_CSV.name}).",
        )
        source.add_argument("--stdnum", action="store_true", help="Read python-stdnum's cn/loc.dat.")
        parser.add_argument(
            "--province",
            help="With --stdnum: only this two-digit province prefix, e.g. 15 for Inner Mongolia.",
        )

    def handle(
        self,
        *args,
        csv_path: Path | None,
        stdnum: bool,
        province: str | None,
        **options,
    ) -> None:
        if province is not None and not stdnum:
            raise CommandError("--province only applies to --stdnum.")
        if province is not None and not (len(province) == 2 and province.isdigit()):
            raise CommandError("--province takes a two-digit code such as 15.")
        try:
            if stdnum:
                rows = rows_from_stdnum(province)
                label = f"python-stdnum loc.dat ({f'province {province}' if province else 'whole country'})"
            else:
                path = csv_path or INNER_MONGOLIA_CSV
                rows = read_csv(path)
                label = Path(path).name if path == INNER_MONGOLIA_CSV else str(path)
            if not rows:
                raise CommandError(f"No divisions found in {label}.")
            created, updated = load_division_rows(rows, source=label)
        except (OSError, ValueError) as exc:
            raise CommandError(str(exc)) from exc
        from nqihub.audit.services import audit_record

        audit_record(
            action="divisions.load",
            target=("divisions.admindivision", "", label[:200]),
            details={"rows": len(rows), "created": created, "updated": updated},
        )
        self.stdout.write(self.style.SUCCESS(f"{label}: {len(rows)} rows, created {created}, updated {updated}."))
