"""Helpers with no domain in them, shared by every app: absolute URLs for emails and webhooks, the client's
address, CSV downloads, calls to addresses users give (outbound), the router that sends reports to a replica.
Imports nothing of the project."""
