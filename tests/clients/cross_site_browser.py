"""Another website against a default appstream-local, in a real browser: headless Chromium
(Debian's chromium and chromium-driver, driven by Selenium) opens a page served from
another origin that tries what any site can do without asking: an auto-submitted form
(text/plain) to /_reset, no-cors fetches to /_faults and /_clock, and a page on a
rebinding name (evil.test, mapped to 127.0.0.1 as DNS rebinding would) reading /_state.
Afterwards the emulator must hold what it held before: the stack, no fault rule, the
clock unmoved. The session pages' own buttons are checked by session_browser.py.
Usage: APPSTREAM_ENDPOINT=http://127.0.0.1:4599 python3 cross_site_browser.py"""
import http.server
import json
import os
import threading
import time
import urllib.parse
import urllib.request

import boto3
from selenium import webdriver
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By

endpoint = os.environ.get("APPSTREAM_ENDPOINT", "http://127.0.0.1:4599")
port = urllib.parse.urlsplit(endpoint).port
c = boto3.client("appstream", endpoint_url=endpoint, region_name="us-east-1",
                 aws_access_key_id="135792468024", aws_secret_access_key="test")
c.create_stack(Name="still-here")

ATTACK = """<!doctype html><html><body>
<iframe name="sink" style="display:none"></iframe>
<form id="reset" method="post" action="TARGET/_reset" enctype="text/plain" target="sink">
  <input name='{"a":"' value='"}'>
</form>
<p id="done">working</p>
<script>
const target = "TARGET";
const attempts = [
  fetch(target + "/_faults", {method: "POST", mode: "no-cors", headers: {"Content-Type": "text/plain"},
    body: JSON.stringify({rules: [{operation: "*", error: {code: "Gotcha"}}]})}),
  fetch(target + "/_clock", {method: "POST", mode: "no-cors",
    body: JSON.stringify({advance_seconds: 315360000})}),
  fetch(target + "/_reset", {method: "POST", mode: "no-cors"}),
  fetch(target + "/_state").then(r => r.text()),
];
document.getElementById("reset").submit();
Promise.allSettled(attempts).then(results => {
  document.getElementById("done").textContent =
    JSON.stringify(results.map(r => r.status === "fulfilled" ? (typeof r.value === "string" ? "READ" : "sent") : "blocked"));
});
</script></body></html>""".replace("TARGET", endpoint)


class Attacker(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = ATTACK.encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


site = http.server.HTTPServer(("127.0.0.1", 0), Attacker)
threading.Thread(target=site.serve_forever, daemon=True).start()

options = Options()
for flag in ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
             "--host-resolver-rules=MAP evil.test 127.0.0.1"]:
    options.add_argument(flag)
options.binary_location = "/usr/bin/chromium"
browser = webdriver.Chrome(options=options, service=Service("/usr/bin/chromedriver"))
try:
    # The attacker's page, on another origin (another port, and a rebinding name).
    browser.get(f"http://evil.test:{site.server_port}/")
    deadline = time.time() + 15
    while browser.find_element(By.ID, "done").text == "working":
        assert time.time() < deadline, "the page's requests did not settle"
        time.sleep(0.2)
    outcome = json.loads(browser.find_element(By.ID, "done").text)
    assert "READ" not in outcome, f"a cross-origin page read /_state: {outcome}"
    time.sleep(0.5)  # the form's own submission

    # After rebinding, the page's origin is the emulator's port under the attacker's name.
    browser.get(f"http://evil.test:{port}/_state")
    shown = browser.find_element(By.TAG_NAME, "body").text
    assert "still-here" not in shown and "not one of this server's names" in shown, shown
finally:
    browser.quit()
    site.shutdown()

with urllib.request.urlopen(endpoint + "/_faults") as reply:
    assert json.load(reply)["rules"] == [], "a fault rule was added"
with urllib.request.urlopen(endpoint + "/_clock") as reply:
    assert json.load(reply)["offset_seconds"] == 0, "the clock moved"
names = [s["Name"] for s in c.describe_stacks()["Stacks"]]
assert names == ["still-here"], f"state was reset: {names}"
print(f"cross-site page refused: form and fetches changed nothing ({outcome}), "
      "a rebinding name read nothing")
