"""What the browser tests share: real `ocopd` and `ocop` processes on loopback
ports, a headless Chromium driven by Selenium (Debian's chromium,
chromium-driver and python3-selenium), and screenshots of each screen saved
under the build directory (out of git) to be looked at.

Every process is started by the test and stopped at its end; every wait is
bounded. Nothing here reaches beyond this machine.
"""
import argparse
import json
import os
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import unittest

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait

ARGS = None  # --ocop, --ocopd, --screenshots


def parse_args():
    global ARGS
    p = argparse.ArgumentParser()
    p.add_argument('--ocop', required=True)
    p.add_argument('--ocopd', required=True)
    p.add_argument('--screenshots', required=True)
    ARGS, rest = p.parse_known_args()
    os.makedirs(ARGS.screenshots, exist_ok=True)
    return [sys.argv[0]] + rest


def read_line_with(proc, needle, timeout=30):
    """Reads the process's stdout until a line holds `needle` (bounded)."""
    deadline = time.time() + timeout
    seen = ''
    while time.time() < deadline:
        ready, _, _ = select.select([proc.stdout], [], [], 0.2)
        if not ready:
            if proc.poll() is not None:
                break
            continue
        line = proc.stdout.readline()
        if not line:
            break
        seen += line
        if needle in line:
            return line.strip()
    raise AssertionError(f'no line with {needle!r} within {timeout} s; saw: {seen!r}')


class Server:
    """A real ocopd on a free loopback port, with its own data directory."""

    def __init__(self, workdir):
        self.data = os.path.join(workdir, 'ocopd-data')
        self.log = open(os.path.join(workdir, 'ocopd.log'), 'w')
        self.proc = subprocess.Popen([ARGS.ocopd, '--data-dir', self.data, '--port', '0', '--host', '127.0.0.1'],
                                     stdout=subprocess.PIPE, stderr=self.log, text=True)
        line = read_line_with(self.proc, 'listening on http')
        self.url = line[line.index('http'):]

    def add_user(self, name, role, unit, password):
        r = subprocess.run([ARGS.ocopd, '--data-dir', self.data, '--add-user', name, '--role', role, '--unit', unit],
                           input=password + '\n', capture_output=True, text=True, timeout=60)
        assert r.returncode == 0, r.stderr

    def stop(self):
        stop_process(self.proc)
        self.log.close()


def stop_process(proc):
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=15)
    for pipe in (proc.stdin, proc.stdout, proc.stderr):
        if pipe:
            pipe.close()


class Device:
    """One officer's device: an `ocop` home, its command line and its screens."""

    def __init__(self, workdir, name):
        self.home = os.path.join(workdir, name)
        self.ui = None

    def run(self, *args, input=None, check=True):
        r = subprocess.run([ARGS.ocop, '--home', self.home, *args], input=input, capture_output=True, text=True,
                           timeout=120)
        if check:
            assert r.returncode == 0, f'ocop {" ".join(args)}: {r.returncode}\n{r.stdout}\n{r.stderr}'
        return r

    def start_ui(self, *extra, password=None, prefix=()):
        cmd = [*prefix, ARGS.ocop, '--home', self.home, 'ui', '--port', '0', '--json', *extra]
        self.ui = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        if password is not None:
            self.ui.stdin.write(password + '\n')
            self.ui.stdin.flush()
        line = read_line_with(self.ui, '"url"')
        self.url = json.loads(line)['url']
        return self.url

    def stop_ui(self):
        if self.ui:
            stop_process(self.ui)
            self.ui = None


