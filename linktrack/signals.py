"""Cache invalidation only: whatever code changes a short link, a campaign's UTM parameters or an org's short
domain, the redirect stops serving the old value. No business logic lives here."""

from django.db import transaction
from django.db.models.signals import post_delete, post_save

from linktrack.models import ShortLink
from linktrack.redirect.link_cache import campaign_links_forget, short_link_forget
from linktrack.redirect.short_domains import short_domains_forget


def _short_link_changed(sender, instance, **kwargs):
    # After commit, or a concurrent click could cache the old row again before the change is visible.
    short_link_id = instance.pk  # taken now: a deleted instance's pk is None by commit time
    transaction.on_commit(lambda: short_link_forget(short_link_id=short_link_id))


def _campaign_saved(sender, instance, created, update_fields=None, **kwargs):
    if created or (update_fields is not None and "utm_params" not in update_fields):
        return
    campaign_id = instance.pk
    transaction.on_commit(lambda: campaign_links_forget(campaign_id=campaign_id))


def _org_saved(sender, instance, update_fields=None, **kwargs):
    if update_fields is not None and "short_domain" not in update_fields:
        return
    transaction.on_commit(short_domains_forget)


def connect() -> None:
    post_save.connect(_short_link_changed, sender=ShortLink, dispatch_uid="linktrack-short-link-saved")
    post_delete.connect(_short_link_changed, sender=ShortLink, dispatch_uid="linktrack-short-link-deleted")
    post_save.connect(_campaign_saved, sender="campaigns.Campaign", dispatch_uid="linktrack-campaign-saved")
    post_save.connect(_org_saved, sender="campaigns.Org", dispatch_uid="linktrack-org-saved")
    post_delete.connect(_org_saved, sender="campaigns.Org", dispatch_uid="linktrack-org-deleted")
