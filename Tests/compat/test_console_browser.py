"""The seed's whole flow in the web console, in headless Chromium driven by Selenium, against a real `keysmith
serve`: sign in, enrol TOTP (codes from pyotp), create a sub-account with the seed's settings, create an API key
for a third-party app with trade permission, read the key, secret and passphrase from the one-time page, then use
them with python-okx to read the balance. Screenshots of each step go to the test's output folder."""
import base64
import hashlib
import hmac
import json
import os
import shutil
import subprocess
import time
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import io

import okx.Account as Account
import pyotp
import pytest
import zxingcpp
from PIL import Image
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.common.exceptions import StaleElementReferenceException, WebDriverException
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select, WebDriverWait
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from conftest import BINARY, ROOT, free_port, start_serve, stop

SHOTS = Path(os.environ.get("KEYSMITH_SCREENSHOTS", ROOT / ".build" / "console-screenshots"))
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
DRIVER = shutil.which("chromedriver")


@pytest.fixture()
def browser():
    if not (CHROMIUM and DRIVER):
        pytest.fail("chromium and chromium-driver are needed (scripts/test installs them)")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1280,1000", "--disable-gpu"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(executable_path=DRIVER), options=options)
    driver.implicitly_wait(5)
    try:
        yield driver
    finally:
        driver.quit()


