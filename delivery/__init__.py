"""Messages and what happened to them: handing them to gateways, receipts, the reason catalogue, View Details and
support's delivery pages. Stands on campaigns.models/base and linktrack's read side."""
