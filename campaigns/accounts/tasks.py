"""Celery entry point of accounts: the password-reset email, sent off the request (see password_reset)."""

from celery import shared_task

from campaigns.accounts.password_reset import password_reset_email_send


@shared_task(name="campaigns.tasks.password_reset_email_send_task")
def password_reset_email_send_task(email: str) -> None:
    # Run twice, it sends a second link, and either works (until one is used): harmless, so no claim is needed.
    password_reset_email_send(email=email)
