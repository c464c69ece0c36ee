"""Accounts: signing in (throttled, two-step with an authenticator app), password reset, the team of an org
(invitations, members) and which emails a user gets. Imports campaigns.base and campaigns.models."""
