from django.apps import AppConfig
from django.contrib.admin.apps import AdminConfig as DjangoAdminConfig


class AdminConfig(DjangoAdminConfig):
    """Django's admin, behind the app's own sign-in (throttled, two-step): see campaigns.accounts.admin_site."""

    default_site = "campaigns.accounts.admin_site.AdminSite"


class LinktrackConfig(AppConfig):
    name = "linktrack"
    verbose_name = "Link tracking"

    def ready(self) -> None:
        from linktrack import checks, signals  # noqa: F401  (checks registers the system checks)

        signals.connect()
