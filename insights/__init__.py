"""Insights: reports, Compare, the reporting API and click webhooks. Reads every app; nothing imports it."""
