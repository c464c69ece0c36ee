"""manage.py erase_customers requests.txt --org "Acme Retail" [--by support@example.com]"""

from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from campaigns.customers.erasure import customer_erase, customers_with_contact
from campaigns.management.org_argument import org_from_argument
from campaigns.models import User

ERASED, ALREADY_ERASED, NOT_FOUND, REFUSED = "erased", "already erased", "not found", "refused"


class Command(BaseCommand):
    help = (
        "Erase the personal data of the customers named in a file, one mobile number or email address a line "
        "(numbers as people write them; blank lines and lines starting with # are skipped). Each line says "
        "erased, already erased, not found or refused (and why); campaign figures stay as they are."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path)
        parser.add_argument(
            "--org", required=True, help="The id or name of the organisation whose customers these are."
        )
        parser.add_argument("--by", default="", help="Email of the support staff member handling the requests.")

    def handle(self, *args, **options):
        org = org_from_argument(options["org"])
        user = _support_user(options["by"]) if options["by"] else None
        path = options["file"]
        if not path.is_file():
            raise CommandError(f"There is no file {path}.")
        totals = dict.fromkeys((ERASED, ALREADY_ERASED, NOT_FOUND, REFUSED), 0)
        erased_now: set[str] = set()
        with open(path, encoding="utf-8-sig") as lines:
            for number, line in enumerate(lines, start=1):
                text = line.strip()
                if not text or text.startswith("#"):
                    continue
                outcome, words = _erase_line(org_id=org.pk, text=text, user=user, erased_now=erased_now)
                totals[outcome] += 1
                self.stdout.write(f"line {number}: {text}: {words}")
        self.stdout.write(
            f"{sum(totals.values()):,} requests: {totals[ERASED]:,} erased, {totals[ALREADY_ERASED]:,} already erased, "
            f"{totals[NOT_FOUND]:,} not found, {totals[REFUSED]:,} refused."
        )


def _erase_line(*, org_id: int, text: str, user: User | None, erased_now: set[str]) -> tuple[str, str]:
    """(outcome, in words) of one request line; each customer's erasure commits on its own."""
    try:
        match = customers_with_contact(org_id=org_id, text=text)
    except ValueError as error:
        return NOT_FOUND, f"{NOT_FOUND} (“{text}” {error})"
    if not match.customers:
        if match.erased_before or match.contact in erased_now:
            return ALREADY_ERASED, ALREADY_ERASED
        return NOT_FOUND, f"{NOT_FOUND} (no customer has this {'address' if '@' in match.contact else 'number'})"
    erased, refusals = 0, []
    for customer in match.customers:
        contacts = {customer.mobile, customer.email.lower()} - {""}  # read before they are erased
        try:
            erased += not customer_erase(customer=customer, user=user).already_erased
        except ValidationError as error:
            refusals += error.messages
        else:
            erased_now.update(contacts)  # a later line naming their other contact: already erased
    if refusals:
        also = f"; {erased} other customer{'s' if erased != 1 else ''} with it erased" if erased else ""
        return REFUSED, f"{REFUSED} ({' '.join(refusals)}){also}"
    if not erased:
        return ALREADY_ERASED, ALREADY_ERASED
    return ERASED, ERASED if erased == 1 else f"{ERASED} ({erased} customers with this address)"


def _support_user(email: str) -> User:
    user = User.objects.filter(email__iexact=email.strip(), is_staff=True).first()
    if user is None:
        raise CommandError(f"There is no support staff member with the email {email}.")
    return user
