"""Headless Firefox (Debian's firefox-esr) driven over WebDriver BiDi, the W3C
protocol Firefox speaks itself: Debian has no geckodriver, and this needs
none. Only what the console's Firefox test uses: open a page, run a script in
it (awaiting promises), wait for a condition (bounded), take a screenshot.

Firefox gets a fresh profile whose preferences turn off every service that
would call out (updates, telemetry, safe browsing, captive-portal checks); the
test runs it in a network namespace with only loopback anyway.
"""
import base64
import json
import os
import re
import shutil
import subprocess
import tempfile
import time

import websocket  # python3-websocket (websocket-client)

QUIET_PREFS = {
    'app.update.enabled': False, 'app.update.auto': False, 'app.normandy.enabled': False,
    'browser.safebrowsing.malware.enabled': False, 'browser.safebrowsing.phishing.enabled': False,
    'browser.safebrowsing.downloads.enabled': False, 'browser.safebrowsing.blockedURIs.enabled': False,
    'datareporting.healthreport.uploadEnabled': False, 'datareporting.policy.dataSubmissionEnabled': False,
    'toolkit.telemetry.enabled': False, 'toolkit.telemetry.unified': False,
    'network.captive-portal-service.enabled': False, 'network.connectivity-service.enabled': False,
    'extensions.update.enabled': False, 'extensions.getAddons.cache.enabled': False,
    'browser.region.update.enabled': False, 'browser.search.update': False,
    'network.dns.disablePrefetch': True, 'network.prefetch-next': False,
    'browser.startup.homepage_override.mstone': 'ignore', 'browser.shell.checkDefaultBrowser': False,
    'services.settings.server': 'http://127.0.0.1:9/', 'intl.accept_languages': 'vi-VN, vi',
}


class Firefox:
    def __init__(self, width=1366, height=768, timeout=60):
        self.profile = tempfile.mkdtemp(prefix='ocop-firefox-')
        with open(os.path.join(self.profile, 'user.js'), 'w') as f:
            for k, v in QUIET_PREFS.items():
                f.write(f'user_pref({json.dumps(k)}, {json.dumps(v)});\n')
        binary = shutil.which('firefox-esr') or shutil.which('firefox')
        assert binary, 'firefox-esr is not installed (scripts/setup-deps.sh installs it)'
        self.log = open(os.path.join(self.profile, 'firefox.log'), 'w+')
        self.proc = subprocess.Popen(
            [binary, '--headless', '--no-remote', '--profile', self.profile, '--remote-debugging-port', '0',
             f'--width={width}', f'--height={height}', 'about:blank'],
            stdout=self.log, stderr=subprocess.STDOUT)
        url = self._wait_for_address(timeout)
        # No Origin header: Firefox's remote agent refuses web pages' origins.
        self.ws = websocket.create_connection(url + '/session', timeout=timeout, suppress_origin=True)
        self.next_id = 0
        self.command('session.new', {'capabilities': {}})
        tree = self.command('browsingContext.getTree', {})
        self.context = tree['contexts'][0]['context']
        self.command('browsingContext.setViewport', {'context': self.context,
                                                     'viewport': {'width': width, 'height': height}})

    def _wait_for_address(self, timeout):
        deadline = time.time() + timeout
        while time.time() < deadline:
            self.log.seek(0)
            m = re.search(r'WebDriver BiDi listening on (ws://\S+)', self.log.read())
            if m:
                return m.group(1)
            if self.proc.poll() is not None:
                break
            time.sleep(0.2)
        self.log.seek(0)
        raise AssertionError('Firefox did not start its WebDriver BiDi server: ' + self.log.read()[-2000:])

    def command(self, method, params):
        self.next_id += 1
        my_id = self.next_id
        self.ws.send(json.dumps({'id': my_id, 'method': method, 'params': params}))
        deadline = time.time() + 60
        while time.time() < deadline:
            msg = json.loads(self.ws.recv())
            if msg.get('id') != my_id:
                continue  # an event
            if msg.get('type') == 'error':
                raise AssertionError(f'{method}: {msg.get("error")}: {msg.get("message")}')
            return msg['result']
        raise AssertionError(f'{method}: no answer within 60 s')

    def get(self, url):
        self.command('browsingContext.navigate', {'context': self.context, 'url': url, 'wait': 'complete'})

    def js(self, expression):
        """Runs `expression` (may be a promise) in the page; returns its value,
        which the expression must give as JSON-compatible data."""
        r = self.command('script.evaluate', {
            'expression': f'(async () => JSON.stringify(await ({expression})))()',
            'target': {'context': self.context}, 'awaitPromise': True})
        if r.get('type') == 'exception':
            raise AssertionError(f'{expression}: {r["exceptionDetails"].get("text")}')
        value = r['result'].get('value')
        return None if value is None else json.loads(value)

    def wait(self, expression, timeout=20):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.js(expression):
                return
            time.sleep(0.1)
        raise AssertionError(f'not true within {timeout} s: {expression}')

    def screenshot(self, path):
        r = self.command('browsingContext.captureScreenshot', {'context': self.context})
        with open(path, 'wb') as f:
            f.write(base64.b64decode(r['data']))

    def quit(self):
        try:
            self.command('session.end', {})
        except Exception:  # noqa: BLE001 - closing anyway
            pass
        try:
            self.ws.close()
        finally:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=15)
            self.log.close()
            shutil.rmtree(self.profile, ignore_errors=True)
