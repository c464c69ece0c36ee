"""What delivery tells the rest of the project without knowing who listens."""

from django.dispatch import Signal

# A customer replied STOP to an SMS. Sent with org_id, mobile (E.164, or None when the sender's number could not be
# read) and note (the reply and gateway, for the customer's history); each receiver answers how many customers it
# unsubscribed (campaigns.customers.receivers).
stop_replied = Signal()
