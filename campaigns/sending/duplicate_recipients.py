"""One message per number or address: which customers of an audience share theirs with a customer of a lower id.

Dispatch prepares a campaign in batches that two workers take side by side, so it cannot remember every number it
has seen (that set grew with the audience: about 90 MB at a million recipients). It asks the database instead, once
per campaign: a number stored as E.164 (`+91` and ten digits) or an address stored as written (lower case, no
spaces) is its own normalised form, and such numbers are unique in an org; only the other spellings need Python's
normalisation, and there are few of them. The customers returned are the ones dispatch leaves out: for each shared
number or address, every customer but the one with the lowest id.
"""

from collections import defaultdict

from django.db.models import Count, QuerySet

from campaigns.models import Channel
from campaigns.sending.message_drafts import normalised_email, normalised_mobile

# Values already in their normalised form (see normalised_mobile and normalised_email); the SQL twins of them.
CANONICAL_MOBILE = r"^\+91[6-9][0-9]{9}$"
CANONICAL_EMAIL = r"^[a-z0-9._%+'-]+@[a-z0-9.-]*\.[a-z0-9.-]*$"


def duplicate_recipients(audience: QuerySet, channel: str) -> set[int]:
    """The customers of `audience` whose recipient an earlier customer (lower id) of it already has."""
    field, canonical, normalise = (
        ("email", CANONICAL_EMAIL, normalised_email)
        if channel == Channel.EMAIL
        else ("mobile", CANONICAL_MOBILE, normalised_mobile)
    )
    groups: dict[str, list[int]] = defaultdict(list)
    # Other spellings ("09810000001", "Asha@Acme.test "): normalised here, then matched with the stored forms.
    others = audience.exclude(**{field: ""}).exclude(**{f"{field}__regex": canonical}).values_list("pk", field)
    for pk, value in others.iterator(chunk_size=5000):
        recipient = normalise(value)
        if recipient:
            groups[recipient].append(pk)
    if groups:
        same = audience.filter(**{f"{field}__in": list(groups)}).values_list("pk", field)
        for pk, value in same.iterator(chunk_size=5000):
            groups[value].append(pk)
    if channel == Channel.EMAIL:
        # Addresses are not unique in an org: the same stored address twice.
        repeated = (
            audience.filter(email__regex=canonical)
            .values("email")
            .annotate(customers=Count("pk"))
            .filter(customers__gt=1)
            .values_list("email", flat=True)
        )
        repeated = [email for email in repeated if email not in groups]
        if repeated:
            for pk, value in audience.filter(email__in=repeated).values_list("pk", "email").iterator(chunk_size=5000):
                groups[value].append(pk)
    skipped = set()
    for pks in groups.values():
        skipped.update(sorted(set(pks))[1:])
    return skipped
