"""Delivery status notifications (RFC 3464) as Postfix, Gmail and Exchange write them, and the emails they return."""

SLOTS = [{"source": "field", "value": "name"}, {"source": "url", "value": "https://acme.test/news"}]
ADDRESSES = ["asha@acme.test", "ravi@acme.test", "meena@acme.test", "kabir@acme.test"]


# --- realistic notifications -------------------------------------------------------------------------------------


def postfix_dsn(*, to: str, recipient: str, original: str, action="failed", status="5.1.1", diagnostic="") -> str:
    """As Postfix writes it: text/plain, message/delivery-status, text/rfc822-headers."""
    diagnostic = diagnostic or (
        f"smtp; 550 {status} <{recipient}>: Recipient address rejected:\n    User unknown in virtual mailbox table"
    )
    subject = "Undelivered Mail Returned to Sender" if action == "failed" else "Delayed Mail (still being retried)"
    retry = "Will-Retry-Until: Thu, 26 Nov 2026 18:11:58 +0530 (IST)\n" if action == "delayed" else ""
    return f"""Return-Path: <>
Date: Mon, 23 Nov 2026 18:12:01 +0530 (IST)
From: MAILER-DAEMON@mx1.acme.test (Mail Delivery System)
Subject: {subject}
To: {to}
Auto-Submitted: auto-replied
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status;
\tboundary="3F1A22C0A1.1763901121/mx1.acme.test"
Content-Transfer-Encoding: 7bit
Message-Id: <20261123124201.0B1A22C0A2@mx1.acme.test>

This is a MIME-encapsulated message.

--3F1A22C0A1.1763901121/mx1.acme.test
Content-Description: Notification
Content-Type: text/plain; charset=us-ascii

This is the mail system at host mx1.acme.test.

I'm sorry to have to inform you that your message could not
be delivered to one or more recipients. It's attached below.

<{recipient}>: host mail.acme.test[10.0.0.5] said: {diagnostic.partition("; ")[2]}

--3F1A22C0A1.1763901121/mx1.acme.test
Content-Description: Delivery report
Content-Type: message/delivery-status

Reporting-MTA: dns; mx1.acme.test
X-Postfix-Queue-ID: 3F1A22C0A1
X-Postfix-Sender: rfc822; {to}
Arrival-Date: Mon, 23 Nov 2026 18:11:58 +0530 (IST)

Final-Recipient: rfc822; {recipient}
Original-Recipient: rfc822;{recipient}
Action: {action}
Status: {status}
Remote-MTA: dns; mail.acme.test
Diagnostic-Code: {diagnostic}
{retry}
--3F1A22C0A1.1763901121/mx1.acme.test
Content-Description: Undelivered Message Headers
Content-Type: text/rfc822-headers

{_headers_of(original)}

--3F1A22C0A1.1763901121/mx1.acme.test--
"""


def gmail_dsn(*, to: str, recipient: str, original: str, status="5.1.1") -> str:
    """Like Gmail's "Delivery Status Notification (Failure)": an HTML part, the whole email returned."""
    return f"""Delivered-To: {to}
From: Mail Delivery Subsystem <mailer-daemon@googlemail.com>
To: {to}
Auto-Submitted: auto-replied
Subject: Delivery Status Notification (Failure)
Message-ID: <6741a2b1.050a0220.3c1e.9f2bSMTPIN_ADDED_MISSING@mx.google.com>
MIME-Version: 1.0
Content-Type: multipart/report; boundary="000000000000a1b2c3d4e5f60718"; report-type=delivery-status

--000000000000a1b2c3d4e5f60718
Content-Type: multipart/related; boundary="000000000000a1b2c3d4e5f60719"

--000000000000a1b2c3d4e5f60719
Content-Type: text/html; charset="UTF-8"

<html><body><h2>Address not found</h2><p>Your message wasn't delivered to <b>{recipient}</b> because the
address couldn't be found, or is unable to receive mail.</p></body></html>

--000000000000a1b2c3d4e5f60719--

--000000000000a1b2c3d4e5f60718
Content-Type: message/delivery-status

Reporting-MTA: dns; googlemail.com
Received-From-MTA: dns; mail-sor-f41.google.com
Arrival-Date: Mon, 23 Nov 2026 04:42:01 -0800 (PST)

Final-Recipient: rfc822; {recipient}
Action: failed
Status: {status}
Remote-MTA: dns; gmail-smtp-in.l.google.com. (142.250.4.27, the server for the domain acme.test.)
Diagnostic-Code: smtp; 550-{status} The email account that you tried to reach does not exist. Please try
 550-{status} double-checking the recipient's email address for typos or 550 {status}
 unnecessary spaces. https://support.google.com/mail/?p=NoSuchUser d2e1a72fcca58-72a8f0d3c1bsi123456b3a.91 - gsmtp
Last-Attempt-Date: Mon, 23 Nov 2026 04:42:02 -0800 (PST)

--000000000000a1b2c3d4e5f60718
Content-Type: message/rfc822

{original}
--000000000000a1b2c3d4e5f60718--
"""


