"""Destructive buttons look destructive: every button that deletes, erases, cancels, removes, revokes, rejects,
withdraws, clears, stops a schedule, turns off two-step sign-in or unsubscribes a customer carries the `danger` class
(red). A recipient's own unsubscribe and stop pages, where that is the one thing the page is for, keep the ordinary
button."""

import re
from pathlib import Path

import pytest

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"
BUTTON = re.compile(r"<button([^>]*)>(.*?)</button>", re.DOTALL)
DESTRUCTIVE = re.compile(
    r"\b(delete|erase|cancel|remove|revoke|reject|withdraw|clear|stop the schedule|turn off|unsubscribe)", re.I
)
# Pages a recipient opens from their own email or SMS to do exactly this, asked first on the page.
ONE_PURPOSE_PAGES = {"campaigns/opt_out.html", "campaigns/notifications_stop.html"}


def destructive_buttons(source: str) -> list[tuple[str, str]]:
    return [
        (attributes, " ".join(text.split()))
        for attributes, text in BUTTON.findall(source)
        if DESTRUCTIVE.search(re.sub(r"\{%.*?%\}", " ", text))
    ]


@pytest.mark.parametrize(
    "path",
    sorted(path for path in TEMPLATES.rglob("*.html") if str(path.relative_to(TEMPLATES)) not in ONE_PURPOSE_PAGES),
    ids=lambda path: str(path.relative_to(TEMPLATES)),
)
def test_every_destructive_button_is_marked_danger(path):
    for attributes, text in destructive_buttons(path.read_text()):
        assert re.search(r'class="[^"]*\bdanger\b', attributes), f"{text!r} is not marked danger"


def test_the_check_finds_the_buttons_it_is_about():
    # the campaign page's Delete, the team page's Remove, the API keys' Revoke, an approver's Reject, a customer's
    # Erase are among those checked
    found = {text for path in TEMPLATES.rglob("*.html") for _attributes, text in destructive_buttons(path.read_text())}
    assert {"Delete", "Remove", "Revoke", "Reject", "Erase personal data", "Withdraw the request"} <= found
    assert len(found) >= 10
