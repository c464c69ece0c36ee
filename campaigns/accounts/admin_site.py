"""The admin (`/admin/`) behind the app's own sign-in.

Django's admin has a sign-in form of its own, which checks the password alone: no two-step code, no throttle. Here
it sends everyone to the app's sign-in page (campaigns.accounts.sign_in, with `next` back to the admin) and never
reads a password, and the admin admits only active staff whose session was signed in there, so no way in skips
the throttle or the code. Installed as Django's default admin site by linktrack.apps.AdminConfig.
"""

from urllib.parse import urlencode

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme

from campaigns.accounts.sign_in import signed_in_here


class AdminSite(admin.AdminSite):
    def has_permission(self, request) -> bool:
        return super().has_permission(request) and signed_in_here(request.session)

    def login(self, request, extra_context=None):
        if request.user.is_authenticated and signed_in_here(request.session) and not request.user.is_staff:
            raise PermissionDenied("The admin is for support staff.")  # signing in again would change nothing
        next_url = request.POST.get("next") or request.GET.get("next", "")
        if not url_has_allowed_host_and_scheme(
            next_url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
        ):
            next_url = reverse("admin:index", current_app=self.name)
        return redirect(f"{reverse('login')}?{urlencode({'next': next_url})}")
