"""Signing in and the account pages around it: password reset by email and password change.

Django's own views do the work; this module only fixes what linktrack needs on top of them.
"""

from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.auth import views as auth_views
from django.http import HttpResponseRedirect


class PasswordResetView(auth_views.PasswordResetView):
    """Django's reset request: the same answer whether or not the address has an account.

    The emailed link is built from PUBLIC_BASE_URL rather than the request's Host: behind a proxy the request may
    name an internal host or plain http, and any host in ALLOWED_HOSTS (every short domain, a wildcard) would
    otherwise end up in the link.
    """

    email_template_name = "registration/password_reset_email.txt"
    subject_template_name = "registration/password_reset_subject.txt"

    def form_valid(self, form):
        public = urlsplit(settings.PUBLIC_BASE_URL)
        form.save(
            # host and any path prefix, as the unsubscribe links are written (PUBLIC_BASE_URL + path)
            domain_override=public.netloc + public.path.rstrip("/"),
            use_https=public.scheme == "https",
            token_generator=self.token_generator,
            from_email=self.from_email,
            email_template_name=self.email_template_name,
            subject_template_name=self.subject_template_name,
            request=self.request,
            html_email_template_name=self.html_email_template_name,
            extra_email_context=self.extra_email_context,
        )
        return HttpResponseRedirect(self.get_success_url())
