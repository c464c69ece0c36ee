"""A campaign's life as a manager sees it: create, edit, duplicate, launch (with approval), pause, resume, cancel,
resend; the campaign list and page; the summary email. Starting and sending is campaigns.sending's: imports it and
the floors below."""
