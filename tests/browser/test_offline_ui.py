"""The officer's screens with no network at all: this test runs in a network
namespace it creates (`unshare -rn`), where only loopback exists, so any asset
fetched from outside would fail. The page must load whole (styles, scripts,
forms) and record a form. In the same namespace an address outside
127.0.0.0/8 stands for the commune office's Wi-Fi: shared there (`--host`), the screens ask for the
password first."""
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(__file__))
import support  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402

OFFICE_ADDR = '10.9.9.1'


class OfflineUiTest(support.BrowserTest):
    def setUp(self):
        super().setUp()
        self.device = support.Device(self.tmp, 'lan-laptop')
        self.device.run('init', '--commune', '08800', '--server', 'http://127.0.0.1:9')
        self.cleanups.append(self.device.stop_ui)

    def test_no_interface_but_loopback(self):
        links = subprocess.run(['ip', '-o', 'link'], capture_output=True, text=True, check=True).stdout
        names = sorted(line.split(':')[1].strip().split('@')[0] for line in links.splitlines())
        self.assertEqual(names, ['lo'])
        routes = subprocess.run(['ip', 'route', 'show', 'default'], capture_output=True, text=True, check=True).stdout
        self.assertEqual(routes.strip(), '')

    def test_page_loads_and_records_with_no_network(self):
        d = self.driver
        url = self.device.start_ui()
        d.get(url)
        self.text_in('h1', 'Xã Đôn Nhân')
        # The style sheet applied (served by ocop ui) and every resource came from the page's origin.
        bg = d.execute_script('return getComputedStyle(document.querySelector("header.top")).backgroundColor')
        self.assertEqual(bg, 'rgb(11, 110, 79)')
        origins = d.execute_script('return performance.getEntriesByType("resource").map(e => new URL(e.name).origin)')
        self.assertTrue(origins, 'no resource was loaded')
        self.assertEqual(set(origins), {url.rstrip('/')})
        self.click('#new-visit')
        self.type('#f-visited_on', '24/11/2026')
        self.choose('#f-purpose', 'advice')
        self.type('#f-findings', 'Tư vấn đóng gói')
        self.click('#save')
        self.text_in('#status', 'Đã ghi')
        self.shot('officer-15-offline')
        rows = self.device.run('list', '--json').stdout
        self.assertIn('Tư vấn đóng gói', rows)

    def test_gps_from_the_browser_fills_the_position(self):
        d = self.driver
        url = self.device.start_ui()
        origin = url.rstrip('/')
        d.execute_cdp_cmd('Browser.grantPermissions', {'origin': origin, 'permissions': ['geolocation']})
        d.execute_cdp_cmd('Emulation.setGeolocationOverride', {'latitude': 21.4612, 'longitude': 105.4321, 'accuracy': 12})
        d.get(url + '#/new/visit')
        self.click('#gps')
        self.wait(lambda _: d.find_element(By.ID, 'f-latitude').get_attribute('value') == '21.461200')
        self.assertEqual(d.find_element(By.ID, 'f-longitude').get_attribute('value'), '105.432100')
        self.assertEqual(d.find_element(By.ID, 'f-accuracy_m').get_attribute('value'), '12')
        self.type('#f-visited_on', '25/11/2026')
        self.choose('#f-purpose', 'follow_up')
        self.type('#f-findings', 'Đã đo vị trí')
        self.click('#save')
        self.text_in('#fields', '21,4612')

    def test_shared_on_the_office_network_needs_the_password(self):
        d = self.driver
        r = subprocess.run([support.ARGS.ocop, '--home', self.device.home, 'ui', '--host', OFFICE_ADDR, '--port', '0'],
                           capture_output=True, text=True, timeout=30)
        self.assertEqual(r.returncode, 2)
        self.assertIn('--password-stdin', r.stderr)
        url = self.device.start_ui('--host', OFFICE_ADDR, '--password-stdin', password='mat-khau-van-phong')
        self.assertIn(OFFICE_ADDR, url)
        import urllib.error
        import urllib.request
        with self.assertRaises(urllib.error.HTTPError) as ctx:
            urllib.request.urlopen(url + 'api/info', timeout=10)
        self.assertEqual(ctx.exception.code, 401)
        d.get(url)
        self.visible('#ui-password')
        self.type('#ui-password', 'sai')
        self.click('main button[type=submit]')
        self.text_in('#ui-login-err', 'sai mật khẩu')
        self.shot('officer-16-shared-login')
        self.type('#ui-password', 'mat-khau-van-phong')
        self.click('main button[type=submit]')
        self.text_in('h1', 'Xã Đôn Nhân')
        cookie = d.get_cookie('ocop_ui')
        self.assertTrue(cookie['httpOnly'])
        self.assertEqual(cookie['sameSite'], 'Strict')


def in_namespace():
    """Re-runs this file in a new user and network namespace with only
    loopback up; the office LAN address is put on loopback too (the
    screens treat any address outside 127.0.0.0/8 and ::1 as a shared one)."""
    if os.environ.get('OCOP_IN_NETNS') == '1':
        return False
    setup = f'ip link set lo up && ip addr add {OFFICE_ADDR}/32 dev lo && exec "$@"'
    env = dict(os.environ, OCOP_IN_NETNS='1')
    r = subprocess.run(['unshare', '-rn', '--', 'sh', '-c', setup, 'sh', sys.executable, *sys.argv], env=env)
    sys.exit(r.returncode)


if __name__ == '__main__':
    in_namespace()
    support.main()
