"""Click webhooks: an org's own system is told of each human click within a minute; the page to set them up.
Imports linktrack's models and counts, campaigns.base and models, insights.models."""
