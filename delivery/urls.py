from django.urls import path  # noqa: F401  (patterns are added with the delivery pages)

app_name = "delivery"
urlpatterns: list = []
