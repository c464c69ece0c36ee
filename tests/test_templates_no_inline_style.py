"""The pages' CSS is in one static stylesheet and their scripts in static files: no template carries a style
attribute, a <style> block, an inline script or an on<event> attribute. HTML emails are the exception: email
clients drop stylesheets, so their templates keep inline styles."""

import re
from pathlib import Path

import pytest
from django.contrib.staticfiles import finders
from django.templatetags.static import static
from django.urls import reverse

ROOT = Path(__file__).resolve().parent.parent
TEMPLATES = ROOT / "templates"
STYLESHEET = "linktrack/site.css"

DJANGO_TAG = re.compile(r"\{%.*?%\}|\{\{.*?\}\}|\{#.*?#\}", re.DOTALL)
STYLE_ATTRIBUTE = re.compile(r"(?<![\w-])style\s*=", re.IGNORECASE)
STYLE_BLOCK = re.compile(r"<style[\s>]", re.IGNORECASE)
SCRIPT = re.compile(r"<script\b([^>]*)>(.*?)</script\s*>", re.IGNORECASE | re.DOTALL)
SCRIPT_OPENING = re.compile(r"<script\b", re.IGNORECASE)
HTML_TAG = re.compile(r"<[a-zA-Z][^<>]*>")
EVENT_ATTRIBUTE = re.compile(r"\son[a-z]+\s*=", re.IGNORECASE)
JAVASCRIPT_URL = re.compile(r"=\s*[\"']?\s*javascript:", re.IGNORECASE)
STATIC_REFERENCE = re.compile(r"""\{%\s*static\s+["']([^"']+)["']\s*%\}""")


def is_email(template: Path) -> bool:
    return "email" in template.name


def templates() -> list[Path]:
    return sorted(path for path in TEMPLATES.rglob("*") if path.is_file() and not is_email(path))


def inline_css_and_scripts(text: str) -> list[str]:
    """What in a template's source is CSS or script that belongs in a static file."""
    problems = []
    if STYLE_ATTRIBUTE.search(text):
        problems.append("a style attribute")
    if STYLE_BLOCK.search(text):
        problems.append("a <style> block")
    scripts = SCRIPT.findall(text)
    if len(scripts) != len(SCRIPT_OPENING.findall(text)):
        problems.append("a <script> without its </script>")
    for attributes, body in scripts:
        data_block = re.search(r"""type\s*=\s*["']?application/json""", attributes, re.IGNORECASE)
        external = re.search(r"\ssrc\s*=", " " + attributes, re.IGNORECASE) and not body.strip()
        if not (data_block or external):
            problems.append("an inline <script>")
    # Template tags are left out, so that a {% if %} between attributes neither hides nor fakes one.
    for tag in HTML_TAG.findall(DJANGO_TAG.sub(" ", text)):
        if EVENT_ATTRIBUTE.search(tag):
            problems.append(f"an on<event> attribute in {tag[:80]}")
        if JAVASCRIPT_URL.search(tag):
            problems.append(f"a javascript: address in {tag[:80]}")
    return problems


@pytest.mark.parametrize(
    "html",
    [
        '<p style="color: red">',
        "<p STYLE='color: red'>",
        "<style>p { color: red; }</style>",
        "<script>alert(1)</script>",
        '<script src="a.js">alert(1)</script>',
        "<script>",
        "<form onsubmit=\"return confirm('Sure?')\">",
        '<button class="btn" onclick="go()">',
        '<a {% if x %}onclick="go()"{% endif %} href="/">',
        '<a href="javascript:go()">',
    ],
)
def test_the_check_finds_inline_css_and_scripts(html):
    assert inline_css_and_scripts(html)


@pytest.mark.parametrize(
    "html",
    [
        "<script src=\"{% static 'linktrack/confirm.js' %}\" defer></script>",
        '<script id="data" type="application/json">{"a": 1}</script>',
        '<div class="bar pct-50" data-style="x" data-count="{{ n }}">',
        '<form data-confirm="Delete it?" action="{% url \'x\' %}">',
        "<p>Tap on a link: the phone opens it.</p>",
    ],
)
def test_the_check_lets_stylesheet_classes_static_scripts_and_data_pass(html):
    assert inline_css_and_scripts(html) == []


def test_templates_carry_no_inline_css_or_script():
    found = {
        str(path.relative_to(TEMPLATES)): problems
        for path in templates()
        if (problems := inline_css_and_scripts(path.read_text()))
    }
    assert found == {}


def test_only_email_templates_are_left_out():
    left_out = sorted(str(path.relative_to(TEMPLATES)) for path in TEMPLATES.rglob("*.html") if is_email(path))
    assert "campaigns/summary_email.html" in left_out and "campaigns/summary_email_figures.html" in left_out
    assert all("email" in name.rsplit("/", 1)[-1] for name in left_out)
    assert len(templates()) > 50


def test_every_static_file_a_template_names_is_found():
    named = {name for path in TEMPLATES.rglob("*.html") for name in STATIC_REFERENCE.findall(path.read_text())}
    assert STYLESHEET in named
    assert {name for name in named if finders.find(name) is None} == set()


@pytest.mark.django_db
def test_the_login_page_links_the_stylesheet(client):
    page = client.get(reverse("login")).content.decode()

    assert f'<link rel="stylesheet" href="{static(STYLESHEET)}">' in page
    stylesheet = finders.find(STYLESHEET)
    assert stylesheet is not None and ".card {" in Path(stylesheet).read_text()


def test_the_short_domain_pages_link_the_stylesheet(client, db):
    page = client.get("/s/NOSUCHCODE").content.decode()

    assert "This link does not work" in page
    assert f'<link rel="stylesheet" href="{static(STYLESHEET)}">' in page and '<body class="standalone">' in page


def test_pages_with_number_fields_carry_no_inline_style(client, manager, org):
    """Form widgets' attributes set in Python end up in the pages too: they name a class, not a style."""
    client.force_login(manager)
    for url in (reverse("campaigns:credits"), reverse("campaigns:sending-rules")):
        page = client.get(url, {"org": org.pk}).content.decode()
        assert 'type="number"' in page, url
        assert not STYLE_ATTRIBUTE.search(page) and not STYLE_BLOCK.search(page), url
