"""The `--org` argument of the management commands: an organisation's id or name."""

from django.core.management.base import CommandError

from campaigns.models import Org


def org_from_argument(chosen: str) -> Org:
    """The org with this id or name; a CommandError listing the organisations when there is none."""
    found = Org.objects.filter(pk=int(chosen)).first() if chosen.isdigit() else None
    found = found or Org.objects.filter(name=chosen).first()
    if found is None:
        known = ", ".join(f"{pk} {name}" for pk, name in Org.objects.order_by("name").values_list("pk", "name")[:20])
        raise CommandError(
            f"There is no organisation “{chosen}” (by id or name). Organisations: {known or 'none yet'}."
        )
    return found
