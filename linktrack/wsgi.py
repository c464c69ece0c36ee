import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "linktrack.settings")
django_application = get_wsgi_application()

# Clicks on a short domain are answered before Django (see linktrack/redirect/front.py); the rest goes to Django.
from linktrack.redirect.front import ShortDomainFront  # noqa: E402  (after Django is set up)

application = ShortDomainFront(django_application)
