"""Support staff's delivery pages: gateway configurations and their connection check, finding a message from a
ticket, a message's gateway log. Imports delivery.reports, services and below."""
