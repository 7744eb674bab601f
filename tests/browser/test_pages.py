"""Browser tests: the real `courier` binary, Debian's chromium driven by Playwright.

The client's upload with and without JavaScript, a resumable upload cut by the test and
resumed, the French page, how a refusal is shown, staff sign-in with TOTP and portal creation,
axe-core on every page type (no serious or critical violation), and screenshots at desktop and
phone width (saved under $ARTIFACTS). Run by tests/browser/run.sh; exits non-zero on a failure.
"""

import base64
import hashlib
import hmac
import json
import os
import re
import shutil
import struct
import subprocess
import sys
import tempfile
import threading
import time
import traceback

from playwright.sync_api import sync_playwright, expect

BIN = os.environ.get("COURIER_BIN", "target/debug/courier")
CHROMIUM = os.environ.get("CHROMIUM", "/usr/lib/chromium/chromium")
AXE = os.environ["AXE_JS"]
with open(AXE, encoding="utf-8") as _f:
    AXE_SOURCE = _f.read()
ARTIFACTS = os.environ.get("ARTIFACTS", "target/browser-artifacts")
PASSWORD = "violet tractor harbour 42"
SIZES = {"desktop": {"width": 1280, "height": 900}, "phone": {"width": 390, "height": 844}}


class Courier:
    """A data directory and a server on it."""

    def __init__(self, config: str):
        self.dir = tempfile.mkdtemp(prefix="courier-browser-")
        self.env = dict(os.environ, COURIER_DATA_DIR=os.path.join(self.dir, "data"), RUST_LOG="warn")
        cfg = os.path.join(self.dir, "courier.toml")
        with open(cfg, "w") as f:
            f.write(config)
        self.env["COURIER_CONFIG"] = cfg
        self.server = subprocess.Popen([BIN, "serve", "--bind", "127.0.0.1:0"], env=self.env,
                                       stdout=subprocess.PIPE, text=True)
        deadline = time.time() + 60
        self.base = None
        while time.time() < deadline:
            line = self.server.stdout.readline()
            if line.startswith("Courier is listening on "):
                self.base = line.split()[4]
                break
        assert self.base, "the server did not start"
        threading.Thread(target=lambda: self.server.stdout.read(), daemon=True).start()
        self.env["COURIER_PUBLIC_URL"] = self.base

    def cli(self, *args, stdin=None):
        out = subprocess.run([BIN, *args, "--json"], env=self.env, input=stdin, capture_output=True, text=True)
        assert out.returncode == 0, f"courier {args}: {out.stderr}"
        return json.loads(out.stdout)

    def stop(self):
        self.server.terminate()
        self.server.wait(10)
        shutil.rmtree(self.dir, ignore_errors=True)


