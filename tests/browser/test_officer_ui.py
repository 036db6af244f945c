"""The officer's screens (`ocop ui`) in a real browser: a commune officer
records an idea with Vietnamese text, meets a validation message beside the
field and fixes it, finds the idea by searching without accents, submits it,
fills a confirmation with three materials and watches the shares, attaches a
photo to a site visit, syncs with a real ocopd, and a second device sees it.
Screenshots of every screen go to the build's screenshots/ directory."""
import datetime
import json
import os
import struct
import subprocess
import sys
import zlib

sys.path.insert(0, os.path.dirname(__file__))
import support  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402


def png(width=64, height=48):
    """A small real PNG (a colour gradient)."""
    rows = b''.join(b'\x00' + b''.join(bytes((x * 4 % 256, y * 5 % 256, 120)) for x in range(width))
                    for y in range(height))

    def chunk(kind, data):
        c = struct.pack('>I', len(data)) + kind + data
        return c + struct.pack('>I', zlib.crc32(kind + data) & 0xffffffff)
    return (b'\x89PNG\r\n\x1a\n' + chunk(b'IHDR', struct.pack('>IIBBBBB', width, height, 8, 2, 0, 0, 0)) +
            chunk(b'IDAT', zlib.compress(rows)) + chunk(b'IEND', b''))


