"""axe-core (vendored in tests/vendor/axe-core, never served to users) run on a page open in Chromium.

The pages' Content-Security-Policy lets scripts come only from the app's own origin and never inline, so axe cannot
be added as an inline script. The test's browser context answers one made-up address on the app's origin with the
vendored file itself (Playwright's request routing), and the page loads axe from there as any other static script:
the policy stays enforced, exactly as users get it."""

from pathlib import Path
from urllib.parse import urlsplit

AXE = Path(__file__).resolve().parent / "vendor" / "axe-core" / "axe.min.js"
AXE_PATH = "/__tests__/axe-core/axe.min.js"

# What axe checks: the WCAG 2.1 A and AA rules and its best practices (landmarks, one main, headings, ...).
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]

_RUN = """async (tags) => {
  const results = await axe.run(document, {runOnly: {type: "tag", values: tags}, resultTypes: ["violations"]});
  return results.violations.map((v) => ({
    id: v.id, help: v.help, nodes: v.nodes.map((n) => n.target.join(" ") + ": " + n.failureSummary.split("\\n").slice(1).map((line) => line.trim()).join("; "))
  }));
}"""


def axe_serve(context, base_url: str) -> None:
    """Let the pages of `context` load axe from AXE_PATH on the app's origin (base_url)."""
    origin = "{0.scheme}://{0.netloc}".format(urlsplit(base_url))
    context.route(f"{origin}{AXE_PATH}", lambda route: route.fulfill(path=AXE, content_type="text/javascript"))


def axe_violations(page) -> list[str]:
    """Each rule the open page breaks, in words, with the elements that break it (empty: none)."""
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        origin = "{0.scheme}://{0.netloc}".format(urlsplit(page.url))
        page.add_script_tag(url=f"{origin}{AXE_PATH}")
    return [
        f"{page.url}: {violation['id']} ({violation['help']}) at " + "; ".join(violation["nodes"][:5])
        for violation in page.evaluate(_RUN, AXE_TAGS)
    ]
