"""Streaming URLs in a real browser: headless Chromium (Debian's chromium and
chromium-driver) driven by Selenium against a running appstream-local. It opens a
streaming URL and checks the session page and, through boto3, the session's state at
each step (connect, disconnect, reconnect, end; a session ended through the API),
then the refusal pages (forged, expired, unknown) with their HTTP status, an app block
builder's page with "Finish packaging", an image builder's with "Create image", and the session in the state browser. With a
second argument, it saves screenshots of the pages there.
The server should run with --transition-seconds 0.
Usage: APPSTREAM_ENDPOINT=http://127.0.0.1:4599 python3 session_browser.py [SCREENSHOT_DIR]"""
import json
import os
import sys
import time
import urllib.error
import urllib.request

import boto3
from chromium import headless
from selenium.common.exceptions import WebDriverException
from selenium.webdriver.common.by import By

endpoint = os.environ.get("APPSTREAM_ENDPOINT", "http://127.0.0.1:4599")
shots = sys.argv[1] if len(sys.argv) > 1 else None
c = boto3.client("appstream", endpoint_url=endpoint, region_name="us-east-1",
                 aws_access_key_id="246813579024", aws_secret_access_key="test")


def shot(browser, name):
    if shots:
        browser.save_screenshot(os.path.join(shots, name))


def status_of(url):
    try:
        return urllib.request.urlopen(url).status
    except urllib.error.HTTPError as e:
        return e.code


def session_of(user):
    found = [s for s in c.describe_sessions(StackName="design", FleetName="studio")["Sessions"]
             if s["UserId"] == user]
    return found[0] if found else None


def wait_for(what, check, seconds=15):
    deadline = time.time() + seconds
    while not check():
        assert time.time() < deadline, what
        time.sleep(0.2)


# A stack with settings and a theme, on an Elastic fleet with three applications.
c.create_stack(Name="design", DisplayName="Design studio", UserSettings=[
    {"Action": "FILE_DOWNLOAD", "Permission": "DISABLED"},
    {"Action": "PRINTING_TO_LOCAL_DEVICE", "Permission": "DISABLED"}])
c.create_theme_for_stack(
    StackName="design", TitleText="Example Corp apps", ThemeStyling="BLUE",
    OrganizationLogoS3Location={"S3Bucket": "brand", "S3Key": "logo.png"},
    FaviconS3Location={"S3Bucket": "brand", "S3Key": "favicon.ico"},
    FooterLinks=[{"DisplayName": "IT help desk", "FooterLinkURL": "https://help.example.com"},
                 {"DisplayName": "Privacy", "FooterLinkURL": "https://example.com/privacy"}])
block = c.create_app_block(
    Name="studio-tools", SourceS3Location={"S3Bucket": "apps", "S3Key": "tools.vhdx"},
    SetupScriptDetails={"ScriptS3Location": {"S3Bucket": "apps", "S3Key": "setup.ps1"},
                        "ExecutablePath": "setup.exe", "TimeoutInSeconds": 60})["AppBlock"]["Arn"]
c.create_fleet(Name="studio", FleetType="ELASTIC", Platform="WINDOWS_SERVER_2019",
               InstanceType="stream.standard.medium", MaxConcurrentSessions=5,
               VpcConfig={"SubnetIds": ["subnet-1", "subnet-2"]})
for name, display in [("firefox", "Firefox"), ("gimp", "GIMP"), ("writer", "LibreOffice Writer")]:
    app = c.create_application(
        Name=name, DisplayName=display, LaunchPath=f"C:\\apps\\{name}.exe",
        IconS3Location={"S3Bucket": "apps", "S3Key": f"{name}.png"},
        Platforms=["WINDOWS_SERVER_2019"], InstanceFamilies=["GENERAL_PURPOSE"],
        AppBlockArn=block)["Application"]["Arn"]
    c.associate_application_fleet(FleetName="studio", ApplicationArn=app)
c.associate_fleet(FleetName="studio", StackName="design")
c.start_fleet(Name="studio")

browser = headless()


def text():
    """The page's text; empty while a click's navigation replaces the page."""
    try:
        return browser.find_element(By.TAG_NAME, "body").text
    except WebDriverException:
        return ""


