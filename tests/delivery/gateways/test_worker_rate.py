"""Two real Celery worker processes send one campaign through one HTTP gateway: its send rate holds across both."""

import time

from campaigns.lifecycle import services
from delivery.models import Message
from tests.factories import LINK_SLOTS, http_config, make_customers


def test_two_workers_together_keep_the_gateways_send_rate(workers, http_gateway, template, manager):
    # given a gateway limited to 20 messages per second, 60 customers, and two worker processes taking
    # send tasks of 5 messages each
    http_config(template.org, http_gateway.url, rate_per_second=20)
    make_customers(template.org, 60)
    workers.env["DISPATCH_SEND_TASK_SIZE"] = "5"
    first, second = workers.start("--pool=solo", "-n", "first@%h"), workers.start("--pool=solo", "-n", "second@%h")
    campaign = services.campaign_create(org=template.org, user=manager, name="Rate", template=template,
                                        slot_values=LINK_SLOTS)  # fmt: skip

    # when it is launched
    services.campaign_launch(campaign=campaign, user=manager)
    deadline = time.monotonic() + 60
    while Message.objects.filter(campaign=campaign, status=Message.Status.SENT).count() < 60:
        assert time.monotonic() < deadline, "the workers did not send everything in time"
        assert first.poll() is None and second.poll() is None, "a worker process died"
        time.sleep(0.2)

    # then the gateway never saw more than 20 requests within a second
    times = sorted(request.at for request in http_gateway.requests)
    assert len(times) == 60
    assert min(times[n + 20] - times[n] for n in range(len(times) - 20)) >= 0.95
    assert times[-1] - times[0] >= 59 / 20 * 0.95
