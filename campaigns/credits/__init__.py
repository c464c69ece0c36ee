"""Credits: an org's balance, what it spent, top-ups, what coming campaigns need (estimated as the preview does), and
the low-credit alert. Imports the floors below it: campaigns.lifecycle, sending, customers, dlt, base, models."""