def shot(driver, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    driver.save_screenshot(str(SHOTS / f"{name}.png"))


def follow(driver, by, value) -> None:
    """Clicks a button or link and waits until the browser has left the page (a click returns before the next
    page has loaded)."""
    element = driver.find_element(by, value)
    element.click()
    WebDriverWait(driver, 10).until(lambda _: left_document(element))


def left_document(element) -> bool:
    """Whether the element's page is gone. While the next page replaces the document, chromedriver may answer
    "Node with given id does not belong to the document" (an unknown error) instead of a stale-element error: the
    element has left its document all the same."""
    try:
        element.is_enabled()
        return False
    except StaleElementReferenceException:
        return True
    except WebDriverException as error:
        if "does not belong to the document" in str(error):
            return True
        raise


def scan_qr(driver) -> str:
    """What a phone camera reads from the QR code on the page (zxing-cpp on a screenshot of the element)."""
    image = Image.open(io.BytesIO(driver.find_element(By.ID, "qr").screenshot_as_png))
    found = zxingcpp.read_barcodes(image)
    assert len(found) == 1 and found[0].format == zxingcpp.BarcodeFormat.QRCode, "no QR code found on the page"
    return found[0].text


def fresh_code(totp: pyotp.TOTP, used: set) -> str:
    """The current code, waiting for the next 30 s step when this one was already used (codes are single-use)."""
    while (code := totp.now()) in used:
        time.sleep(1)
    used.add(code)
    return code


def test_the_seed_flow_in_a_browser(tmp_path, browser):
    data = tmp_path / "data"
    subprocess.run([str(BINARY), "init", "--data-dir", str(data)], check=True, capture_output=True)
    subprocess.run([str(BINARY), "admin", "create", "ops@example.com", "--data-dir", str(data)], input="correct horse battery\n",
                   text=True, check=True, capture_output=True)
    subprocess.run([str(BINARY), "app", "add", "3commas", "--ip", "127.0.0.1", "--data-dir", str(data)], check=True, capture_output=True)
    port = free_port()
    log = tmp_path / "serve.log"
    process = start_serve(data, port, log)
    base = f"http://127.0.0.1:{port}"
    used: set = set()
    try:
        # 1. Sign in with email and password.
        browser.get(f"{base}/console")
        assert browser.current_url.endswith("/console/login")
        browser.find_element(By.ID, "email").send_keys("ops@example.com")
        browser.find_element(By.ID, "password").send_keys("correct horse battery")
        shot(browser, "01-sign-in")
        follow(browser, By.ID, "sign-in")

        # 2. Enrol TOTP: the page shows the otpauth link; pyotp computes the code.
        assert browser.current_url.endswith("/console/totp")
        uri = browser.find_element(By.ID, "totp-uri").text
        secret = parse_qs(urlparse(uri).query)["secret"][0]
        assert secret == browser.find_element(By.ID, "totp-secret").text
        assert scan_qr(browser) == uri, "the QR code carries the same otpauth link"
        totp = pyotp.TOTP(secret)
        shot(browser, "02-enrol-totp")
        browser.find_element(By.ID, "code").send_keys(fresh_code(totp, used))
        follow(browser, By.ID, "enable-totp")
        assert browser.current_url.endswith("/console")
        assert "Two-factor authentication is on." in browser.page_source
        shot(browser, "03-dashboard")

        # 3. Create the sub-account with the seed's settings.
        follow(browser, By.LINK_TEXT, "Sub-accounts")
        browser.find_element(By.ID, "name").send_keys("bot01trader")
        Select(browser.find_element(By.ID, "type")).select_by_visible_text("Standard")
        Select(browser.find_element(By.ID, "acctLv")).select_by_visible_text("Spot and futures")
        Select(browser.find_element(By.ID, "posMode")).select_by_visible_text("One-way")
        assert browser.find_element(By.NAME, "deposits").is_selected()
        shot(browser, "04-create-sub-account")
        follow(browser, By.ID, "create-subaccount")
        assert "Sub-account bot01trader created." in browser.page_source
        shot(browser, "05-sub-accounts")

        # 4. Create an API key for the third-party app, trade permission, with a passphrase.
        follow(browser, By.LINK_TEXT, "API keys")
        follow(browser, By.ID, "new-key")
        Select(browser.find_element(By.ID, "account")).select_by_visible_text("bot01trader")
        browser.find_element(By.ID, "label").send_keys("platform")
        Select(browser.find_element(By.ID, "purpose")).select_by_visible_text("Linking third-party app")
        Select(browser.find_element(By.ID, "app")).select_by_value("3commas")
        browser.find_element(By.ID, "perm-trade").click()
        browser.find_element(By.ID, "passphrase").send_keys("Platform-Pass-1")
        shot(browser, "06-create-api-key")
        follow(browser, By.ID, "create-key")

        # 5. The one-time page: copy key, secret and passphrase.
        api_key = browser.find_element(By.ID, "api-key").text
        secret_key = browser.find_element(By.ID, "secret-key").text
        passphrase = browser.find_element(By.ID, "passphrase").text
        assert passphrase == "Platform-Pass-1" and len(secret_key) >= 32
        shot(browser, "07-show-info-once")
        follow(browser, By.ID, "done")
        listing = browser.page_source
        assert api_key in listing and secret_key not in listing and passphrase not in listing
        shot(browser, "08-api-keys")
        # Going back does not show the secret again (the page was never cached).
        browser.back()
        assert secret_key not in browser.page_source

        # 6. The platform uses them: python-okx reads the balance.
        subprocess.run([str(BINARY), "deposit", "--account", "bot01trader", "--ccy", "USDT", "--amt", "250", "--data-dir", str(data)],
                       check=True, capture_output=True)
        account = Account.AccountAPI(api_key, secret_key, passphrase, False, "0", domain=base, debug=False)
        config = account.get_account_config()
        assert config["code"] == "0" and config["data"][0]["perm"] == "read_only,trade" and config["data"][0]["ip"] == "127.0.0.1"
        assert account.get_account_balance()["code"] == "0"
        import okx.Funding as Funding
        funding = Funding.FundingAPI(api_key, secret_key, passphrase, False, "0", domain=base, debug=False)
        assert funding.get_balances(ccy="USDT")["data"][0]["availBal"] == "250"

        # The key list counts the key's open WebSocket connections: one while the platform is logged in, none once
        # the key is revoked.
        def connections_shown() -> str:
            browser.get(f"{base}/console/keys")
            row = browser.find_element(By.XPATH, f"//tr[td/code[text()='{api_key}']]")
            return row.find_element(By.CLASS_NAME, "ws-connections").text
        assert connections_shown() == "0"
        with connect(f"ws://127.0.0.1:{port}/ws/v5/private") as ws:
            ts = str(int(time.time()))
            sign = base64.b64encode(hmac.new(secret_key.encode(), (ts + "GET/users/self/verify").encode(), hashlib.sha256).digest()).decode()
            ws.send(json.dumps({"op": "login", "args": [{"apiKey": api_key, "passphrase": passphrase, "timestamp": ts, "sign": sign}]}))
            assert json.loads(ws.recv(5))["code"] == "0"
            assert connections_shown() == "1"
            shot(browser, "10-api-keys-connected")
            # Revoked in the console, the key's connection gets its final event and is closed within a second.
            browser.get(f"{base}/console/keys/{api_key}/revoke")
            follow(browser, By.ID, "confirm-revoke")
            revoked_at = time.monotonic()
            final = json.loads(ws.recv(5))
            assert final["event"] == "error" and final["code"] == "60032", final
            with pytest.raises(ConnectionClosed):
                ws.recv(5)
            assert time.monotonic() - revoked_at < 1.0
        WebDriverWait(browser, 10).until(lambda _: connections_shown() == "0")

        # 7. Sign out.
        browser.get(f"{base}/console")
        follow(browser, By.XPATH, "//header//button")
        assert browser.current_url.endswith("/console/login")
        shot(browser, "09-signed-out")
    finally:
        stop(process)
    assert secret_key not in log.read_text() and passphrase not in log.read_text()
    assert sorted(p.name for p in SHOTS.glob("*.png"))[:9] == [
        "01-sign-in.png", "02-enrol-totp.png", "03-dashboard.png", "04-create-sub-account.png", "05-sub-accounts.png",
        "06-create-api-key.png", "07-show-info-once.png", "08-api-keys.png", "09-signed-out.png"]


def test_a_long_set_up_link_still_scans(tmp_path, browser):
    """A long email makes a long otpauth link: a larger QR version (version information, several blocks)."""
    data = tmp_path / "data"
    email = "operations.team." + "x" * 120 + "@keysmith-example.com"
    subprocess.run([str(BINARY), "init", "--data-dir", str(data)], check=True, capture_output=True)
    subprocess.run([str(BINARY), "admin", "create", email, "--data-dir", str(data)], input="correct horse battery\n",
                   text=True, check=True, capture_output=True)
    port = free_port()
    process = start_serve(data, port, tmp_path / "serve.log")
    try:
        browser.get(f"http://127.0.0.1:{port}/console/login")
        browser.find_element(By.ID, "email").send_keys(email)
        browser.find_element(By.ID, "password").send_keys("correct horse battery")
        follow(browser, By.ID, "sign-in")
        uri = browser.find_element(By.ID, "totp-uri").text
        assert len(uri) > 180
        modules = int(browser.find_element(By.CSS_SELECTOR, "#qr svg").get_dom_attribute("width")) // 4 - 8
        assert modules >= 45, "version 7 or larger (45 modules a side and up)"
        assert scan_qr(browser) == uri
    finally:
        stop(process)
