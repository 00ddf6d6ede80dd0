"""The state browser in a real browser: headless Chromium (Debian's chromium and
chromium-driver) driven by Selenium against a running appstream-local. It fills an
account with a few hundred resources and a hostile description, then checks that the
page lists them, shows the hostile text as text (no script ran), refreshes while a
fleet starts, and opens a resource's page. With a second argument, it saves screenshots
of both pages there.
The server should run with --transition-seconds 5, so that the fleet is still starting
when the browser, however slow to start, first loads the page.
Usage: APPSTREAM_ENDPOINT=http://127.0.0.1:4599 python3 ui_browser.py [SCREENSHOT_DIR]"""
import os
import sys
import time

import boto3
from chromium import headless
from selenium.webdriver.common.by import By

endpoint = os.environ.get("APPSTREAM_ENDPOINT", "http://127.0.0.1:4599")
shots = sys.argv[1] if len(sys.argv) > 1 else None
def client(account):
    return boto3.client("appstream", endpoint_url=endpoint, region_name="us-east-1",
                        aws_access_key_id=account, aws_secret_access_key="test")


# A few hundred stacks in a second account, listed after the first.
bulk = client("999999999999")
for i in range(300):
    bulk.create_stack(Name=f"team-{i:03}", DisplayName=f"Team {i:03}")
c = client("567890123456")
c.create_stack(Name="portal", Description="<script>document.title='pwned'</script>",
               DisplayName="<img src=x onerror=\"document.title='pwned'\">", Tags={"env": "test"})
c.create_fleet(Name="portal-fleet", InstanceType="stream.standard.medium",
               ImageName="AppStream-WinServer2022-10-08-2025", ComputeCapacity={"DesiredInstances": 2})
c.associate_fleet(FleetName="portal-fleet", StackName="portal")
c.create_user(UserName="ann@example.com", AuthenticationType="USERPOOL", FirstName="Ann")
c.batch_associate_user_stack(UserStackAssociations=[
    {"StackName": "portal", "UserName": "ann@example.com", "AuthenticationType": "USERPOOL"}])
c.create_image_builder(Name="golden-builder", InstanceType="stream.standard.large",
                       ImageName="AppStream-WinServer2022-10-08-2025")
c.start_fleet(Name="portal-fleet")

browser = headless()
try:
    browser.get(endpoint + "/_ui")
    links = browser.find_elements(By.CSS_SELECTOR, "a[href*='/us-east-1/stacks/']")
    assert len(links) == 301, len(links)
    assert browser.title == "State · appstream-local", browser.title
    body = browser.find_element(By.TAG_NAME, "body").text
    assert "<img src=x onerror=\"document.title='pwned'\">" in body, "the hostile name shows as text"
    starting = browser.find_elements(By.CSS_SELECTOR, ".state.busy")
    assert any(e.text == "STARTING" for e in starting), [e.text for e in starting]
    if shots:
        browser.save_screenshot(os.path.join(shots, "ui-overview.png"))
    # The page refreshes itself while the fleet starts, and then shows it RUNNING.
    deadline = time.time() + 20
    while not any(e.text == "RUNNING" for e in browser.find_elements(By.CSS_SELECTOR, ".state.ok")):
        assert time.time() < deadline, "the page did not refresh to RUNNING"
        time.sleep(0.5)
    assert browser.title != "pwned"
    browser.find_element(By.LINK_TEXT, "portal").click()
    detail = browser.find_element(By.TAG_NAME, "pre").text
    assert "<script>document.title='pwned'</script>" in detail, detail
    assert browser.title == "portal · appstream-local", browser.title
    if shots:
        browser.save_screenshot(os.path.join(shots, "ui-resource.png"))
    print(f"state browser in Chromium: ok ({len(links)} stacks listed, hostile text shown as text)")
finally:
    browser.quit()
