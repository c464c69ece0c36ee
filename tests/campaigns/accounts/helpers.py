"""Helpers of the accounts tests: signing in, the links emails give, the Team page and its invitations."""

import re

from django.core import mail
from django.urls import reverse

from campaigns.models import Membership

NEW_PASSWORD = "a-brand-new-password-7"
LOGIN = "/accounts/login/"
PUBLIC = "https://app.example.test"


def _sign_in(client, email: str, password: str, **extra):
    return client.post(LOGIN, {"username": email, "password": password}, **extra)


def _signed_in(client) -> bool:
    return "_auth_user_id" in client.session


def _reset_link(message) -> str:
    return re.search(r"https?://\S+", message.body).group(0)


def _mail_for(client, email: str):
    client.post(reverse("password_reset"), {"email": email})
    return mail.outbox[-1]


def _team_url(org) -> str:
    return f"{reverse('campaigns:team')}?org={org.pk}"


def _invitation_of(email: str, org) -> Membership:
    return Membership.objects.get(org=org, user__email=email)