def chromium(width=1366, height=768, profile=None):
    """Headless Chromium; `profile`: a directory that keeps its storage across
    a quit and a new start (a phone switched off and on)."""
    opts = webdriver.ChromeOptions()
    if profile:
        opts.add_argument(f'--user-data-dir={profile}')
    opts.binary_location = shutil.which('chromium') or '/usr/bin/chromium'
    for a in ['--headless=new', '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', f'--window-size={width},{height}',
              '--disable-background-networking', '--disable-component-update', '--no-first-run', '--disable-sync',
              '--disable-default-apps', '--lang=vi-VN']:
        opts.add_argument(a)
    service = Service(shutil.which('chromedriver') or '/usr/bin/chromedriver')
    return webdriver.Chrome(service=service, options=opts)


class BrowserTest(unittest.TestCase):
    """Base: a temporary directory, a browser, helpers to wait and to look."""

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix='ocop-browser-')
        self.cleanups = []
        self.driver = chromium()
        self.driver.set_page_load_timeout(30)

    def tearDown(self):
        try:
            self.driver.quit()
        finally:
            for fn in reversed(self.cleanups):
                fn()
            shutil.rmtree(self.tmp, ignore_errors=True)

    def shot(self, name):
        path = os.path.join(ARGS.screenshots, name + '.png')
        self.driver.save_screenshot(path)
        return path

    def wait(self, cond, timeout=20):
        return WebDriverWait(self.driver, timeout).until(cond)

    def el(self, css, timeout=20):
        return self.wait(EC.presence_of_element_located((By.CSS_SELECTOR, css)), timeout)

    def visible(self, css, timeout=20):
        return self.wait(EC.visibility_of_element_located((By.CSS_SELECTOR, css)), timeout)

    def click(self, css, timeout=20):
        self.wait(EC.element_to_be_clickable((By.CSS_SELECTOR, css)), timeout).click()

    def text_in(self, css, text, timeout=20):
        self.wait(EC.text_to_be_present_in_element((By.CSS_SELECTOR, css), text), timeout)

    def type(self, css, text, clear=True):
        e = self.visible(css)
        if clear:
            e.clear()
        e.send_keys(text)
        return e

    def choose(self, css, value):
        from selenium.webdriver.support.ui import Select
        Select(self.visible(css)).select_by_value(value)

    def phone(self, on=True):
        """A 390×844 phone screen. (Desktop Chromium will not make its window
        narrower than 500 px, so the device metrics are emulated instead.)"""
        if on:
            self.driver.execute_cdp_cmd('Emulation.setDeviceMetricsOverride',
                                        {'width': 390, 'height': 844, 'deviceScaleFactor': 1, 'mobile': True})
        else:
            self.driver.execute_cdp_cmd('Emulation.clearDeviceMetricsOverride', {})

    def no_sideways_scroll(self):
        """The page fits the screen's width (its tables may scroll inside it)."""
        w = self.driver.execute_script(
            'return [document.documentElement.scrollWidth, document.documentElement.clientWidth]')
        if w[0] > w[1]:
            culprits = self.driver.execute_script(
                'const w = arguments[0];'
                'const clipped = (e) => { for (let a = e.parentElement; a; a = a.parentElement)'
                '  if (getComputedStyle(a).overflowX !== "visible") return true; return false; };'
                'return [...document.querySelectorAll("body *")].filter(e => !clipped(e) &&'
                ' e.getBoundingClientRect().right > w && ![...e.children].some(c => c.getBoundingClientRect().right > w))'
                '.slice(0, 5).map(e => e.tagName + "#" + e.id + "." + e.className)', w[1])
            raise AssertionError(f'the page is {w[0]} px wide on a {w[1]} px screen: {culprits}')

    def fetch_bytes(self, path):
        """GET `path` from the page's own origin (with its cookie): the bytes."""
        data = self.driver.execute_async_script(
            'const done = arguments[arguments.length - 1];'
            'fetch(arguments[0], {credentials: "same-origin"}).then(r => r.arrayBuffer())'
            '.then(b => done(Array.from(new Uint8Array(b))), e => done(null));', path)
        assert data is not None, f'could not fetch {path}'
        return bytes(data)


def main():
    argv = parse_args()
    unittest.main(argv=argv, verbosity=2)
