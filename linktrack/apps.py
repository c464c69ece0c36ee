from django.apps import AppConfig


class LinktrackConfig(AppConfig):
    name = "linktrack"
    verbose_name = "Link tracking"

    def ready(self) -> None:
        from linktrack import checks  # noqa: F401  (registers the system checks)
