"""The ground floor of the project's own code, which every app may import: who may see what (org or 404), the org
chooser, the clock, phone numbers, CSV imports, a campaign's history, pages behind a secret link.
Imports `campaigns.models` and `linktrack.common` only."""
