"""The password-reset email, sent by a worker (campaigns.accounts.tasks) rather than by the page that asks for it.

The page does the same work whether or not the address has an account (check the throttle, queue a task), so how
long it takes to answer tells nothing about which addresses exist; looking the account up, making the link and
talking to the mail server happen here, after the page has answered.

The emailed link is built from PUBLIC_BASE_URL rather than a request's Host: behind a proxy the request may name an
internal host or plain http, and any host in ALLOWED_HOSTS (every short domain, a wildcard) would otherwise end up
in the link.
"""

from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.auth.forms import PasswordResetForm

EMAIL_TEMPLATE = "registration/password_reset_email.txt"
SUBJECT_TEMPLATE = "registration/password_reset_subject.txt"


def password_reset_email_send(*, email: str) -> None:
    """Email a reset link to every active account with this address and a usable password; nothing for the rest."""
    form = PasswordResetForm(data={"email": email})
    if not form.is_valid():
        return
    public = urlsplit(settings.PUBLIC_BASE_URL)
    form.save(
        # host and any path prefix, as the unsubscribe links are written (PUBLIC_BASE_URL + path)
        domain_override=public.netloc + public.path.rstrip("/"),
        use_https=public.scheme == "https",
        email_template_name=EMAIL_TEMPLATE,
        subject_template_name=SUBJECT_TEMPLATE,
    )
