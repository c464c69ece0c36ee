"""Support staff pages: every org's link tracking (only staff switch it), credits top-ups and short domain.
Imports every floor of campaigns below it."""
