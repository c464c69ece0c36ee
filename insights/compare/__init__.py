"""Compare: campaigns side by side, what went out and what came back. Imports the read side of campaigns, delivery
and linktrack."""
