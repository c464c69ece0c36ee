"""Click counts, linktrack's data as every report reads it: Unique and Total Click Count by campaign, link, channel
and day, the clicks of a campaign by hour and by device. Imports linktrack.models and campaigns.base/models."""
