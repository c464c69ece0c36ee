"""One catalogue of reasons a message was not sent, not delivered, or has an unknown outcome.

Each reason says, in a campaign manager's words, what happened and what they can do about it.
"""

from dataclasses import dataclass

NOT_SENT = "not_sent"
NOT_DELIVERED = "not_delivered"
UNKNOWN = "unknown"

GROUP_TITLES = {NOT_SENT: "Not sent", NOT_DELIVERED: "Not delivered", UNKNOWN: "Unknown"}


@dataclass(frozen=True)
class Reason:
    code: str
    group: str
    title: str
    explanation: str
    retryable: bool = False  # offered for "resend to these"


_REASONS = [
    # --- not sent: never accepted by a gateway -----------------------------------------------------------------
    Reason(
        "gateway_submit_failed",
        NOT_SENT,
        "Could not submit to the gateway",
        "We could not hand these messages to your SMS gateway: it refused the connection or the request. "
        "Check the gateway settings; you can resend once it is reachable.",
        retryable=True,
    ),
    Reason(
        "gateway_timeout",
        NOT_SENT,
        "Gateway did not accept in time",
        "The gateway did not answer before the time limit, so the messages were not accepted. This is usually "
        "temporary; resend them.",
        retryable=True,
    ),
    Reason(
        "gateway_bad_response",
        NOT_SENT,
        "Gateway response could not be understood",
        "The gateway answered with something that is not a valid reply, so we cannot tell whether it took the "
        "messages. Ask the gateway team to check their API; resend after they confirm.",
        retryable=True,
    ),
    Reason(
        "gateway_retries_exhausted",
        NOT_SENT,
        "Gateway retried but failed",
        "We tried several times and the gateway kept failing (busy or server errors). Resend later.",
        retryable=True,
    ),
    Reason(
        "gateway_callback_misconfigured",
        NOT_SENT,
        "Gateway cannot send delivery status back",
        "The gateway is not set up to send delivery receipts to us, so it refused the messages. Ask support to "
        "check the receipt (callback) address of the gateway.",
    ),
    Reason(
        "out_of_credits",
        NOT_SENT,
        "Out of credits",
        "Your organisation had no credits left for these messages. Buy credits, then resend.",
        retryable=True,
    ),
    Reason(
        "unsubscribed",
        NOT_SENT,
        "Customer unsubscribed",
        "These customers asked not to receive messages on this channel, so we did not send to them.",
    ),
    Reason(
        "validation_failed",
        NOT_SENT,
        "Skipped due to validation issues",
        "The customer's mobile number or email address is missing or invalid. Correct it in the customer list.",
    ),
    Reason(
        "dlt_template_mismatch",
        NOT_SENT,
        "Message does not match its DLT template",
        "After filling in the variables the message no longer matched the registered DLT template (for example "
        "a value longer than the variable limit), so operators would have blocked it. Shorten the values or "
        "register a template that fits.",
    ),
    Reason(
        "unusable_link",
        NOT_SENT,
        "A link in the customer's details cannot be sent",
        "A web link taken from this customer's details (one of their fields, such as their website) is not an "
        "address a phone or browser could open (a stray character or a broken address), or is a kind of link that "
        "is never sent (javascript:), so this customer's message was not made; the rest of the campaign went out. "
        "Correct the link on the customer's page or in your next customer import, then resend to these.",
        retryable=True,
    ),
    Reason(
        "ndnc_precheck",
        NOT_SENT,
        "Customer is on your Do-Not-Disturb register",
        "The number is on the organisation's Do-Not-Disturb (NCPR) register for this category, and the sender is "
        "promotional, so we did not send (operators would have rejected it). Use a transactional or service "
        "template where the law allows.",
    ),
    Reason(
        "frequency_cap",
        NOT_SENT,
        "Customer reached the message limit",
        "Your organisation's sending rule allows each customer only so many promotional messages in a number of "
        "days (for example at most 2 in 7 days), and these customers had already been sent that many, so we did "
        "not send to them. Campaign managers change the limit, or turn it off, under Campaigns › Sending rules. "
        "A resend is checked against the limit again: sent a few days later, it reaches the customers whose "
        "earlier messages are older than the limit's period.",
        retryable=True,
    ),
    Reason(
        "campaign_cancelled",
        NOT_SENT,
        "Campaign cancelled",
        "The campaign was cancelled before these messages were handed to the gateway.",
    ),
    Reason(
        "gateway_other",
        NOT_SENT,
        "Other gateway problem",
        "The gateway refused the messages for a reason it did not explain. Contact the gateway team with the "
        "error code shown.",
        retryable=True,
    ),
    # --- not delivered: accepted, then failed or still waiting ----------------------------------------------------
    Reason(
        "ndnc",
        NOT_DELIVERED,
        "Customer is on the Do-Not-Disturb list",
        "The number is registered on the national Do-Not-Disturb register (NCPR) for this category, so operators "
        "reject promotional messages to it. Use a transactional or service template where the law allows.",
    ),
    Reason(
        "pending",
        NOT_DELIVERED,
        "No delivery receipt yet",
        "The gateway accepted the messages and has not reported the outcome yet. Receipts can take a while; a resend "
        "of these counts with those that got no delivery receipt.",
        retryable=True,
    ),
    Reason(
        "no_receipt",
        NOT_DELIVERED,
        "No delivery receipt",
        "The gateway accepted the messages but never reported whether they arrived, within the waiting time. "
        "The phone may have been off or out of coverage.",
        retryable=True,
    ),
    Reason(
        "undeliverable",
        NOT_DELIVERED,
        "Gateway confirmed it cannot be delivered",
        "The operator could not deliver the message: the number is switched off, out of coverage, blocked, or "
        "no longer in use.",
        retryable=True,
    ),
    Reason(
        "expired",
        NOT_DELIVERED,
        "Expired before delivery",
        "The operator kept trying but the phone was unreachable until the message expired.",
        retryable=True,
    ),
    Reason(
        "dlt_entity",
        NOT_DELIVERED,
        "DLT entity (PE) error",
        "The operator did not accept your Principal Entity id: it is not registered, not approved or blocked on "
        "the DLT portal, or the entity id sent does not exist. Check the entity id on the DLT portal and in the "
        "sender settings.",
    ),
    Reason(
        "dlt_chain",
        NOT_DELIVERED,
        "DLT PE-TM chain error",
        "The operator could not verify the chain from your Principal Entity to the telemarketer (the gateway) on "
        "the DLT portal. Ask the gateway for their chain id and declare it on the DLT portal.",
    ),
    Reason(
        "dlt_sender_id",
        NOT_DELIVERED,
        "DLT sender id error",
        "The operator rejected the sender id (header): it is not registered, not active, or not linked to your "
        "entity on the DLT portal. Check the header on the DLT portal.",
    ),
    Reason(
        "dlt_template",
        NOT_DELIVERED,
        "DLT template error",
        "The operator's scrubber found no registered DLT template matching this message, or the template id does "
        "not belong to this header. Check the template on the DLT portal.",
    ),
    Reason(
        "email_mailbox_unavailable",
        NOT_DELIVERED,
        "Email mailbox unavailable",
        "The receiving mail server refused the email: the mailbox does not exist, is full or is disabled.",
    ),
    Reason(
        "email_invalid_address",
        NOT_DELIVERED,
        "Invalid email address",
        "The email address is not a valid address. Correct it in the customer list.",
    ),
    Reason(
        "gateway_failed",
        NOT_DELIVERED,
        "Gateway could not send",
        "The gateway accepted the message and later failed to send it on. Contact the gateway team with the "
        "error code shown.",
        retryable=True,
    ),
    # --- unknown -------------------------------------------------------------------------------------------------
    Reason(
        "handover_cut_off",
        UNKNOWN,
        "May have been sent",
        "We were handing these messages to the gateway when our worker stopped (a restart or a crash), so we cannot "
        "tell whether the gateway took them: they may have been sent, and their credits are counted. They are never "
        "offered for a resend, since that could text these customers twice; the gateway's own records say which "
        "it took.",
    ),
    Reason(
        "operator_no_report",
        UNKNOWN,
        "Operator shares no delivery details",
        "Under TRAI rules, operators do not report delivery for promotional or numeric sender ids, so the "
        "outcome of these messages cannot be known.",
    ),
]

REASONS: dict[str, Reason] = {reason.code: reason for reason in _REASONS}


def reason_for(code: str) -> Reason:
    """The catalogue entry for a code; an unmapped code gets a generic reason of the right group."""
    return REASONS.get(code) or REASONS["gateway_other"]


def reasons_in(group: str) -> list[Reason]:
    return [reason for reason in _REASONS if reason.group == group]
