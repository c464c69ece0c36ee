"""What happened to a campaign's messages: delivery counts, View Details by reason and its CSV, delivery times.
Imports delivery's models, reasons and gateways, and campaigns.base."""
