"""Gateway error codes (SMPP, DLT, Twilio, Infobip, Gupshup) mapped to catalogue reasons.

An unmapped code maps to the generic reason of its group and the raw code is kept on the message
(`gateway_error`), so support can tell the gateway team exactly what came back.
"""

# DLT scrubbing errors reported by Indian operators through gateways (DOMAIN.md §1).
_DLT_RANGES = [
    (600, 604, "dlt_entity"),
    (614, 618, "dlt_chain"),
    (620, 623, "dlt_sender_id"),
    (630, 699, "dlt_template"),
]

# SMPP submit_sm_resp command_status values (SMPP 3.4 §5.1.3) that mean "not accepted".
SMPP_RETRYABLE_STATUSES = {0x14, 0x58}  # ESME_RMSGQFUL, ESME_RTHROTTLED
_SMPP_SUBMIT_STATUSES = {
    0x0B: "validation_failed",  # ESME_RINVDSTADR: the number is not a valid destination
    0x0D: "gateway_submit_failed",  # ESME_RBINDFAIL
    0x0E: "gateway_submit_failed",  # ESME_RINVPASWD
    0x0F: "gateway_submit_failed",  # ESME_RINVSYSID
    0x14: "gateway_retries_exhausted",
    0x58: "gateway_retries_exhausted",
    0x61: "gateway_callback_misconfigured",  # ESME_RINVSCHED (registered_delivery not allowed on this bind)
}

# The `stat:` of an SMPP receipt: (state, reason when the error code says nothing more precise).
SMPP_STATS = {
    "DELIVRD": ("delivered", ""),
    "ENROUTE": ("pending", ""),
    "ACCEPTD": ("pending", ""),
    "EXPIRED": ("not_delivered", "expired"),
    "DELETED": ("not_delivered", "gateway_failed"),
    "UNDELIV": ("not_delivered", "undeliverable"),
    "REJECTD": ("not_delivered", "gateway_failed"),
    "UNKNOWN": ("unknown", "operator_no_report"),
}
# message_state TLV 0x0427 values.
SMPP_MESSAGE_STATES = {
    1: "ENROUTE",
    2: "DELIVRD",
    3: "EXPIRED",
    4: "DELETED",
    5: "UNDELIV",
    6: "ACCEPTD",
    7: "UNKNOWN",
    8: "REJECTD",
}
# Operator error codes seen in Indian receipts besides the DLT 6xx codes.
_NDNC_CODES = {"NDNC", "DND", "DNDFAIL", "NCPR"}

# Twilio: status callback MessageStatus and ErrorCode (https://www.twilio.com/docs/api/errors).
TWILIO_STATUSES = {
    "accepted": "pending",
    "scheduled": "pending",
    "queued": "pending",
    "sending": "pending",
    "sent": "pending",  # handed to the carrier; a final status follows
    "receiving": "pending",
    "received": "pending",
    "delivered": "delivered",
    "read": "delivered",
    "undelivered": "not_delivered",
    "failed": "not_delivered",
    "canceled": "not_delivered",
}
_TWILIO_CODES = {
    "30003": "undeliverable",  # unreachable destination handset
    "30004": "undeliverable",  # message blocked
    "30005": "undeliverable",  # unknown destination handset
    "30006": "undeliverable",  # landline or unreachable carrier
    "30007": "dlt_template",  # message filtered by the carrier (content)
    "30008": "gateway_failed",  # unknown error
    "30001": "gateway_failed",  # queue overflow
    "30002": "gateway_failed",  # account suspended
    "30010": "gateway_failed",  # message price exceeds max price
    "30022": "gateway_failed",  # US A2P 10DLC rate limit exceeded
    "30032": "dlt_sender_id",  # sender not registered / verified
    "30034": "dlt_sender_id",  # message from an unregistered number
    "21610": "undeliverable",  # recipient replied STOP to this sender
}
# Infobip: status.groupId and error.id.
INFOBIP_GROUPS = {
    1: ("pending", ""),
    2: ("not_delivered", "undeliverable"),
    3: ("delivered", ""),
    4: ("not_delivered", "expired"),
    5: ("not_delivered", "gateway_failed"),
}
_INFOBIP_ERRORS = {
    1: "undeliverable",  # EC_UNKNOWN_SUBSCRIBER
    5: "undeliverable",  # EC_UNIDENTIFIED_SUBSCRIBER
    6: "undeliverable",  # EC_ABSENT_SUBSCRIBER_SM
    9: "undeliverable",  # EC_ILLEGAL_SUBSCRIBER
    11: "undeliverable",  # EC_TELESERVICE_NOT_PROVISIONED
    13: "undeliverable",  # EC_CALL_BARRED
    27: "undeliverable",  # EC_ABSENT_SUBSCRIBER
    31: "gateway_failed",  # EC_SUBSCRIBER_BUSY_FOR_MT_SMS
}

