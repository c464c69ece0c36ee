from django.apps import AppConfig


class CampaignsConfig(AppConfig):
    name = "campaigns"

    def ready(self) -> None:
        from campaigns.customers import receivers  # noqa: F401  (connects the receivers of other apps' signals)