try:
    # Open: the session becomes ACTIVE and CONNECTED, with a StartTime.
    url = c.create_streaming_url(StackName="design", FleetName="studio", UserId="maria",
                                 ApplicationId="gimp")["StreamingURL"]
    assert url.startswith(endpoint + "/authenticate?parameters="), url
    assert session_of("maria")["State"] == "PENDING"
    browser.get(url)
    assert browser.title == "Example Corp apps · AppStream 2.0 (appstream-local)", browser.title
    body = text()
    for shown in ["Signed in as maria", "Firefox", "GIMP", "LibreOffice Writer", "Design studio",
                  "IT help desk", "CONNECTED"]:
        assert shown in body, (shown, body)
    launched = browser.find_element(By.CSS_SELECTOR, ".app.launched").text
    assert launched.endswith("GIMP"), launched
    off = [e.text for e in browser.find_elements(By.CSS_SELECTOR, ".chip.off")]
    assert off == ["File download", "Printing"], off
    session = session_of("maria")
    assert (session["State"], session["ConnectionState"]) == ("ACTIVE", "CONNECTED"), session
    assert "StartTime" in session
    shot(browser, "session.png")

    # The state browser shows the connected session.
    browser.get(endpoint + "/_ui")
    row = [r.text for r in browser.find_elements(By.CSS_SELECTOR, "tr") if "maria" in r.text]
    assert row and "CONNECTED" in row[0] and "ACTIVE" in row[0], row
    browser.back()

    # Disconnect, reconnect, end: the API follows each button.
    browser.find_element(By.XPATH, "//button[text()='Disconnect']").click()
    wait_for("the page shows the disconnect", lambda: "NOT_CONNECTED" in text())
    assert session_of("maria")["ConnectionState"] == "NOT_CONNECTED"
    browser.find_element(By.XPATH, "//button[text()='Reconnect']").click()
    wait_for("the page shows the reconnect", lambda: "Disconnect" in text())
    assert session_of("maria")["ConnectionState"] == "CONNECTED"
    browser.find_element(By.XPATH, "//button[text()='End session']").click()
    wait_for("the page shows the end", lambda: "has ended" in text())
    assert session_of("maria") is None

    # A session ended through the API: its page shows it ended on its next refresh.
    url = c.create_streaming_url(StackName="design", FleetName="studio", UserId="omar")["StreamingURL"]
    browser.get(url)
    assert "Signed in as omar" in text()
    c.expire_session(SessionId=session_of("omar")["Id"])
    wait_for("the page refreshes to ended", lambda: "has ended" in text(), seconds=20)
    shot(browser, "session-ended.png")

    # Refusals: a changed signature (403), an unknown address (404), an expired URL (403).
    url = c.create_streaming_url(StackName="design", FleetName="studio", UserId="lena",
                                 Validity=30)["StreamingURL"]
    head, signature = url.rsplit("&signature=", 1)
    forged = f"{head}&signature={'B' if signature[0] == 'A' else 'A'}{signature[1:]}"
    assert status_of(forged) == 403
    browser.get(forged)
    assert "signature does not match" in text(), text()
    shot(browser, "refused.png")
    assert status_of(endpoint + "/authenticate") == 404
    browser.get(endpoint + "/authenticate")
    assert "not a streaming URL" in text()
    moved = urllib.request.Request(endpoint + "/_clock", data=json.dumps({"advance_seconds": 31}).encode(),
                                   method="POST", headers={"Content-Type": "application/json"})
    urllib.request.urlopen(moved).read()
    assert status_of(url) == 403
    browser.get(url)
    assert "has expired" in text()
    assert session_of("lena")["State"] == "PENDING"

    # An app block builder's page finishes packaging.
    packaged = c.create_app_block(Name="office-suite", PackagingType="APPSTREAM2",
                                  SourceS3Location={"S3Bucket": "apps"})["AppBlock"]["Arn"]
    c.create_app_block_builder(Name="packager", Platform="WINDOWS_SERVER_2019",
                               InstanceType="stream.standard.medium",
                               VpcConfig={"SubnetIds": ["subnet-1", "subnet-2"]})
    c.associate_app_block_builder_app_block(AppBlockBuilderName="packager", AppBlockArn=packaged)
    c.start_app_block_builder(Name="packager")
    url = c.create_app_block_builder_streaming_url(AppBlockBuilderName="packager")["StreamingURL"]
    browser.get(url)
    assert "App block builder packager" in text() and "INACTIVE" in text(), text()
    shot(browser, "app-block-builder.png")
    browser.find_element(By.XPATH, "//button[text()='Finish packaging']").click()
    wait_for("the block shows ACTIVE", lambda: "office-suite ACTIVE" in text())
    assert c.describe_app_blocks(Arns=[packaged])["AppBlocks"][0]["State"] == "ACTIVE"
    # An image builder's page makes an image.
    c.create_image_builder(Name="golden", InstanceType="stream.standard.large",
                           ImageName="AppStream-WinServer2022-10-08-2025")
    url = c.create_image_builder_streaming_url(Name="golden")["StreamingURL"]
    browser.get(url)
    assert "Image builder golden" in text() and "RUNNING" in text(), text()
    shot(browser, "image-builder.png")
    browser.find_element(By.NAME, "image_name").send_keys("golden-2026")
    browser.find_element(By.XPATH, "//button[text()='Create image']").click()
    wait_for("the image exists", lambda: c.describe_images(Type="PRIVATE")["Images"])
    assert c.describe_images(Names=["golden-2026"])["Images"][0]["Name"] == "golden-2026"
    print("streaming URLs in Chromium: ok (connect, disconnect, reconnect, end, API expiry, "
          "403/404 refusals, finish packaging, create image)")
finally:
    browser.quit()
