"""Orgs, customers, DLT templates and campaigns: the ground floor (models, base) every app stands on, and the
manager's and support's pages and services in sub-packages by concern. The README's Architecture section draws them."""
