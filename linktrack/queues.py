"""The Celery queues, one per kind of work, and the queue of every task.

A worker reads the queues it is given (`celery -A linktrack worker -Q dispatch,send`), so each kind of work gets
workers of its own: a flood of receipts waits in `receipts` and never delays a launch in `dispatch`. A worker given
no `-Q` reads all five. docker-compose.yml, the README and the tests name the queues from here.

Every task of the project is routed here by name, on purpose (a test checks that none is left out, and that beat's
entries are routed too); a task missing from TASK_QUEUES would go to `default`.
"""

from kombu import Exchange, Queue

DISPATCH = "dispatch"  # preparing a campaign's messages, and the supervisor that restarts what stalled
SEND = "send"  # handing messages to the gateways
RECEIPTS = "receipts"  # delivery receipts and the bookkeeping of messages' outcomes
CLICKS = "clicks"  # storing the click stream and merging the click counters
DEFAULT = "default"  # everything else: imports, emails, webhooks, nightly checks, purges

QUEUES = (DISPATCH, SEND, RECEIPTS, CLICKS, DEFAULT)

TASK_QUEUES = {
    "campaigns.tasks.campaign_dispatch_task": DISPATCH,
    "campaigns.sending.tasks.campaign_dispatch_batch_task": DISPATCH,
    "campaigns.tasks.campaigns_supervise_task": DISPATCH,
    "delivery.tasks.messages_send_task": SEND,
    "campaigns.tasks.proof_hand_over_task": SEND,
    "delivery.tasks.receipts_simulate_task": RECEIPTS,
    "delivery.tasks.receipts_expire_task": RECEIPTS,
    "delivery.tasks.pending_receipts_purge_task": RECEIPTS,
    "delivery.tasks.message_counts_merge_task": RECEIPTS,
    "linktrack.tasks.clicks_flush_task": CLICKS,
    "linktrack.tasks.click_counters_merge_task": CLICKS,
    # Long and rare: apart from the flush, so a nightly count never holds clicks back.
    "linktrack.tasks.click_counters_verify_task": DEFAULT,
    "linktrack.tasks.click_counters_build_task": DEFAULT,
    # DDL on the click table: partitions made ahead, old months dropped (hourly, quick).
    "linktrack.tasks.click_partitions_task": DEFAULT,
    # Calls to the orgs' endpoints, which may be slow.
    "insights.tasks.click_webhooks_deliver_task": DEFAULT,
    "insights.tasks.click_webhook_deliver_task": DEFAULT,
    "campaigns.import_tasks.customers_import_task": DEFAULT,
    "campaigns.import_tasks.ndnc_import_task": DEFAULT,
    "campaigns.customers.tasks.transactions_import_task": DEFAULT,
    "campaigns.customers.tasks.transactions_reattribute_task": DEFAULT,
    "campaigns.customers.tasks.org_transactions_reattribute_task": DEFAULT,
    "campaigns.tasks.password_reset_email_send_task": DEFAULT,
    "campaigns.tasks.campaign_summaries_send_task": DEFAULT,
    "campaigns.tasks.credit_alerts_send_task": DEFAULT,
    "delivery.tasks.gateway_log_purge_task": DEFAULT,
}


def celery_queues() -> list[Queue]:
    """The five queues, each on a direct exchange of its own name (Celery's task_queues)."""
    return [Queue(name, Exchange(name, type="direct"), routing_key=name) for name in QUEUES]


def celery_routes() -> dict[str, dict[str, str]]:
    """Celery's task_routes: each task to its queue."""
    return {task: {"queue": queue} for task, queue in TASK_QUEUES.items()}
