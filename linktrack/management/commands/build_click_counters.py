"""manage.py build_click_counters [--org ORG] [--all]: count clicks stored before the click counters existed."""

from django.core.management.base import BaseCommand

from campaigns.management.org_argument import org_from_argument
from linktrack.services import click_counters_build


class Command(BaseCommand):
    help = (
        "Build the click counters from the stored clicks, one campaign at a time, for campaigns not counted yet "
        "(--all: every campaign again). Stopped half-way, it goes on where it stopped when run again."
    )

    def add_arguments(self, parser):
        parser.add_argument("--org", help="only this organisation (id or name)")
        parser.add_argument("--all", action="store_true", help="count every campaign again, not only new ones")

    def handle(self, *args, org=None, all=False, **options):
        org_id = org_from_argument(org).pk if org else None
        built = click_counters_build(org_id=org_id, everything=all, progress=self.stdout.write)
        self.stdout.write(self.style.SUCCESS(f"Counted the clicks of {built} campaign(s)."))
