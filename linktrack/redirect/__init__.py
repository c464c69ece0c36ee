"""The redirect path a phone's click takes: short codes, the link cache, bot filtering, the redirect itself and the
click stream; short domains and minting links. Imports linktrack.models, linktrack.common and campaigns.models;
other apps reach it through linktrack.services (operations) and linktrack.selectors (reads)."""
