"""Opens a running server's /docs in headless Chromium and uses it as a new user would.

Usage: python docs.py BASE_URL CHROMIUM ACCESS_KEY

Passes (exit 0) when the page renders with no request beyond 127.0.0.1, lists both operations,
"Try it out" on the listing (authorized with ACCESS_KEY) gets 200 and shows the components, and
the console logs no errors. Prints what it saw; exits 1 with the reasons otherwise.
Run by tests/docs_browser.rs; Chromium is Debian's, driven through Playwright (no download).
"""

import sys
from urllib.parse import urlsplit

from playwright.sync_api import sync_playwright

CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
OPERATIONS = ["GET", "POST"]
LISTING_PATH = "/openapi/v1/teams/{team_id}/regions/{region_name}/apps/{app_id}/copy"
PARAMETERS = {"team_id": "o19p6wen", "region_name": "rainbond", "app_id": "1"}
COMPONENTS = ["web", "api", "db"]
# Every wait is bounded; the whole run takes a few seconds.
TIMEOUT_MS = 30_000


def main(base_url, chromium, access_key):
    problems = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_FLAGS)
        page = browser.new_page()
        page.set_default_timeout(TIMEOUT_MS)
        watch(page, problems)
        page.goto(f"{base_url}/docs/")
        check_operations(page, problems)
        authorize(page, access_key)
        try_the_listing(page, base_url, problems)
        browser.close()
    for problem in problems:
        print(f"FAIL: {problem}")
    return 1 if problems else 0


def watch(page, problems):
    """Blocks and reports any request beyond 127.0.0.1, and reports console errors."""

    def route(route):
        host = urlsplit(route.request.url).hostname
        if host == "127.0.0.1":
            route.continue_()
        else:
            problems.append(f"request beyond 127.0.0.1: {route.request.url}")
            route.abort()

    page.route("**/*", route)
    page.on("console", lambda m: m.type == "error" and problems.append(f"console error: {m.text}"))
    page.on("pageerror", lambda e: problems.append(f"page error: {e}"))


def check_operations(page, problems):
    page.wait_for_selector(".opblock-summary")
    listed = []
    for summary in page.query_selector_all(".opblock-summary"):
        method = summary.query_selector(".opblock-summary-method").inner_text().strip()
        path = summary.query_selector(".opblock-summary-path").inner_text().strip().replace("\u200b", "")
        listed.append((method, path))
        print(f"listed: {method} {path}")
    expected = [(method, LISTING_PATH) for method in OPERATIONS]
    if listed != expected:
        problems.append(f"operations listed: {listed}, expected {expected}")


def authorize(page, access_key):
    page.click("button.authorize")
    page.fill(".modal-ux input[type=text]", access_key)
    page.click(".modal-ux button.authorize")
    page.click(".modal-ux button.btn-done")


def try_the_listing(page, base_url, problems):
    block = page.locator(".opblock-get")
    block.locator(".opblock-summary").click()
    block.locator("button.try-out__btn").click()
    for name, value in PARAMETERS.items():
        block.locator(f"tr[data-param-name='{name}'] input").fill(value)
    sent = []
    page.on("request", lambda r: "/apps/" in r.url and sent.append(r.url))
    block.locator("button.execute").click()
    block.locator(".live-responses-table .response .response-col_status").first.wait_for()
    print(f"try it out sent: {sent}")
    if not sent or not all(url.startswith(f"{base_url}/") for url in sent):
        problems.append(f"the request went to {sent}, not to the server that served the page ({base_url})")
    status = block.locator(".live-responses-table .response .response-col_status").first.inner_text().strip()
    body = block.locator(".live-responses-table .response .response-col_description").first.inner_text()
    print(f"shown: status {status}, {len(body)} characters of body")
    if status != "200":
        problems.append(f"the page shows status {status!r}, expected 200")
    missing = [name for name in COMPONENTS if f'"service_cname": "{name}"' not in body]
    if missing:
        problems.append(f"the shown body lacks the components {missing}: {body[:500]}")


if __name__ == "__main__":
    if len(sys.argv) != 4:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    sys.exit(main(*sys.argv[1:]))
