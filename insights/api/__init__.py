"""The reporting API (/api/v1/): a brand's BI tools read campaign figures with an API key of its org; the API keys
page. Imports campaigns, delivery and linktrack (read side) and insights.models."""
