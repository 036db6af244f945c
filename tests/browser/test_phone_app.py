"""The officers' phone app (/app/ of ocopd) in headless Chromium with a
390×844 phone screen, against a real ocopd behind a proxy the test controls
(it passes traffic, plays "no network", or cuts the answer to a push):
load the app online once and log in; lose the network; record 20 ideas and a
visit with a photo and GPS; reload with no network (all still there); sync
with the answer to the push cut (nothing lost, nothing doubled), sync again;
a second device (`ocop`) pulls every record exactly once, the photo byte for
byte. The manifest and service worker pass Chromium's installability check."""
import datetime
import hashlib
import json
import os
import socket
import sqlite3
import struct
import sys
import threading
import urllib.request
import zlib

sys.path.insert(0, os.path.dirname(__file__))
import support  # noqa: E402
from test_officer_ui import png  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support import expected_conditions as EC  # noqa: E402

TODAY = (datetime.datetime.utcnow() + datetime.timedelta(hours=7)).strftime('%d/%m/%Y')


def noisy_png(width, height):
    """A real PNG that does not compress (random pixels): a photo's size."""
    rows = b''.join(b'\x00' + os.urandom(width * 3) for _ in range(height))

    def chunk(kind, data):
        c = struct.pack('>I', len(data)) + kind + data
        return c + struct.pack('>I', zlib.crc32(kind + data) & 0xffffffff)
    return (b'\x89PNG\r\n\x1a\n' + chunk(b'IHDR', struct.pack('>IIBBBBB', width, height, 8, 2, 0, 0, 0)) +
            chunk(b'IDAT', zlib.compress(rows)) + chunk(b'IEND', b''))


class Link:
    """A proxy on loopback in front of ocopd, one request per connection.
    mode 'pass' forwards; 'offline' closes every connection at once (the
    browser sees no network); 'cut-push' forwards the next POST /v1/push to the
    server, which applies it, and closes the connection before the answer;
    'cut-files' passes every photo download's head and its first 40 KB, then
    closes the connection (a village link dropping mid-photo)."""

    def __init__(self, target_port):
        self.target = ('127.0.0.1', target_port)
        self.mode = 'pass'
        self.cuts = 0
        self.file_bytes = 0  # photo bytes passed to the phone
        self.file_requests = []  # the Range header of each
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(('127.0.0.1', 0))
        self.sock.listen(64)
        self.url = 'http://127.0.0.1:%d' % self.sock.getsockname()[1]
        self.stopped = False
        threading.Thread(target=self.serve, daemon=True).start()

    def serve(self):
        while not self.stopped:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self.one, args=(conn,), daemon=True).start()

    @staticmethod
    def read_request(conn):
        data = b''
        while b'\r\n\r\n' not in data:
            chunk = conn.recv(65536)
            if not chunk:
                return None
            data += chunk
        head, body = data.split(b'\r\n\r\n', 1)
        length = 0
        for line in head.split(b'\r\n')[1:]:
            name, _, value = line.partition(b':')
            if name.strip().lower() == b'content-length':
                length = int(value.strip())
        while len(body) < length:
            chunk = conn.recv(65536)
            if not chunk:
                return None
            body += chunk
        lines = [l for l in head.split(b'\r\n') if not l.lower().startswith(b'connection:')]
        return b'\r\n'.join(lines) + b'\r\nConnection: close\r\n\r\n' + body

    def one(self, conn):
        conn.settimeout(30)
        try:
            if self.mode == 'offline':
                return
            request = self.read_request(conn)
            if request is None:
                return
            cut = self.mode == 'cut-push' and request.startswith(b'POST /v1/push ')
            with socket.create_connection(self.target, timeout=30) as up:
                up.sendall(request)
                answer = b''
                while True:
                    chunk = up.recv(65536)
                    if not chunk:
                        break
                    answer += chunk
            if cut:
                self.mode = 'pass'
                self.cuts += 1
                return  # the server applied it; the phone never hears
            if request.startswith(b'GET /v1/files/'):
                head, _, body = answer.partition(b'\r\n\r\n')
                self.file_requests.append([l for l in request.split(b'\r\n') if l.lower().startswith(b'range')])
                if self.mode == 'cut-files' and len(body) > 40960:
                    body = body[:40960]
                    self.cuts += 1
                self.file_bytes += len(body)
                conn.sendall(head + b'\r\n\r\n' + body)
                return
            conn.sendall(answer)
        except OSError:
            pass
        finally:
            conn.close()

    def stop(self):
        self.stopped = True
        self.sock.close()


