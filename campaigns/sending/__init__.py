"""Sending: dispatch (audience to messages, checked and rendered), minting short links, the preview and its tests,
the link check, link settings, sending rules, starting campaigns, the supervisor and the tasks. The only code that
calls delivery's and linktrack's services and tasks; imports campaigns.customers, dlt, accounts, base and models."""
