"""Customers and audiences: customers, CSV imports, the NDNC register, lists, segments, unsubscribes and opt-outs,
erasure, follow-up lists, who a campaign reaches. Imports campaigns.accounts, base and models; delivery's and
linktrack's models only (behaviour segments read messages and clicks)."""