class PhoneAppTest(support.BrowserTest):
    def setUp(self):
        super().setUp()
        self.server = support.Server(self.tmp)
        self.cleanups.append(self.server.stop)
        self.server.add_user('lan', 'officer', '08800', 'matkhau-lan')
        self.link = Link(int(self.server.url.rsplit(':', 1)[1]))
        self.cleanups.append(self.link.stop)
        self.app = self.link.url + '/app/'
        self.phone()

    def records_shown(self):
        return len(self.driver.find_elements(By.CSS_SELECTOR, '#records a.rec'))

    def new_idea(self, n, more=None):
        self.visible('#sync')
        shown = self.records_shown()
        self.click('#new-idea')
        self.type('#f-subject_name', f'HTX số {n}')
        self.choose('#f-subject_kind', 'cooperative')
        self.type('#f-product_name', f'Sản phẩm thử {n:02d} của Đôn Nhân')
        self.choose('#f-product_group', '1') if self.driver.find_element(By.CSS_SELECTOR, '#f-product_group').tag_name == 'select' \
            else self.type('#f-product_group', '1')
        self.type('#f-description', 'Ghi tại thôn, không có mạng')
        if more:
            more()
        self.click('#save')
        self.visible('#sync')
        self.wait(lambda d: self.records_shown() == shown + 1)

    def test_records_offline_survive_a_reload_and_sync_exactly_once(self):
        d = self.driver
        # Online once: the app, the log-in, the definitions.
        self.log_in()
        self.assertTrue(d.execute_async_script(
            'const done = arguments[0]; navigator.serviceWorker.ready.then(r => done(!!r.active), () => done(false));'))
        d.refresh()  # now under the service worker
        self.visible('#sync')
        self.assertTrue(d.execute_script('return !!navigator.serviceWorker.controller'))
        errors = d.execute_cdp_cmd('Page.getInstallabilityErrors', {})
        self.assertEqual(errors.get('installabilityErrors'), [], errors)
        manifest = json.loads(self.fetch_text('/app/manifest.webmanifest'))
        self.assertEqual((manifest['start_url'], manifest['display'], manifest['lang']), ('/app/', 'standalone', 'vi'))
        self.assertEqual({i['sizes'] for i in manifest['icons']}, {'192x192', '512x512'})
        with urllib.request.urlopen(self.server.url + '/app/', timeout=10) as r:
            csp = r.headers['Content-Security-Policy']
        self.assertIn("script-src 'self' 'wasm-unsafe-eval';", csp)
        self.assertNotIn('unsafe-inline', csp)
        # The rules' WebAssembly travels compressed to a browser that takes gzip.
        whole = urllib.request.urlopen(self.server.url + '/app/app_core.wasm', timeout=10).read()
        packed = urllib.request.Request(self.server.url + '/app/app_core.wasm', headers={'Accept-Encoding': 'gzip'})
        with urllib.request.urlopen(packed, timeout=10) as r:
            self.assertEqual(r.headers['Content-Encoding'], 'gzip')
            body = r.read()
        self.assertEqual(zlib.decompress(body, 47), whole)
        self.assertTrue(whole.startswith(b'\0asm'))
        self.assertLess(len(body), len(whole) // 2, (len(body), len(whole)))

        # No network from here: reload, record 20 ideas and a visit.
        self.link.mode = 'offline'
        d.refresh()
        self.visible('#sync')
        for n in range(1, 21):
            self.new_idea(n)
        self.click('#new-visit')
        self.type('#f-visited_on', TODAY)
        self.choose('#f-purpose', 'advice')
        self.type('#f-findings', 'Vườn ổi sạch, ghi chép đầy đủ')
        origin = self.link.url
        d.execute_cdp_cmd('Browser.grantPermissions', {'origin': origin, 'permissions': ['geolocation']})
        d.execute_cdp_cmd('Emulation.setGeolocationOverride', {'latitude': 21.4512, 'longitude': 105.3921, 'accuracy': 12})
        self.click('#gps')
        self.text_in('#gps-said', '21.451200')
        self.assertEqual(d.find_element(By.CSS_SELECTOR, '#f-latitude').get_attribute('value'), '21.451200')
        photo = os.path.join(self.tmp, 'vuon.png')
        with open(photo, 'wb') as f:
            f.write(png(640, 480))
        d.find_element(By.CSS_SELECTOR, '#photo').send_keys(photo)
        self.visible('#new-photos img')
        self.shot('app-01-visit-offline')
        self.no_sideways_scroll()
        self.click('#save')
        self.wait(lambda d: self.records_shown() == 21)

        # A reload with no network: everything is still there, and says it is not sent.
        d.refresh()
        self.wait(lambda d: self.records_shown() == 21)
        self.text_in('#banner', '21 phiếu chưa gửi')
        self.assertEqual(len(d.find_elements(By.CSS_SELECTOR, '.badge.pending')), 21)
        self.text_in('#net', 'không có mạng')
        self.shot('app-02-list-offline')
        self.no_sideways_scroll()
        for button in d.find_elements(By.CSS_SELECTOR, '.bar button, .actions button'):
            self.assertGreaterEqual(button.size['height'], 48, button.text)

        # The network is back, and the answer to the first push is cut: the
        # server applied it, the phone does not know, and keeps the set.
        self.link.mode = 'cut-push'
        self.click('#sync')
        self.text_in('.toast', 'Mất kết nối')
        self.assertEqual(self.link.cuts, 1)
        self.text_in('#banner', '21 phiếu chưa gửi')
        # Again: the same change set, answered as the first time.
        self.click('#sync')
        self.text_in('.toast', 'Đã đồng bộ')
        self.wait(lambda d: d.find_element(By.CSS_SELECTOR, '#banner').text == '')
        self.assertEqual(len(d.find_elements(By.CSS_SELECTOR, '.badge.pending')), 0)
        self.shot('app-03-synced')
        # The same app on a commune office's laptop screen (1366×768).
        self.phone(False)
        self.no_sideways_scroll()
        self.shot('app-06-laptop')
        self.phone()

        # A second device pulls each record once, every one at version 1
        # (a set applied twice would have made them 2), the photo byte for byte.
        self.server.add_user('binh', 'officer', '08800', 'matkhau-binh')
        other = support.Device(self.tmp, 'other')
        other.run('init', '--commune', '08800', '--server', self.server.url)
        other.run('login', '--user', 'binh', '--password-stdin', input='matkhau-binh\n')
        other.run('sync', '--with-files')
        ideas = json.loads(other.run('--json', 'list', 'idea').stdout)
        visits = json.loads(other.run('--json', 'list', 'visit').stdout)
        rows = ideas.get('records', ideas) if isinstance(ideas, dict) else ideas
        vrows = visits.get('records', visits) if isinstance(visits, dict) else visits
        self.assertEqual(len(rows), 20)
        self.assertEqual(sorted(r['fields']['product_name'] for r in rows),
                         [f'Sản phẩm thử {n:02d} của Đôn Nhân' for n in range(1, 21)])
        self.assertEqual(len(vrows), 1)
        shown = json.loads(other.run('--json', 'show', vrows[0]['id'], '--with-files').stdout)
        fields = shown['fields']
        self.assertAlmostEqual(fields['latitude'], 21.4512)
        self.assertAlmostEqual(fields['longitude'], 105.3921)
        self.assertEqual(len(fields['photos']), 1)
        # The photo, resized on the phone to a JPEG, comes down to the other
        # device whole: its SHA-256 is the name the phone gave it.
        sha = fields['photos'][0]['sha256']
        out = os.path.join(self.tmp, 'photo.jpg')
        other.run('file', sha, '--output', out)
        with open(out, 'rb') as f:
            photo_bytes = f.read()
        self.assertEqual(hashlib.sha256(photo_bytes).hexdigest(), sha)
        self.assertEqual(len(photo_bytes), fields['photos'][0]['size'])
        self.assertTrue(photo_bytes.startswith(b'\xff\xd8'), 'not a JPEG')
        # On the server: 21 records, each applied once (version 1), and one
        # change per record although the first set went twice.
        with sqlite3.connect(os.path.join(self.server.data, 'ocopd.db')) as db:
            self.assertEqual(db.execute('SELECT count(*), min(version), max(version) FROM records').fetchone(), (21, 1, 1))
            self.assertEqual(db.execute('SELECT count(*), count(DISTINCT record_id) FROM changes').fetchone(), (21, 21))

        # A form version published on the server comes to the phone at its next
        # sync and is put in force in the rules on the phone: a field the built-in
        # form lacks is accepted there (the core refuses unknown fields).
        self.publish_idea_with_vietgap()
        self.click('#sync')
        self.text_in('.toast', 'đã nhận mẫu phiếu mới từ máy chủ')
        self.visible('#sync')
        self.new_idea(21, lambda: self.choose('#f-vietgap', 'yes'))
        self.click('#sync')
        self.wait(lambda d: d.find_element(By.CSS_SELECTOR, '#banner').text == '')
        with sqlite3.connect(os.path.join(self.server.data, 'ocopd.db')) as db:
            fields = [json.loads(f) for (f,) in db.execute('SELECT fields FROM records')]
        fresh = next(f for f in fields if f.get('product_name') == 'Sản phẩm thử 21 của Đôn Nhân')
        self.assertEqual((fresh['vietgap'], fresh['form_version']), (True, 2))

    def publish_idea_with_vietgap(self):
        with open(os.path.join(os.path.dirname(__file__), '..', '..', 'schemas', 'forms', 'idea.v1.json'), encoding='utf-8') as f:
            v2 = f.read().replace('"version": 1', '"version": 2', 1).replace(
                '"fields": [', '"fields": [\n    {"key": "vietgap", "type": "bool", '
                '"label": {"vi": "Đạt chứng nhận VietGAP", "en": "VietGAP certified"}},', 1)
        self.server.add_user('quantri', 'admin', '26', 'matkhau-quantri')
        login = urllib.request.Request(self.server.url + '/v1/login', method='POST', headers={'Content-Type': 'application/json'},
                                       data=json.dumps({'user': 'quantri', 'password': 'matkhau-quantri'}).encode())
        token = json.loads(urllib.request.urlopen(login, timeout=10).read())['token']
        publish = urllib.request.Request(self.server.url + '/v1/definitions/publish?apply=1', method='POST', data=v2.encode(),
                                         headers={'Authorization': 'Bearer ' + token, 'Content-Type': 'application/json'})
        self.assertTrue(json.loads(urllib.request.urlopen(publish, timeout=10).read())['published'])

    def log_in(self):
        self.driver.get(self.app)
        self.type('#user', 'lan')
        self.type('#password', 'matkhau-lan')
        self.click('#login')
        self.visible('#sync')

    def restart_phone(self, profile):
        """The phone switched off and on: the browser quits and starts again
        with the same storage."""
        self.driver.quit()
        self.driver = support.chromium(profile=profile)
        self.driver.set_page_load_timeout(30)
        self.phone()

    def idb(self, script, *args):
        """Runs `script` with the app's IndexedDB open as `db`; it calls
        done(value) when finished."""
        return self.driver.execute_async_script(
            'const done = arguments[arguments.length - 1]; const args = arguments;'
            'const r = indexedDB.open("ocop-app"); r.onsuccess = () => { const db = r.result; ' + script + ' };', *args)

    def inject_change(self, product, key, value):
        """An edit the phone's rules would stop, put in the outbox directly:
        what an app from before the rules came to the phone may have queued."""
        self.idb('const x = db.transaction(["records", "outbox"], "readwrite");'
                 'x.objectStore("records").getAll().onsuccess = (e) => {'
                 ' const r = e.target.result.find((r) => (r.fields.product_name || "").startsWith(args[0]));'
                 ' const was = r.fields[args[1]]; r.fields[args[1]] = args[2];'
                 ' x.objectStore("records").put(r);'
                 ' x.objectStore("outbox").put({change_id: crypto.randomUUID(), record_id: r.id, form: r.form, unit: r.unit,'
                 '  op: "update", base_version: r.version, fields: {[args[1]]: {old: JSON.stringify(was === undefined ? null : was),'
                 '  new: JSON.stringify(args[2])}}, hlc: String(Date.now()).padStart(15, "0") + "-00000", held: false}); };'
                 'x.oncomplete = () => done(true);', product, key, value)

    def inject_new_visit(self, day, findings):
        self.idb('const x = db.transaction(["records", "outbox", "kv"], "readwrite");'
                 'x.objectStore("kv").get("session").onsuccess = (e) => { const s = e.target.result;'
                 ' const id = crypto.randomUUID(), fields = {visited_on: args[0], purpose: "advice", findings: args[1], status: "recorded"};'
                 ' x.objectStore("records").put({id, form: "visit", unit: s.unit, fields, version: 0, conflict: false, refused: null,'
                 '  updated_at: new Date().toISOString()});'
                 ' x.objectStore("outbox").put({change_id: crypto.randomUUID(), record_id: id, form: "visit", unit: s.unit, op: "create",'
                 '  base_version: 0, fields: Object.fromEntries(Object.entries(fields).map(([k, v]) => [k, {old: "null", new: JSON.stringify(v)}])),'
                 '  hlc: String(Date.now()).padStart(15, "0") + "-00000", held: false}); };'
                 'x.oncomplete = () => done(true);', day, findings)

    def open_record(self, title):
        """Opens a record from the list, once the list shows it."""
        self.wait(EC.element_to_be_clickable((By.XPATH, f'//a[contains(@class, "rec")][contains(., "{title}")]'))).click()
        self.visible('#status')

    def test_decisions_offline_numbers_from_the_servers_blocks_and_a_restart(self):
        profile = os.path.join(self.tmp, 'profile')
        self.restart_phone(profile)
        d = self.driver
        self.log_in()
        d.execute_async_script('const done = arguments[0]; navigator.serviceWorker.ready.then(() => done(true));')

        # Offline before any sync: the phone holds no receipt numbers yet, so a
        # submitted idea says it is numbered after the next sync.
        self.link.mode = 'offline'
        d.refresh()
        self.visible('#sync')
        for n in (1, 2):
            self.new_idea(n)
            self.open_record(f'Sản phẩm thử {n:02d}')
            self.text_in('#status', 'Nháp')
            self.click('#decide-submit')
            self.text_in('.toast', 'được cấp số sau lần đồng bộ tới')
            self.text_in('#status', 'Đã tiếp nhận')
            self.driver.get(self.app + '#/')
            self.visible('#sync')

        # The phone is switched off and on, still with no network: the app
        # starts from its own cache and both ideas wait to be sent.
        self.restart_phone(profile)
        d = self.driver
        d.get(self.app)
        self.wait(lambda d: self.records_shown() == 2)
        self.text_in('#banner', '2 phiếu chưa gửi')
        self.text_in('#net', 'không có mạng')

        # Network: the sync reserves a block, numbers the two ideas oldest
        # first and sends the numbers in the same sync.
        self.link.mode = 'pass'
        self.click('#sync')
        self.text_in('.toast', 'Đã đồng bộ')
        self.wait(lambda d: d.find_element(By.CSS_SELECTOR, '#banner').text == '')

        # Decisions on the phone: return needs a reason; the returned idea
        # waits its week before it can be submitted again.
        self.open_record('Sản phẩm thử 02')
        self.visible('#decide-accept')
        self.click('#decide-return')
        self.text_in('#decision-error', 'lý do')
        self.type('#reason', 'Thiếu giấy xác nhận nguồn nguyên liệu')
        self.click('#decide-return')
        self.text_in('#status', 'Đã trả lại')
        week = (datetime.datetime.utcnow() + datetime.timedelta(hours=7, days=7)).strftime('%d/%m/%Y')
        self.text_in('#rule-submit', f'nộp lại được từ {week}')
        self.shot('app-04-decisions')
        self.no_sideways_scroll()
        self.driver.get(self.app + '#/')
        self.visible('#sync')
        self.open_record('Sản phẩm thử 01')
        self.click('#decide-accept')
        self.text_in('#status', 'Đã chấp nhận')
        self.driver.get(self.app + '#/')
        self.click('#sync')
        self.text_in('.toast', 'Đã đồng bộ')
        self.wait(lambda d: d.find_element(By.CSS_SELECTOR, '#banner').text == '')

        # What the officer types is checked on the phone, offline, by the C++
        # rules (WebAssembly): every wrong field says why beside itself, and
        # nothing is queued.
        self.link.mode = 'offline'
        self.open_record('Sản phẩm thử 01')
        self.click('#edit')
        self.type('#f-phone', 'không có số')
        self.type('#f-retail_price_vnd', '1.500.000')
        self.type('#f-expected_output', 'nhiều')
        self.click('#save')
        self.text_in('#field-phone .error', "'không có số' không phải số điện thoại (8 đến 12 chữ số)")
        self.text_in('#field-expected_output .error', "'nhiều' không phải là số")
        self.assertEqual(d.find_element(By.CSS_SELECTOR, '#field-retail_price_vnd .error').text, '')
        self.shot('app-07-checked-on-phone')
        self.no_sideways_scroll()
        self.type('#f-phone', '0912 345 678')
        self.type('#f-expected_output', '2.000')  # two thousand, as Vietnamese writes it
        self.click('#save')
        self.visible('#sync')
        self.text_in('#banner', '1 phiếu chưa gửi')
        self.open_record('Sản phẩm thử 01')
        shown = d.find_element(By.TAG_NAME, 'main').text
        self.assertIn('1.500.000', shown)
        self.assertIn('2.000', shown)
        self.driver.get(self.app + '#/')
        self.visible('#sync')
        self.link.mode = 'pass'
        self.click('#sync')
        self.wait(lambda d: d.find_element(By.CSS_SELECTOR, '#banner').text == '')

        # A change the server still refuses (written before the phone had
        # these rules, or against a rule only the server can see) is no trap:
        # the record says why, and dropping the change brings back the
        # server's version (an edit) or takes a record the server never held
        # off the phone (a new one).
        self.inject_change('Sản phẩm thử 01', 'phone', 'không có số')
        self.inject_new_visit('2026-02-31', 'Ngày ghi sai')
        self.driver.get(self.app + '#/')
        self.visible('#sync')
        # A refused set changes nothing; the named record is held and the
        # others go again in a new set, so one sync meets both refusals.
        self.click('#sync')
        self.text_in('.toast', '2 phiếu bị từ chối')
        self.wait(lambda d: len(d.find_elements(By.CSS_SELECTOR, '.badge.refused')) == 2)
        self.text_in('#banner', '2 phiếu chưa gửi')
        self.open_record('Sản phẩm thử 01')
        self.text_in('#refusal', '«Số điện thoại»: \'không có số\' không phải số điện thoại')
        self.assertNotRegex(d.find_element(By.CSS_SELECTOR, '#refusal').text, r'[0-9a-f]{8}-[0-9a-f]{4}')
        self.assertIn('không có số', d.find_element(By.TAG_NAME, 'main').text)
        self.shot('app-08-refused')
        self.no_sideways_scroll()
        self.click('#discard')
        self.wait(EC.alert_is_present()).accept()
        self.text_in('.toast', 'Đã bỏ thay đổi bị từ chối')
        self.wait(lambda d: not d.find_elements(By.CSS_SELECTOR, '#refusal'))
        self.assertNotIn('không có số', d.find_element(By.TAG_NAME, 'main').text)
        self.assertIn('0912 345 678', d.find_element(By.TAG_NAME, 'main').text)
        self.driver.get(self.app + '#/')
        self.open_record('Ngày ghi sai')
        self.visible('#refusal')
        self.click('#discard')
        self.wait(EC.alert_is_present()).accept()
        self.wait(lambda d: self.records_shown() == 2)
        self.wait(lambda d: d.find_element(By.CSS_SELECTOR, '#banner').text == '')

        # Another device of the commune reads what the phone decided, with the
        # fields a device's own decision writes.
        self.server.add_user('binh', 'officer', '08800', 'matkhau-binh')
        other = support.Device(self.tmp, 'other')
        other.run('init', '--commune', '08800', '--server', self.server.url)
        other.run('login', '--user', 'binh', '--password-stdin', input='matkhau-binh\n')
        other.run('sync')
        ideas = json.loads(other.run('--json', 'list', 'idea').stdout)
        rows = ideas.get('records', ideas) if isinstance(ideas, dict) else ideas
        by_name = {r['fields']['product_name']: r['fields'] for r in rows}
        first, second = by_name['Sản phẩm thử 01 của Đôn Nhân'], by_name['Sản phẩm thử 02 của Đôn Nhân']
        today_iso = (datetime.datetime.utcnow() + datetime.timedelta(hours=7)).strftime('%Y-%m-%d')
        year = today_iso[:4]
        self.assertEqual(first['status'], 'accepted')
        self.assertEqual(second['status'], 'returned')
        self.assertEqual(second['decision_reason'], 'Thiếu giấy xác nhận nguồn nguyên liệu')
        self.assertEqual(second['returned_on'], today_iso)
        for f in (first, second):
            self.assertEqual((f['received_on'], f['received_by']), (today_iso, 'lan'))
        # Numbered oldest first from the block the server reserved to the phone.
        self.assertRegex(first['receipt_no'], rf'^1/PĐK-\d+-\d+-{year}$')
        self.assertRegex(second['receipt_no'], rf'^2/PĐK-\d+-\d+-{year}$')
        shown = other.run('show', next(r['id'] for r in rows if r['fields'] is second)).stdout
        self.assertIn('Đã trả lại', shown)

        # A visit the other device recorded with a photo comes to the phone;
        # opening it fetches the photo over a link that drops every 40 KB,
        # each piece continuing where the last stopped.
        visit = json.loads(other.run('new', 'visit', '--set', f'visited_on={TODAY}', '--set', 'purpose=advice',
                                     '--set', 'findings=Kho chứa sạch sẽ', '--json').stdout)['id']
        photo = os.path.join(self.tmp, 'kho.png')
        with open(photo, 'wb') as f:
            f.write(noisy_png(320, 300))
        size = os.path.getsize(photo)
        with open(photo, 'rb') as f:
            sha = hashlib.sha256(f.read()).hexdigest()
        other.run('attach', visit, photo, '--caption', 'Kho chứa')
        other.run('sync')
        self.click('#sync')
        self.text_in('#records', 'Kho chứa sạch sẽ')
        self.link.mode = 'cut-files'
        cuts_before = self.link.cuts
        self.open_record('Kho chứa sạch sẽ')
        self.wait(lambda d: d.execute_script(
            'const i = document.querySelector("#photos img"); return !!i && i.complete && i.naturalWidth === 320;'), 60)
        self.assertGreaterEqual(self.link.cuts - cuts_before, 1)
        # Each request continues from what the phone holds: never from 0 again.
        starts = [int(r[0].split(b'=')[1].split(b'-')[0]) for r in self.link.file_requests]
        self.assertEqual(starts, sorted(starts), starts)
        self.assertLessEqual(self.link.file_bytes, 1.3 * size, (self.link.file_bytes, size, self.link.file_requests))
        print(f"photo: {size} B, {self.link.file_bytes} B passed ({self.link.file_bytes / size:.2f}x), {len(self.link.file_requests)} requests", file=sys.stderr)
        self.shot("app-05-photo-fetched")
        kept = d.execute_async_script(
            'const [sha, done] = arguments; const r = indexedDB.open("ocop-app"); r.onsuccess = () => {'
            ' const g = r.result.transaction(["photos"]).objectStore("photos").get(sha);'
            ' g.onsuccess = async () => { const b = g.result && g.result.blob;'
            '  done(b ? [b.size, [...new Uint8Array(await crypto.subtle.digest("SHA-256", await b.arrayBuffer()))]'
            '   .map((x) => x.toString(16).padStart(2, "0")).join("")] : null); }; };', sha)
        self.assertEqual(kept, [size, sha])
        # Kept: with no network the photo is still there.
        self.link.mode = 'offline'
        d.refresh()
        self.wait(lambda d: d.execute_script(
            'const i = document.querySelector("#photos img"); return !!i && i.complete && i.naturalWidth === 320;'))

    def fetch_text(self, path):
        return self.fetch_bytes(path).decode('utf-8')


if __name__ == '__main__':
    support.main()
