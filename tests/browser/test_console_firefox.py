"""The console in Firefox (Debian's firefox-esr, headless, over WebDriver BiDi):
a coordinator logs in and reads its dashboard (the server's figures, cell by
cell), searches without accents and switches to English; an administrator
creates an account that then logs in from `ocop`; an officer meets the 403
page. Runs in a user and network namespace it creates, with only loopback, so
neither the browser nor anything else can reach beyond this machine.
Screenshots: the build's screenshots/console-firefox-*.png."""
import json
import os
import subprocess
import sys
import shutil
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(__file__))
import support  # noqa: E402
from firefox import Firefox  # noqa: E402


def q(s):
    return json.dumps(s)


class ConsoleFirefoxTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix='ocop-firefox-test-')
        self.server = support.Server(self.tmp)
        self.console = self.server.url + '/console/'
        self.ff = Firefox()

    def tearDown(self):
        try:
            self.ff.quit()
        finally:
            self.server.stop()
            shutil.rmtree(self.tmp, ignore_errors=True)

    def shot(self, name):
        self.ff.screenshot(os.path.join(support.ARGS.screenshots, name + '.png'))

    def fill(self, css, value):
        self.ff.js(f'(() => {{ const e = document.querySelector({q(css)}); e.value = {q(value)};'
                   f' e.dispatchEvent(new Event("input", {{bubbles: true}}));'
                   f' e.dispatchEvent(new Event("change", {{bubbles: true}})); return true; }})()')

    def click(self, css):
        self.ff.wait(f'document.querySelector({q(css)}) !== null')
        self.ff.js(f'(document.querySelector({q(css)}).click(), true)')

    def text(self, css):
        return self.ff.js(f'(document.querySelector({q(css)}) || {{}}).textContent || ""')

    def login(self, user, password):
        self.ff.get(self.console)
        self.ff.wait('document.querySelector("#login-user") !== null')
        self.fill('#login-user', user)
        self.fill('#login-password', password)
        self.click('#login-submit')
        self.ff.wait('document.querySelector("#logout") !== null')

    def logout(self):
        self.ff.js('(location.hash = "#/logout", true)')
        self.ff.wait('document.querySelector("#login-user") !== null')

    def test_the_console_works_in_firefox(self):
        s = self.server
        s.add_user('quantri', 'admin', '26', 'matkhau-quantri')
        s.add_user('hoa', 'coordinator', '253', 'matkhau-hoa')
        s.add_user('lan', 'officer', '08800', 'matkhau-lan')
        lan = support.Device(self.tmp, 'lan')
        lan.run('init', '--commune', '08800', '--server', s.url)
        lan.run('login', '--user', 'lan', '--password-stdin', input='matkhau-lan\n')
        for product in ('Ổi Đôn Nhân', 'Bưởi Đôn Nhân'):
            r = lan.run('new', 'idea', '--set', f'subject_name=HTX {product}', '--set', 'subject_kind=cooperative',
                        '--set', f'product_name={product}', '--set', 'product_group=1', '--set',
                        'description=Đặc sản', '--json')
            lan.run('submit', json.loads(r.stdout)['id'])
        lan.run('sync')

        # The coordinator's dashboard: each cell is the server's figure.
        self.login('hoa', 'matkhau-hoa')
        self.ff.wait('document.querySelector("#by-unit tr[data-unit=\\"08800\\"]") !== null')
        served = self.ff.js('fetch("/v1/report").then(r => r.json())')['report']
        commune = next(c for c in served['communes'] if c['code'] == '08800')
        self.assertEqual(commune['ideas_total'], 2)
        for key, want in [('ideas_total', 2), ('submitted', commune['ideas_by_status']['submitted']),
                          ('new', commune['ideas_received_this_week'])]:
            got = self.text(f'#by-unit tr[data-unit="08800"] td[data-k="{key}"]')
            self.assertEqual(int(got), want, key)
        self.assertIn('Huyện Sông Lô', self.text('h1'))
        self.shot('console-firefox-01-dashboard')
        # Search without accents.
        self.ff.js('(location.hash = "#/records?q=buoi%20don%20nhan", true)')
        self.ff.wait('document.querySelectorAll("#records tbody tr").length === 1')
        self.assertIn('Bưởi Đôn Nhân', self.text('#records tbody'))
        self.shot('console-firefox-02-search')
        # English.
        self.ff.js('(location.hash = "#/", true)')
        self.ff.wait('document.querySelector("#by-unit") !== null')
        self.fill('#lang', 'en')
        self.ff.wait('document.querySelector("h1").textContent.startsWith("Dashboard")')
        self.fill('#lang', 'vi')
        self.ff.wait('document.querySelector("h1").textContent.startsWith("Tổng quan")')
        self.logout()

        # The administrator creates an account; it logs in from ocop.
        self.login('quantri', 'matkhau-quantri')
        self.ff.js('(location.hash = "#/users", true)')
        self.ff.wait('document.querySelector("#new-user") !== null')
        self.fill('#new-name', 'thu')
        self.fill('#new-role', 'officer')
        self.fill('#new-unit', '08800')
        self.fill('#new-password', 'matkhau-thu')
        self.click('#new-submit')
        self.ff.wait('document.querySelector("#users tr[data-user=\\"thu\\"]") !== null')
        self.shot('console-firefox-03-accounts')
        phone = support.Device(self.tmp, 'thu-phone')
        phone.run('init', '--commune', '08800', '--server', s.url)
        phone.run('login', '--user', 'thu', '--password-stdin', input='matkhau-thu\n')
        phone.run('sync')
        self.assertEqual(len(json.loads(phone.run('list', '--json').stdout)), 2)  # the commune's two ideas
        self.logout()

        # An officer: the 403 page, and the API refuses.
        self.login('lan', 'matkhau-lan')
        self.ff.js('(location.hash = "#/users", true)')
        self.ff.wait('document.querySelector("#forbidden") !== null')
        self.assertIn('403', self.text('h1'))
        # A slow page the officer already left never draws over the page it went
        # to: the dashboard's report answers 1.5 s late, after the 403 page.
        self.ff.js('(() => { const real = window.fetch; window.fetch = (u, o) => String(u).startsWith("/v1/report")'
                   ' ? new Promise((ok) => setTimeout(() => ok(real(u, o)), 1500)) : real(u, o); return true; })()')
        self.ff.js('(location.hash = "#/dash/08800", true)')
        self.ff.js('(location.hash = "#/users", true)')
        self.ff.wait('document.querySelector("#forbidden") !== null')
        self.ff.js('new Promise((ok) => setTimeout(() => ok(true), 2500))')
        self.assertIsNotNone(self.ff.js('document.querySelector("#forbidden") && true'),
                             'the late report drew the dashboard over the 403 page')
        self.assertEqual(self.ff.js('fetch("/v1/users").then(r => r.status)'), 403)
        self.shot('console-firefox-04-officer-403')


def in_namespace():
    """Re-runs this file in a new user and network namespace with only loopback."""
    if os.environ.get('OCOP_IN_NETNS') == '1':
        return
    env = dict(os.environ, OCOP_IN_NETNS='1')
    r = subprocess.run(['unshare', '-rn', '--', 'sh', '-c', 'ip link set lo up && exec "$@"', 'sh', sys.executable,
                        *sys.argv], env=env)
    sys.exit(r.returncode)


if __name__ == '__main__':
    in_namespace()
    support.main()