# Gupshup: eventType of its JSON delivery events, then errCode and cause of a failure.
GUPSHUP_EVENTS = {
    "SENT": ("pending", ""),  # handed to the operator; a final event follows
    "DELIVERED": ("delivered", ""),
    "FAILED": ("not_delivered", "gateway_failed"),
    "UNDELIVERED": ("not_delivered", "undeliverable"),
    "UNKNOWN": ("unknown", "operator_no_report"),
}
_GUPSHUP_CODES = {
    "001": "undeliverable",  # ABSENT_SUBSCRIBER: switched off or out of coverage
    "002": "undeliverable",  # CALL_BARRED
    "003": "undeliverable",  # UNKNOWN_SUBSCRIBER: the number does not exist
    "004": "gateway_failed",  # SERVICE_DOWN at the operator
    "005": "gateway_failed",  # SYSTEM_FAILURE at the operator
    "006": "ndnc",  # DND_FAIL: the number is on the Do-Not-Disturb register
    "007": "undeliverable",  # BLOCKED by the recipient
    "008": "gateway_failed",  # DND_TIMEOUT: the DND check did not finish in time
    "009": "gateway_failed",  # OUTSIDE_WORKING_HOURS: a promotional message outside 09:00-21:00
}
_GUPSHUP_CAUSES = {
    "ABSENT_SUBSCRIBER": "undeliverable",
    "CALL_BARRED": "undeliverable",
    "UNKNOWN_SUBSCRIBER": "undeliverable",
    "SERVICE_DOWN": "gateway_failed",
    "SYSTEM_FAILURE": "gateway_failed",
    "DND_FAIL": "ndnc",
    "BLOCKED": "undeliverable",
    "DND_TIMEOUT": "gateway_failed",
    "OUTSIDE_WORKING_HOURS": "gateway_failed",
}


def dlt_reason(code: str) -> str:
    """The reason for a DLT 6xx code, or "" when the code is not one."""
    digits = code.strip().removeprefix("DLT:")
    if not digits.isdigit():
        return ""
    number = int(digits)
    for low, high, reason in _DLT_RANGES:
        if low <= number <= high:
            return reason
    return ""


def operator_error_reason(error: str, default: str) -> str:
    """Reason for an operator/DLT error code carried in a receipt (`err:` or a gateway's error field)."""
    error = error.strip()
    if not error or error.strip("0") == "":
        return default
    if error.upper().removeprefix("DLT:") in _NDNC_CODES:
        return "ndnc"
    return dlt_reason(error) or default


def smpp_receipt_reason(stat: str, err: str) -> tuple[str, str]:
    """(state, reason code) for an SMPP receipt's stat and err."""
    state, default = SMPP_STATS.get(stat.upper(), ("not_delivered", "gateway_failed"))
    if state != "not_delivered":
        return state, default
    return state, operator_error_reason(err, default)


def smpp_submit_reason(command_status: int) -> str:
    return _SMPP_SUBMIT_STATUSES.get(command_status, "gateway_other")


def twilio_receipt_reason(status: str, error_code: str) -> tuple[str, str] | None:
    """(state, reason) for a Twilio status callback; None for a status we do not know."""
    state = TWILIO_STATUSES.get(status.strip().lower())
    if state is None:
        return None
    if state != "not_delivered":
        return state, ""
    code = error_code.strip()
    return state, _TWILIO_CODES.get(code) or operator_error_reason(code, "gateway_failed")


def infobip_receipt_reason(group_id: int, error_id: int | None, error_name: str = "") -> tuple[str, str] | None:
    known = INFOBIP_GROUPS.get(group_id)
    if known is None:
        return None
    state, default = known
    if state != "not_delivered":
        return state, ""
    if error_id is not None and error_id in _INFOBIP_ERRORS:
        return state, _INFOBIP_ERRORS[error_id]
    return state, operator_error_reason(error_name, default)


def gupshup_error_code(err_code: str) -> str:
    """Gupshup's errCode as it writes it (three digits, "003"), or "" when it says "no error"."""
    code = err_code.strip()
    if code.isdigit():
        code = code.zfill(3)
    return "" if code.strip("0") == "" else code


def gupshup_receipt_reason(event_type: str, err_code: str, cause: str = "") -> tuple[str, str] | None:
    """(state, reason) for a Gupshup event; None for an eventType we do not know.

    The errCode decides when it is known (Gupshup's own codes, then DLT 6xx codes), then the cause; a code that
    neither explains is the generic "gateway could not send", with the code kept on the message by the caller.
    """
    known = GUPSHUP_EVENTS.get(event_type.strip().upper())
    if known is None:
        return None
    state, default = known
    if state != "not_delivered":
        return known
    code, cause_name = gupshup_error_code(err_code), cause.strip().upper()
    reason = _GUPSHUP_CODES.get(code) or operator_error_reason(code, "")
    reason = reason or _GUPSHUP_CAUSES.get(cause_name) or operator_error_reason(cause_name, "")
    return state, reason or ("gateway_failed" if code else default)


def http_submit_reason(error_code: str) -> str:
    """Reason for an HTTP gateway's refusal code in its submit response."""
    code = error_code.strip().lower()
    if code in {"invalid_callback", "callback_url_invalid", "callback_not_configured", "invalid_status_callback"}:
        return "gateway_callback_misconfigured"
    if code in {"invalid_number", "invalid_destination", "invalid_to"}:
        return "validation_failed"
    return "gateway_other"