def exchange_dsn(*, to: str, recipient: str, original: str, status="5.1.10") -> str:
    """Like Exchange Online's "Undeliverable:" report: alternative text and HTML, headers returned."""
    return f"""From: Microsoft Outlook <postmaster@outlook.com>
To: {to}
Subject: Undeliverable: News for you
Date: Mon, 23 Nov 2026 12:42:03 +0000
Message-ID: <c4f1e2a9-7b3d-4e55-9a0c-2f6d8e1b7a43@AM0PR01MB1234.eurprd01.prod.exchangelabs.com>
Auto-Submitted: auto-replied
X-MS-Exchange-Message-Is-Ndr:
Content-Language: en-US
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status;
\tboundary="_000_c4f1e2a97b3d4e559a0c2f6d8e1b7a43AM0PR01MB1234eurprd01_"

--_000_c4f1e2a97b3d4e559a0c2f6d8e1b7a43AM0PR01MB1234eurprd01_
Content-Type: multipart/alternative;
\tboundary="_002_c4f1e2a97b3d4e559a0c2f6d8e1b7a43AM0PR01MB1234eurprd01_"

--_002_c4f1e2a97b3d4e559a0c2f6d8e1b7a43AM0PR01MB1234eurprd01_
Content-Type: text/plain; charset="us-ascii"

Your message to {recipient} couldn't be delivered.
{recipient.partition("@")[0]} wasn't found at {recipient.partition("@")[2]}.

--_002_c4f1e2a97b3d4e559a0c2f6d8e1b7a43AM0PR01MB1234eurprd01_
Content-Type: text/html; charset="us-ascii"

<html><body><p>Your message to {recipient} couldn't be delivered.</p></body></html>

--_002_c4f1e2a97b3d4e559a0c2f6d8e1b7a43AM0PR01MB1234eurprd01_--

--_000_c4f1e2a97b3d4e559a0c2f6d8e1b7a43AM0PR01MB1234eurprd01_
Content-Type: message/delivery-status

Reporting-MTA: dns;AM0PR01MB1234.eurprd01.prod.exchangelabs.com
Received-From-MTA: dns;mx1.acme.test
Arrival-Date: Mon, 23 Nov 2026 12:42:01 +0000

Original-Recipient: rfc822;{recipient}
Final-Recipient: rfc822;{recipient}
Action: failed
Status: {status}
Diagnostic-Code: smtp;550 {status} RESOLVER.ADR.RecipientNotFound; Recipient not found by SMTP address lookup
X-Display-Name: {recipient}

--_000_c4f1e2a97b3d4e559a0c2f6d8e1b7a43AM0PR01MB1234eurprd01_
Content-Type: text/rfc822-headers

{_headers_of(original)}

--_000_c4f1e2a97b3d4e559a0c2f6d8e1b7a43AM0PR01MB1234eurprd01_--
"""


def _headers_of(email_text: str) -> str:
    return email_text.replace("\r\n", "\n").split("\n\n", 1)[0]


def original_email(message_id: str = "<176.1.2@acme.test>", recipient: str = "asha@acme.test") -> str:
    return (
        f"Subject: News for Asha\nFrom: news@acme.test\nTo: {recipient}\nMessage-ID: {message_id}\n"
        "MIME-Version: 1.0\nContent-Type: text/plain\n\nHello Asha, read more: s.acme.test/AB12CD34EF\n"
    )
