"""Headless Chromium for the browser checks: Debian's chromium with the chromium-driver
of the same package, so browser and driver always match and nothing is downloaded."""
from selenium import webdriver
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service


def headless():
    """A browser whose window is the size of the README's screenshots."""
    options = Options()
    for flag in ["--headless=new", "--no-sandbox", "--disable-gpu", "--window-size=1280,900"]:
        options.add_argument(flag)
    options.binary_location = "/usr/bin/chromium"
    return webdriver.Chrome(options=options, service=Service("/usr/bin/chromedriver"))