class OfficerUiTest(support.BrowserTest):
    def setUp(self):
        super().setUp()
        self.server = support.Server(self.tmp)
        self.cleanups.append(self.server.stop)
        self.server.add_user('lan', 'officer', '08800', 'matkhau-lan')
        self.device = support.Device(self.tmp, 'lan-laptop')
        self.device.run('init', '--commune', '08800', '--server', self.server.url)
        self.cleanups.append(self.device.stop_ui)
        self.url = self.device.start_ui()

    def field_error(self, key):
        return self.driver.find_element(By.CSS_SELECTOR, f'#field-{key} .error').text

    def test_officer_records_submits_confirms_attaches_and_syncs(self):
        d = self.driver
        d.get(self.url)
        self.text_in('h1', 'Xã Đôn Nhân')
        # Not logged in to the server yet: the home page asks, in Vietnamese.
        self.visible('#server-user')
        self.type('#server-user', 'lan')
        self.type('#server-password', 'sai-mat-khau')
        self.click('#sync-box button[type=submit]')
        self.text_in('#server-login-err', 'sai tên đăng nhập hoặc mật khẩu')
        self.type('#server-password', 'matkhau-lan')
        self.click('#sync-box button[type=submit]')
        self.visible('#sync-button')
        self.shot('officer-01-home')

        # A new idea, with a product group out of range: the message stands
        # beside the field, in Vietnamese, and nothing is stored.
        self.click('#new-idea')
        self.visible('#f-subject_name')
        self.type('#f-subject_name', 'HTX Ổi Đôn Nhân')
        self.choose('#f-subject_kind', 'cooperative')
        self.type('#f-product_name', 'Ổi Đôn Nhân')
        self.type('#f-product_group', '9')
        self.type('#f-description', 'Ổi giòn, ngọt, trồng theo VietGAP')
        self.type('#f-phone', '09123')
        self.click('#f-description')  # leave the phone field: it is checked at once
        self.text_in('#field-phone .error', 'không phải số điện thoại')
        self.type('#f-phone', '0912345678')
        self.click('#f-description')
        self.wait(lambda _: self.field_error('phone') == '')
        self.click('#save')
        self.text_in('#field-product_group .error', 'lớn hơn mức tối đa 6')
        self.assertIn('invalid', d.find_element(By.ID, 'field-product_group').get_attribute('class'))
        self.shot('officer-02-validation')
        self.assertEqual(json.loads(self.device.run('list', '--json').stdout), [])
        self.type('#f-product_group', '1')
        self.click('#save')
        self.text_in('h1', 'Ổi Đôn Nhân')
        idea_id = d.find_element(By.CSS_SELECTOR, 'p code').text
        self.assertEqual(len(idea_id), 36)
        self.text_in('#status', 'Nháp')

        # Found by searching without accents, as the command line finds it.
        d.get(self.url + '#/list/idea')
        self.type('#search', 'oi don nhan')
        self.wait(lambda _: len(d.find_elements(By.CSS_SELECTOR, '#records tbody tr')) == 1)
        self.text_in('#records tbody', 'Ổi Đôn Nhân')
        self.type('#search', 'khong co gi')
        self.wait(lambda _: len(d.find_elements(By.CSS_SELECTOR, '#records tbody tr')) == 0)
        self.type('#search', 'ỔI')
        self.wait(lambda _: len(d.find_elements(By.CSS_SELECTOR, '#records tbody tr')) == 1)
        self.shot('officer-03-list')

        # Submit: the decision buttons follow the rules; a coordinator's is not offered.
        d.find_element(By.CSS_SELECTOR, '#records tbody tr').click()
        self.click('#decide-submit')
        self.text_in('#status', 'Đã tiếp nhận')
        self.visible('#decide-accept')
        self.visible('#decide-return')
        self.click('#decide-return')  # no reason: refused with the rule
        self.text_in('#decision-error', 'lý do')
        self.shot('officer-04-decisions')

        # A confirmation with three materials: the shares follow the typing.
        self.click('header nav a[href="#/"]')
        self.click('#new-confirmation')
        self.choose('#f-idea_id', idea_id)
        self.type('#f-product_name', 'Ổi Đôn Nhân')
        self.type('#f-year', '2026')
        self.type('#f-workers_total', '10')
        self.type('#f-workers_local', '8')
        self.text_in('#labour-share', '80')
        materials = [('Ổi tươi', '60000000', '60000000', 'commune'),
                     ('Đường', '30000000', '20000000', 'province'),
                     ('Bao bì', '10000000', '0', 'other_province')]
        for i, (name, value, local, origin) in enumerate(materials):
            self.click('#materials .add-row')
            row = f'#materials tbody tr:nth-child({i + 1})'
            self.type(f'{row} td[data-key=name] input', name)
            self.type(f'{row} td[data-key=value_vnd] input', value)
            self.type(f'{row} td[data-key=local_value_vnd] input', local)
            self.choose(f'{row} td[data-key=origin] select', origin)
        # 80 of 100 million from local sources.
        self.text_in('#material-share', '80')
        self.shot('officer-05-confirmation-shares')
        # Removing a row recomputes: 80 of 90 million (88,9 %).
        self.click('#materials tbody tr:nth-child(3) .remove-row')
        self.text_in('#material-share', '88,9')
        self.click('#save')
        self.text_in('#status', 'Nháp')
        self.text_in('#fields', 'Đường')
        self.shot('officer-06-confirmation')

        # A site visit with a photo from a file.
        self.click('header nav a[href="#/"]')
        self.click('#new-visit')
        today = datetime.date.today().strftime('%d/%m/%Y')
        self.type('#f-visited_on', today)
        self.choose('#f-purpose', 'inspection')
        self.type('#f-findings', 'Cơ sở sạch, có sổ ghi chép')
        self.type('#f-latitude', '21,52')
        self.type('#f-longitude', '105.38')
        self.click('#save')
        self.visible('#photo-file')
        photo = os.path.join(self.tmp, 'xuong.png')
        with open(photo, 'wb') as f:
            f.write(png())
        d.find_element(By.ID, 'photo-file').send_keys(photo)
        self.type('#photo-caption', 'Xưởng chế biến')
        self.click('#photo-attach')
        self.visible('#photos figure img')
        self.text_in('#photos figure', 'chờ gửi')
        self.wait(lambda _: d.execute_script('return document.querySelector("#photos img").naturalWidth') == 64)
        self.shot('officer-07-visit-photo')

        # Sync against the real ocopd: the summary says done, nothing is left.
        self.click('header nav a[href="#/"]')
        self.click('#sync-button')
        self.visible('#sync-summary', timeout=60)
        self.text_in('#sync-summary', 'Xong')
        self.text_in('#stat-pending', '0')
        self.text_in('#stat-files', '0')
        self.shot('officer-08-synced')

        # A second device of the commune receives all three, and the photo.
        self.server.add_user('minh', 'officer', '08800', 'matkhau-minh')
        other = support.Device(self.tmp, 'minh-phone')
        other.run('init', '--commune', '08800', '--server', self.server.url)
        other.run('login', '--user', 'minh', '--password-stdin', input='matkhau-minh\n')
        other.run('sync', '--with-files')
        rows = json.loads(other.run('list', '--json').stdout)
        self.assertEqual(sorted(r['form'] for r in rows), ['confirmation', 'idea', 'visit'])
        idea = next(r for r in rows if r['form'] == 'idea')
        self.assertEqual(idea['fields']['product_name'], 'Ổi Đôn Nhân')
        self.assertEqual(idea['status'], 'submitted')
        visit = next(r for r in rows if r['form'] == 'visit')
        self.assertEqual(visit['fields']['photos'][0]['caption'], 'Xưởng chế biến')
        self.cleanups.append(other.stop_ui)
        other_url = other.start_ui()
        d.get(other_url + '#/list/idea')
        self.text_in('#records tbody', 'Ổi Đôn Nhân')
        self.shot('officer-09-second-device')
        other.stop_ui()
        # A third device that synced without photos shows the photo anyway:
        # the screens fetch it from the server when the visit is opened.
        third = support.Device(self.tmp, 'minh-tablet')
        third.run('init', '--commune', '08800', '--server', self.server.url)
        third.run('login', '--user', 'minh', '--password-stdin', input='matkhau-minh\n')
        third.run('sync')
        self.cleanups.append(third.stop_ui)
        third_url = third.start_ui()
        d.get(third_url + '#/r/' + visit['id'])
        self.wait(lambda _: d.execute_script('const i = document.querySelector("#photos img"); return i && i.naturalWidth') == 64)
        third.stop_ui()

        # History, report and export from the page.
        d.get(self.url + '#/history/' + idea_id)
        self.text_in('#history-table', 'Nháp → Đã tiếp nhận')
        self.assertNotIn('submitted', d.find_element(By.ID, 'history-table').text)
        self.assertNotIn('null', d.find_element(By.ID, 'history-table').text)
        self.shot('officer-10-history')
        d.get(self.url + '#/report')
        self.visible('#open-report')
        self.shot('officer-11-report-page')
        d.get(self.visible('#open-report').get_attribute('href'))
        self.assertIn('Xã Đôn Nhân', d.page_source)
        self.shot('officer-12-weekly-report')
        d.get(self.url)
        self.visible('#sync-button')
        csv = self.fetch_bytes('/export/idea.csv?bom=1')
        self.assertTrue(csv.startswith(b'\xef\xbb\xbf'), csv[:20])
        self.assertIn('Ổi Đôn Nhân', csv.decode('utf-8'))
        self.assertTrue(csv.decode('utf-8').startswith('\ufeffMã phiếu,Đơn vị,Trạng thái'), csv[:60])

        # English on the switch; a phone-sized screen.
        self.choose('#lang', 'en')
        self.text_in('header nav', 'Ideas')
        d.set_window_size(390, 844)
        d.get(self.url + '#/r/' + idea_id)
        self.text_in('#status', 'Submitted')
        self.shot('officer-13-phone-en')
        self.choose('#lang', 'vi')
        # On a phone nothing scrolls the page sideways: the confirmation's
        # materials table scrolls in its own box, the home's tiles wrap.
        conf = next(r for r in rows if r['form'] == 'confirmation')
        for page, ready, name in [('#/r/' + conf['id'], '#fields', 'officer-13b-confirmation-phone'), ('#/', '#stat-last-sync', 'officer-13c-home-phone')]:
            d.get(self.url + page)
            self.visible(ready)
            self.shot(name)
            overflow = d.execute_script('return document.documentElement.scrollWidth - document.documentElement.clientWidth')
            self.assertLessEqual(overflow, 0, page + ' scrolls sideways on a phone')

    def test_a_council_members_sheet_is_scored_as_on_paper(self):
        dev = self.device
        idea = dev.run('new', 'idea', '--set', 'subject_name=HTX Thanh long', '--set', 'subject_kind=cooperative',
                       '--set', 'product_name=Thanh long ruột đỏ', '--set', 'product_group=1', '--set',
                       'description=Mô tả').stdout.strip()
        conf = json.loads(dev.run(
            'new', 'confirmation', '--set', 'idea_id=' + idea, '--set', 'year=2026', '--set', 'workers_total=10',
            '--set', 'workers_local=4', '--set',
            'materials=[{"name":"Quả","value_vnd":100,"local_value_vnd":60,"origin":"commune"}]', '--json').stdout)['id']
        dev.run('confirm', conf)
        d = self.driver
        d.get(self.url + '#/new/evaluation')
        self.choose('#f-idea_id', idea)
        self.choose('#f-confirmation_id', conf)
        self.type('#f-product_name', 'Thanh long ruột đỏ')
        self.choose('#f-product_group', '1')
        self.type('#f-round_year', '2026')
        self.type('#f-member_name', 'Nguyễn Văn An')
        self.choose('#f-level', 'district')
        self.choose('#f-sheet', '148-2023')
        # The paper sheet: every criterion with its allowed scores; A1.1 and A1.2 are the confirmation's.
        self.visible('#score-A1\\.3')
        self.text_in('#scores', 'tự động từ phiếu xác nhận')
        self.assertEqual(d.find_elements(By.CSS_SELECTOR, '#score-A1\\.1'), [])
        options = [o.get_attribute('value') for o in d.find_elements(By.CSS_SELECTOR, '#score-C2\\.1 option')]
        self.assertEqual(options, ['', '0', '2', '4'])
        for code, points in (('A1.3', '3'), ('B1.2', '5'), ('C2.1', '4')):
            self.choose('#score-' + code.replace('.', '\\.'), points)
        self.text_in('#sheet-total', '12')
        self.shot('officer-16-score-sheet')
        self.click('#save')
        self.text_in('#status', 'Nháp')
        # Saved with the confirmation's scores: 60 % materials → 2, 40 % labour → 0; total 12 + 2 + 0.
        shown = json.loads(dev.run('list', 'evaluation', '--json').stdout)
        sheet_id = shown['records'][0]['id'] if 'records' in shown else shown[0]['id']
        fields = json.loads(dev.run('show', sheet_id, '--json').stdout)['fields']
        scores = {x['criterion']: x['points'] for x in fields['scores']}
        self.assertEqual((scores['A1.1'], scores['A1.2'], fields['total_points']), (2, 0, 14))
        self.assertNotIn('stars', fields)  # not every criterion is scored yet

    def test_each_decision_shows_the_rule_that_stops_it(self):
        def idea(name):
            out = self.device.run('new', 'idea', '--set', 'subject_name=HTX ' + name, '--set', 'subject_kind=cooperative',
                                  '--set', 'product_name=' + name, '--set', 'product_group=1', '--set', 'description=Mô tả')
            return out.stdout.strip()
        returned, accepted = idea('Mật ong Sông Lô'), idea('Chè hoa vàng')
        for rid in (returned, accepted):
            self.device.run('submit', rid, check=False)  # no receipt block yet: a warning, still submitted
        self.device.run('return', returned, '--reason', 'Thiếu câu chuyện sản phẩm')
        self.device.run('accept', accepted)
        wait_until = (datetime.datetime.utcnow() + datetime.timedelta(hours=7)).date() + datetime.timedelta(days=7)
        self.driver.get(self.url + '#/r/' + returned)
        self.text_in('#rule-submit', 'nộp lại được từ ' + wait_until.strftime('%d/%m/%Y'))
        self.assertFalse(self.driver.find_element(By.CSS_SELECTOR, '#rule-submit button').is_enabled())
        self.shot('officer-14-resubmit-rule')
        self.driver.get(self.url + '#/r/' + accepted)
        self.text_in('#rule-select', 'chỉ cán bộ điều phối')
        self.text_in('#rule-reject', 'chỉ cán bộ điều phối')
        self.assertEqual(self.driver.find_elements(By.ID, 'decide-select'), [])

    def test_writes_need_the_page_and_its_csrf_header(self):
        # Another origin's page cannot drive the device's screens: without the
        # cookie and the header, writes are refused and nothing is stored.
        import urllib.request
        import urllib.error
        req = urllib.request.Request(self.url + 'api/records', data=b'{"form":"idea","fields":{}}', method='POST',
                                     headers={'Content-Type': 'application/json'})
        with self.assertRaises(urllib.error.HTTPError) as ctx:
            urllib.request.urlopen(req, timeout=10)
        self.assertEqual(ctx.exception.code, 401)
        req = urllib.request.Request(self.url, headers={'Host': 'attacker.example:80'})
        with self.assertRaises(urllib.error.HTTPError) as ctx:
            urllib.request.urlopen(req, timeout=10)
        self.assertEqual(ctx.exception.code, 403)
        self.driver.get(self.url)
        self.visible('#sync-box')
        status = self.driver.execute_async_script(
            'const done = arguments[arguments.length - 1];'
            'fetch("/api/records", {method: "POST", headers: {"Content-Type": "application/json"},'
            ' body: JSON.stringify({form: "idea", fields: {}})}).then(r => done(r.status));')
        self.assertEqual(status, 403)
        self.assertEqual(json.loads(self.device.run('list', '--json').stdout), [])


if __name__ == '__main__':
    support.main()
