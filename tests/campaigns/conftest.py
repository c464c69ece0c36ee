import pytest

from campaigns.models import SenderId, Template
from tests.factories import SenderIdFactory, TemplateFactory


@pytest.fixture
def promotional_template(org) -> Template:
    sender = SenderIdFactory(
        org=org,
        header="567890",
        category=SenderId.Category.PROMOTIONAL,
        dlt_entity_id="1701160000000000002",
        ncpr_category=2,
    )
    return TemplateFactory(
        org=org,
        name="Sale",
        sender=sender,
        dlt_template_id="1707160000000000002",
        body="Hi {#var#}, our sale is on: {#var#} - Acme",
    )
