"""Helpers with no domain in them, shared by every app: absolute URLs for emails and webhooks, the client's
address, CSV downloads, calls to addresses users give (outbound). Imports nothing of the project."""
