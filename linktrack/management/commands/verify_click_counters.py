"""manage.py verify_click_counters [--org ORG] [--repair]: the click counters against the stored clicks."""

from django.core.management.base import BaseCommand, CommandError

from campaigns.management.org_argument import org_from_argument
from linktrack.services import click_counters_verify


class Command(BaseCommand):
    help = (
        "Count the stored clicks again and report every figure where the click counters differ "
        "(--repair: rebuild the campaigns that differ). Exits with an error when a difference was found."
    )

    def add_arguments(self, parser):
        parser.add_argument("--org", help="only this organisation (id or name)")
        parser.add_argument("--repair", action="store_true", help="rebuild the counters of campaigns that differ")

    def handle(self, *args, org=None, repair=False, **options):
        org_id = org_from_argument(org).pk if org else None
        differences = click_counters_verify(org_id=org_id, repair=repair, progress=self.stdout.write)
        if not differences:
            self.stdout.write(self.style.SUCCESS("The click counters agree with the stored clicks."))
        elif repair:
            self.stdout.write(self.style.SUCCESS(f"{len(differences)} difference(s) found and repaired."))
        else:
            raise CommandError(f"{len(differences)} difference(s) between the click counters and the stored clicks.")
