"""DLT: templates and their `{#var#}` slots, TRAI's rules, SMS length, finding links in text, filling slots and
the checks before saving, template pages and the import of a DLT portal's template list. Imports campaigns.accounts,
base and models, and linktrack.selectors (how an org's short links look)."""
