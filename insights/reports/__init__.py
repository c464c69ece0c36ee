"""The Insights page: Unique and Total Click Count by channel, campaign and day, its filters and CSV, a campaign's
click CSV. Imports the read side of campaigns, delivery and linktrack."""
