from django.apps import AppConfig


class LinktrackConfig(AppConfig):
    name = "linktrack"
    verbose_name = "Link tracking"

    def ready(self) -> None:
        from linktrack import checks, signals  # noqa: F401  (checks registers the system checks)

        signals.connect()
