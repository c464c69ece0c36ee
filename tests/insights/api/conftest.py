"""Fixtures of the reporting API tests: an API key of the org and a BI tool's GET with it."""

import pytest

from insights.api import keys as api_keys


@pytest.fixture
def raw_key(org, manager) -> str:
    return api_keys.api_key_create(org=org, user=manager, name="BI")[1]


@pytest.fixture
def api(client, raw_key):
    """GET as a BI tool does: the key in the Authorization header, no session."""

    def get(url: str, key: str | None = None, **params):
        return client.get(url, params, headers={"Authorization": f"Bearer {key or raw_key}"})

    return get