def totp(secret: str) -> str:
    key = base64.b32decode(secret + "=" * (-len(secret) % 8))
    digest = hmac.new(key, struct.pack(">Q", int(time.time()) // 30), hashlib.sha1).digest()
    at = digest[-1] & 15
    return str((struct.unpack(">I", digest[at:at + 4])[0] & 0x7FFFFFFF) % 1_000_000).zfill(6)


def axe(page, what: str):
    """No serious or critical WCAG 2.x A/AA violation on the page."""
    # Evaluated through the devtools protocol: the page's CSP (no inline script) stays on.
    page.evaluate(AXE_SOURCE + "\n;0")
    result = page.evaluate("""async () => await axe.run(document, {
        runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa']}})""")
    bad = [v for v in result["violations"] if v["impact"] in ("serious", "critical")]
    assert not bad, f"{what}: " + "; ".join(
        f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes']][:3]}" for v in bad)


def shots(browser, url: str, name: str, **context):
    """Screenshots of `url` at desktop and phone width, and no sideways scrolling on the phone."""
    for size, viewport in SIZES.items():
        ctx = browser.new_context(viewport=viewport, **context)
        page = ctx.new_page()
        page.goto(url)
        page.screenshot(path=os.path.join(ARTIFACTS, f"{name}-{size}.png"), full_page=True)
        if size == "phone":
            overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
            assert overflow <= 1, f"{name} scrolls sideways on a phone by {overflow}px"
        ctx.close()


def write(path: str, data: bytes) -> str:
    with open(path, "wb") as f:
        f.write(data)
    return path


def test_client_pages(browser, courier: Courier, files: str):
    portal = courier.cli("portal", "create", "--label", "Smith v. Jones — intake")
    url = portal["url"]
    letter = write(os.path.join(files, "letter.txt"), b"Dear counsel,\nthe documents you asked for.\n" * 50)

    # With JavaScript: through tus, per-file state, summary, receipt.
    ctx = browser.new_context(viewport=SIZES["desktop"])
    page = ctx.new_page()
    page.goto(url)
    axe(page, "client upload page")
    page.set_input_files("#files", letter)
    expect(page.locator("#queue li")).to_have_attribute("data-state", "waiting")
    page.click("button[type=submit]")
    expect(page.locator("#summary")).to_have_text(re.compile("All files were received: 1"), timeout=30_000)
    expect(page.locator("#queue li")).to_have_attribute("data-state", "accepted")
    expect(page.locator("#receipt table")).to_contain_text(hashlib.sha256(open(letter, "rb").read()).hexdigest())
    # The size as people read it (2,200 bytes), as the server's receipt page writes it.
    expect(page.locator("#receipt table")).to_contain_text("2.1 KiB")
    assert page.evaluate("document.activeElement.id") == "summary", "focus moves to the result"
    axe(page, "client upload page with a receipt")
    page.screenshot(path=os.path.join(ARTIFACTS, "client-receipt-js-desktop.png"), full_page=True)

    # A refused file: its reason in words, a bar not left full, an honest summary.
    page.goto(url)
    fake = write(os.path.join(files, "invoice.pdf"), b"MZ\x90\x00\x03" + b"\x00" * 300)
    page.set_input_files("#files", [fake, letter])
    page.click("button[type=submit]")
    expect(page.locator("#summary")).to_have_text(re.compile("Files received: 1 of 2; not received: 1"), timeout=30_000)
    refused = page.locator("#queue li").first
    expect(refused).to_have_attribute("data-state", "refused")
    expect(refused).to_contain_text("refused:")
    assert "application/" not in refused.inner_text(), "no MIME types in the reason"
    expect(refused.locator("progress")).to_be_hidden()
    page.screenshot(path=os.path.join(ARTIFACTS, "client-refusal-desktop.png"), full_page=True)
    axe(page, "client page with a refusal")
    ctx.close()

    print("  client: JS upload and refusal shown", flush=True)
    # A resumable upload cut by the test: the first PATCH is aborted; the client resumes.
    ctx = browser.new_context(viewport=SIZES["desktop"])
    page = ctx.new_page()
    cut = {"done": False}

    def cut_first_patch(route):
        if route.request.method == "PATCH" and not cut["done"]:
            cut["done"] = True
            route.abort("connectionreset")
        else:
            route.continue_()

    page.route("**/tus/**", cut_first_patch)
    big = write(os.path.join(files, "scan.txt"), os.urandom(1 << 20).hex().encode())
    page.goto(url)
    page.set_input_files("#files", big)
    page.click("button[type=submit]")
    expect(page.locator("#summary")).to_have_text(re.compile("All files were received: 1"), timeout=60_000)
    assert cut["done"], "the test did not cut the upload"
    docs = courier.cli("doc", "list", "--portal", portal["id"])
    digest = hashlib.sha256(open(big, "rb").read()).hexdigest()
    assert any(d["sha256"] == digest for d in docs), "the resumed file arrived whole"
    ctx.close()

    print("  client: resumed after a cut", flush=True)
    # Without JavaScript: the form posts, the receipt page answers.
    ctx = browser.new_context(viewport=SIZES["desktop"], java_script_enabled=False)
    page = ctx.new_page()
    page.goto(url)
    page.set_input_files("#files", letter)
    page.click("button[type=submit]")
    expect(page.locator("h1")).to_have_text("Received, thank you")
    page.screenshot(path=os.path.join(ARTIFACTS, "client-receipt-nojs-desktop.png"), full_page=True)
    receipt_html = page.content()
    ctx.close()
    # axe needs script: the receipt page's markup, checked in a page that runs it.
    ctx = browser.new_context(viewport=SIZES["desktop"])
    page = ctx.new_page()
    page.goto(url)
    page.set_content(receipt_html)
    axe(page, "receipt page")
    ctx.close()

    # The French page, for a browser that asks for French.
    ctx = browser.new_context(viewport=SIZES["desktop"], locale="fr-FR")
    page = ctx.new_page()
    page.goto(url)
    assert page.get_attribute("html", "lang") == "fr"
    expect(page.locator("button[type=submit]")).to_have_text("Envoyer en toute sécurité")
    axe(page, "client upload page in French")
    # A refusal on the French page is said in French.
    page.set_input_files("#files", fake)
    page.click("button[type=submit]")
    refused = page.locator("#queue li").first
    expect(refused).to_have_attribute("data-state", "refused", timeout=30_000)
    expect(refused).to_contain_text("programme ou un script")
    page.goto(url)
    page.click("text=English")
    assert page.get_attribute("html", "lang") == "en", "the visible switch"
    ctx.close()
    shots(browser, url, "client-upload")
    shots(browser, url, "client-upload-fr", locale="fr-FR")

    # The passcode page.
    guarded = courier.cli("portal", "create", "--label", "Guarded", "--passcode-stdin", stdin="horse-battery-9\n")
    ctx = browser.new_context(viewport=SIZES["phone"])
    page = ctx.new_page()
    page.goto(guarded["url"])
    axe(page, "passcode page")
    page.fill("input[name=passcode]", "wrong-one-1")
    page.click("button[type=submit]")
    expect(page.locator("[role=alert]")).to_be_visible()
    axe(page, "passcode page with an error")
    ctx.close()
    shots(browser, guarded["url"], "client-passcode")

    # A share page.
    matter = courier.cli("matter", "create", "--name", "Durand")
    doc = courier.cli("doc", "upload", "--matter", matter["id"], letter)
    share = courier.cli("share", "create", "--matter", matter["id"], "--doc", doc["id"], "--recipient", "Dr. Expert")
    ctx = browser.new_context(viewport=SIZES["desktop"])
    page = ctx.new_page()
    page.goto(share["url"])
    axe(page, "share page")
    ctx.close()
    shots(browser, share["url"], "share")


def test_staff_pages(browser, courier: Courier):
    user = courier.cli("user", "create", "--email", "ann@firm.example", "--role", "admin", "--password-stdin",
                       stdin=PASSWORD + "\n")
    ctx = browser.new_context(viewport=SIZES["desktop"])
    page = ctx.new_page()
    page.goto(courier.base + "/login")
    axe(page, "sign-in page")
    page.fill("input[name=email]", "ann@firm.example")
    page.fill("input[name=password]", PASSWORD)
    page.click("form[action='/login'] button[type=submit]")
    page.wait_for_url("**/login/mfa")
    axe(page, "second-factor page")
    page.fill("input[name=code]", totp(user["totp_secret"]))
    page.click("form[action='/login/mfa'] button[type=submit]")
    page.goto(courier.base + "/portals")
    axe(page, "staff portals page")
    page.fill("input[name=label]", "From the browser")
    page.select_option("select[name=language]", "fr")
    page.click("form[action='/portals'] button[type=submit]")
    expect(page.locator("#portal-url")).to_have_value(re.compile("/p/"))
    axe(page, "new link page")
    link = page.input_value("#portal-url")
    page.screenshot(path=os.path.join(ARTIFACTS, "staff-new-link-desktop.png"), full_page=True)
    # The client's instruction sheet opens in a new tab (the link page stays), in the portal's
    # language, and prints on one A4 page.
    with ctx.expect_page() as opened:
        page.click("form[action$='/instructions'] button[value=view]")
    sheet = opened.value
    sheet.wait_for_load_state()
    assert sheet.get_attribute("html", "lang") == "fr"
    expect(sheet.locator(".url")).to_have_text(link)
    axe(sheet, "instruction sheet")
    sheet.screenshot(path=os.path.join(ARTIFACTS, "instruction-sheet-desktop.png"), full_page=True)
    pdf = sheet.pdf(format="A4", path=os.path.join(ARTIFACTS, "instruction-sheet.pdf"))
    pages = len(re.findall(rb"/Type\s*/Page[^s]", pdf))
    assert pages == 1, f"the instruction sheet prints on {pages} pages"
    sheet.close()
    for path, name in [("/portals", "staff-portals"), ("/matters", "staff-matters"), ("/account", "staff-account"),
                       ("/settings/firm", "staff-firm")]:
        page.goto(courier.base + path)
        axe(page, name)
        for size, viewport in SIZES.items():
            page.set_viewport_size(viewport)
            page.screenshot(path=os.path.join(ARTIFACTS, f"{name}-{size}.png"), full_page=True)
            overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
            assert overflow <= 1, f"{name} scrolls sideways at {size} width by {overflow}px"
        page.set_viewport_size(SIZES["desktop"])
    ctx.close()
    # The portal made through the staff form speaks French to a browser that asks for English.
    ctx = browser.new_context(locale="en-GB")
    page = ctx.new_page()
    page.goto(link)
    assert page.get_attribute("html", "lang") == "fr"
    ctx.close()


def main() -> int:
    os.makedirs(ARTIFACTS, exist_ok=True)
    files = tempfile.mkdtemp(prefix="courier-browser-files-")
    courier = Courier('firm_name = "Durand & Associés"\ntimezone = "Europe/Paris"\n'
                      'client_contact = "Maître Durand, +33 1 23 45 67 89"\n')
    failures = 0
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
            for test in (test_client_pages, test_staff_pages):
                started = time.time()
                try:
                    if test is test_client_pages:
                        test(browser, courier, files)
                    else:
                        test(browser, courier)
                    print(f"ok   {test.__name__} ({time.time() - started:.1f} s)")
                except Exception:  # noqa: BLE001 - report every test, then fail
                    failures += 1
                    print(f"FAIL {test.__name__}")
                    traceback.print_exc()
            browser.close()
    finally:
        courier.stop()
        shutil.rmtree(files, ignore_errors=True)
    print(f"browser tests: {2 - failures} passed, {failures} failed; screenshots in {ARTIFACTS}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
