"""The console of ocopd (/console/) in a real browser, against a real ocopd
and real `ocop` devices: a coordinator sees exactly its scope's figures (the
same as `ocop report` on its synced device), an officer meets the 403 page and
the API refuses too, an administrator resolves a two-sided conflict field by
field and every device converges, accounts made in the console log in from
`ocop`, and the statistics office's unit list is imported with its changes
shown first. Screenshots of each screen go to the build's screenshots/."""
import datetime
import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(__file__))
import support  # noqa: E402
from test_officer_ui import png  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402

TODAY = (datetime.datetime.utcnow() + datetime.timedelta(hours=7)).strftime('%d/%m/%Y')


class ConsoleTest(support.BrowserTest):
    def setUp(self):
        super().setUp()
        self.server = support.Server(self.tmp)
        self.cleanups.append(self.server.stop)
        self.console = self.server.url + '/console/'
        self.server.add_user('quantri', 'admin', '26', 'matkhau-quantri')

    def device(self, name, unit, user, password):
        self.server.add_user(user, 'coordinator' if len(unit) == 3 else 'officer', unit, password)
        dev = support.Device(self.tmp, name)
        dev.run('init', '--commune', unit, '--server', self.server.url)
        dev.run('login', '--user', user, '--password-stdin', input=password + '\n')
        return dev

    def new_idea(self, dev, product, *extra):
        r = dev.run('new', 'idea', '--set', f'subject_name=HTX {product}', '--set', 'subject_kind=cooperative',
                    '--set', f'product_name={product}', '--set', 'product_group=1', '--set', 'description=Đặc sản của xã',
                    *extra, '--json')
        return json.loads(r.stdout)['id']

    def login(self, user, password):
        d = self.driver
        d.get(self.console)
        self.type('#login-user', user)
        self.type('#login-password', password)
        self.click('#login-submit')
        self.visible('#logout')

    def api(self, method, path, body=None):
        """Calls the API from the page, with its cookie and CSRF header: (status, json)."""
        return self.driver.execute_async_script(
            'const [m, p, b, done] = arguments;'
            'fetch("/v1/session").then(r => r.json()).then(s => fetch(p, {method: m, credentials: "same-origin",'
            '  headers: {"X-OCOP-CSRF": s.csrf || "", "Content-Type": "application/json"},'
            '  body: b === null ? undefined : JSON.stringify(b)}))'
            '.then(async r => done([r.status, await r.json().catch(() => null)]), e => done([0, String(e)]));',
            method, path, body)

    # ---- a coordinator's dashboard equals `ocop report` ----
    def test_coordinator_sees_exactly_the_figures_of_ocop_report(self):
        d = self.driver
        lan = self.device('lan', '08800', 'lan', 'matkhau-lan')       # Xã Đôn Nhân, huyện Sông Lô
        binh = self.device('binh', '08821', 'binh', 'matkhau-binh')   # Xã Đức Bác, huyện Sông Lô
        minh = self.device('minh', '08761', 'minh', 'matkhau-minh')   # Lập Thạch: another district
        hoa = self.device('hoa', '253', 'hoa', 'matkhau-hoa')         # coordinator of Sông Lô

        oi = self.new_idea(lan, 'Ổi Đôn Nhân')
        lan.run('submit', oi)  # received today: new this week
        lan.run('return', oi, '--reason', 'Thiếu ảnh sản phẩm')
        buoi = self.new_idea(lan, 'Bưởi Đôn Nhân')
        lan.run('submit', buoi)
        visit = json.loads(lan.run(
            'new', 'visit', '--set', f'visited_on={TODAY}', '--set', 'purpose=advice', '--set',
            'findings=Vườn sạch, ghi chép đầy đủ', '--set', 'subject_name=HTX Ổi', '--set', 'latitude=21.4512',
            '--set', 'longitude=105.3921', '--json').stdout)['id']
        photo = os.path.join(self.tmp, 'vuon.png')
        with open(photo, 'wb') as f:
            f.write(png())
        lan.run('attach', visit, photo, '--caption', 'Vườn ổi')
        mat = self.new_idea(binh, 'Mật ong Đức Bác')
        binh.run('new', 'confirmation', '--set', f'idea_id={mat}', '--set', 'product_name=Mật ong Đức Bác',
                 '--set', 'year=2026', '--set', 'workers_total=10', '--set', 'workers_local=8', '--set',
                 'materials=[{"name":"Mật ong","unit":"kg","quantity":100,"value_vnd":9000000,'
                 '"local_value_vnd":6000000,"origin":"commune"},{"name":"Chai","unit":"cái","quantity":100,'
                 '"value_vnd":1000000,"local_value_vnd":0,"origin":"imported"}]')
        self.new_idea(minh, 'Tương Lập Thạch')
        for dev in (lan, binh, minh, hoa):
            dev.run('sync', '--with-files')
        device_report = json.loads(hoa.run('report', '--format', 'json').stdout)
        self.assertEqual(len(device_report['communes']), 2)

        self.login('hoa', 'matkhau-hoa')
        self.text_in('h1', 'Huyện Sông Lô')
        self.visible('#by-unit tbody tr')
        self.shot('console-01-coordinator-dashboard')
        # The server's figures are the device's, field for field (one computation).
        status, served = self.api('GET', '/v1/report', None)
        self.assertEqual(status, 200)
        served = served['report']
        for key in ('communes', 'waiting', 'confirmations', 'visits_this_week', 'selected_total', 'week_start', 'unit'):
            self.assertEqual(served[key], device_report[key], key)
        # And the page shows them: one row per commune, each cell its figure.
        for c in device_report['communes']:
            row = d.find_element(By.CSS_SELECTOR, f'#by-unit tr[data-unit="{c["code"]}"]')
            cell = lambda k: int(row.find_element(By.CSS_SELECTOR, f'td[data-k="{k}"]').text)  # noqa: E731
            self.assertEqual(cell('ideas_total'), c['ideas_total'])
            for status_name, n in c['ideas_by_status'].items():
                self.assertEqual(cell(status_name), n, status_name)
            self.assertEqual(cell('new'), c['ideas_received_this_week'])
            self.assertEqual(cell('visits'), c['visits_this_week'])
            self.assertEqual(cell('confirmations'), c['confirmations'])
        self.assertEqual(d.find_element(By.CSS_SELECTOR, '#tile-ideas .n').text, '3')  # not Lập Thạch's
        waiting = d.find_element(By.ID, 'waiting').text
        self.assertIn('Ổi Đôn Nhân', waiting)
        self.assertIn('Thiếu ảnh sản phẩm', waiting)
        resubmit = datetime.datetime.strptime(TODAY, '%d/%m/%Y') + datetime.timedelta(days=7)
        self.assertIn(resubmit.strftime('%d/%m/%Y'), waiting)
        conf = d.find_element(By.ID, 'confirmations').text
        self.assertIn('80 %', conf)   # local labour 8 of 10
        self.assertIn('60 %', conf)   # local raw materials 6 of 10 million
        self.assertIn('21.4512, 105.3921', d.find_element(By.ID, 'visits').text)
        self.assertNotIn('Tương Lập Thạch', d.page_source)  # another district's

        # Drill down to a commune: its records.
        self.click('#by-unit tr[data-unit="08800"]')
        self.visible('#records tbody tr')
        self.assertEqual(len(d.find_elements(By.CSS_SELECTOR, '#records tbody tr')), 3)
        self.shot('console-02-commune-records')
        # Search without accents across the scope; never beyond it.
        d.get(self.console + '#/records?q=mat%20ong%20duc%20bac')
        self.text_in('#records tbody', 'Mật ong Đức Bác')
        self.assertEqual(len(d.find_elements(By.CSS_SELECTOR, '#records tbody tr')), 2)  # the idea and its confirmation
        d.get(self.console + '#/records?q=tuong%20lap%20thach')
        self.text_in('#found', '0 phiếu')
        status, _ = self.api('GET', '/v1/records?unit=08761', None)
        self.assertEqual(status, 403)
        # One record: fields, history.
        d.get(self.console + '#/r/' + oi)
        self.text_in('#history', 'Đã trả lại')
        self.assertNotIn('returned', d.find_element(By.ID, 'history').text)
        self.assertIn('Thiếu ảnh sản phẩm', d.page_source)
        self.shot('console-03-record')
        # A visit's photo, fetched from the server with the console's session.
        d.get(self.console + '#/r/' + visit)
        self.visible('.thumbs img')
        self.wait(lambda _: d.execute_script('return document.querySelector(".thumbs img").naturalWidth') == 64)
        self.assertIn('Vườn ổi', d.find_element(By.CSS_SELECTOR, '.thumbs').text)
        self.shot('console-03b-visit-photo')
        # CSV export with the BOM for Excel, Vietnamese headers.
        csv = self.fetch_bytes('/v1/export/idea.csv?bom=1')
        self.assertTrue(csv.decode('utf-8').startswith('\ufeffMã phiếu,Đơn vị,Trạng thái,Xung đột'), csv[:80])
        self.assertEqual(csv.decode('utf-8-sig').count('\n'), 4)  # header + 3 ideas of Sông Lô
        # The province's administrator drills down province → district → commune.
        d.get(self.console + '#/logout')
        self.visible('#login-user')
        self.login('quantri', 'matkhau-quantri')
        self.text_in('h1', 'Tỉnh Vĩnh Phúc')
        row = self.visible('#by-unit tr[data-unit="253"]')
        self.assertEqual(row.find_element(By.CSS_SELECTOR, 'td[data-k="ideas_total"]').text, '3')
        self.assertEqual(d.find_element(By.CSS_SELECTOR, '#by-unit tr[data-unit="246"] td[data-k="ideas_total"]').text, '1')
        self.shot('console-03c-province-dashboard')
        row.click()
        self.text_in('h1', 'Huyện Sông Lô')
        self.visible('#by-unit tr[data-unit="08800"]')
        self.text_in('#crumbs', 'Tỉnh Vĩnh Phúc')
        # English.
        d.get(self.console + '#/')
        self.choose('#lang', 'en')
        self.text_in('h1', 'Dashboard')
        self.shot('console-04-dashboard-english')
        self.choose('#lang', 'vi')
        # A phone: the tables scroll sideways inside the page, the page itself does not.
        self.phone()
        for page, ready, name in [('#/records', '#records tbody tr', 'console-04b-records-phone'),
                                  ('#/', '#by-unit', 'console-04c-dashboard-phone'),
                                  ('#/r/' + oi, '#history', 'console-04d-record-phone')]:
            d.get(self.console + page)
            self.visible(ready)
            self.no_sideways_scroll()
            self.shot(name)
        self.phone(False)

    # ---- roles ----
    # ---- the rest of the cycle: ranking, certificates, plans on the dashboard ----
    def test_the_dashboard_shows_stars_certificates_and_plans_in_vietnamese(self):
        lan = self.device('lan', '08800', 'lan', 'matkhau-lan')
        hoa = self.device('hoa', '253', 'hoa', 'matkhau-hoa')
        ideas = {}
        for product in ('Thanh long ruột đỏ', 'Mật ong bạc hà'):
            ideas[product] = self.new_idea(lan, product)
            lan.run('submit', ideas[product])
            lan.run('accept', ideas[product])
        lan.run('sync')
        hoa.run('sync')
        for i in ideas.values():
            hoa.run('select', i)
        hoa.run('sync')
        lan.run('sync')
        plan = json.loads(lan.run(
            'new', 'plan', '--set', 'idea_id=' + ideas['Mật ong bạc hà'], '--set', 'product_name=Mật ong bạc hà',
            '--set', 'subject_name=HTX Ong mật', '--set', 'production_scale=200 đàn ong', '--set',
            'capital_total_vnd=450000000', '--set', 'revenue_per_year_vnd=900000000', '--set',
            'cost_per_year_vnd=600000000', '--set', 'workers=8', '--set', 'raw_material_sources=Đàn ong của hộ',
            '--json').stdout)['id']
        lan.run('submit', plan)
        thanh_long = ideas['Thanh long ruột đỏ']
        conf = json.loads(lan.run(
            'new', 'confirmation', '--set', 'idea_id=' + thanh_long, '--set', 'year=2026', '--set', 'workers_total=10',
            '--set', 'workers_local=9', '--set',
            'materials=[{"name":"Quả","value_vnd":100,"local_value_vnd":90,"origin":"commune"}]', '--json').stdout)['id']
        lan.run('confirm', conf)
        lan.run('sync')
        hoa.run('sync')
        # Three members near the top of the sheet: 98, 98, 96 → 97.3 → 5 stars.
        tops = ('A1.3=3,A1.4=3,A1.5=3,A1.6=3,A2.1=2,A2.2=3,A2.3=3,A2.4=2,A3.1=3,A3.2=2,A3.3=2,A3.4=3,A3.5=2,A3.6=2,'
                'B1.1=3,B1.2=5,B1.3=3,B1.4=4,B1.5=5,B2.1=2,B2.2=3,C1.1=4,C1.2=4,C1.3=4,C2.1=4,C2.2=3,C2.4=3,C2.5=4')
        for member, tail in (('An', ',C2.3=4,C3.1=3'), ('Bình', ',C2.3=4,C3.1=3'), ('Châu', ',C2.3=2,C3.1=3')):
            hoa.run('score', thanh_long, '--member', member, '--level', 'province', '--scores', tops + tail, '--finish')
        decided = (datetime.datetime.utcnow() + datetime.timedelta(hours=7) - datetime.timedelta(days=33 * 30))
        hoa.run('certify', thanh_long, '--level', 'province', '--decision-no', '88/QĐ-UBND', '--decided-on',
                decided.strftime('%d/%m/%Y'))
        hoa.run('sync')

        self.login('hoa', 'matkhau-hoa')
        self.type('#report-star-target', '4')
        self.click('#report-apply')
        self.text_in('#ranking', '★★★★★')
        self.text_in('#ranking', 'Thanh long ruột đỏ')
        self.text_in('#ranking', 'tỉnh')
        self.text_in('#ranking', '97,3')
        self.text_in('#tile-three-stars', '1 / 4')
        self.text_in('#expiring', '88/QĐ-UBND')
        self.text_in('#plans', 'Mật ong bạc hà')
        self.text_in('#plans', '450.000.000')
        self.shot('console-10-ranking-certificates-plans')
        # The record page of the plan shows its status by name, not its key.
        self.click('#plans tbody tr')
        self.text_in('#status', 'Đã tiếp nhận')
        # In English.
        self.driver.get(self.console + '#/')
        self.choose('#lang', 'en')
        self.text_in('#ranking', 'province')
        self.text_in('#tile-three-stars', 'products of 3 stars and above')
        self.choose('#lang', 'vi')

    def test_an_officer_cannot_open_administrator_pages(self):
        self.device('lan', '08800', 'lan', 'matkhau-lan')
        self.login('lan', 'matkhau-lan')
        d = self.driver
        self.assertFalse(d.find_elements(By.CSS_SELECTOR, 'header nav a[href="#/users"]'))
        for page in ('#/users', '#/conflicts', '#/units'):
            d.get(self.console + page)
            self.visible('#forbidden')
            self.text_in('h1', '403')
        self.shot('console-05-officer-403')
        status, body = self.api('GET', '/v1/users', None)
        self.assertEqual((status, body['error']['code']), (403, 'permission_denied'))
        status, _ = self.api('POST', '/v1/users', {'name': 'ke-gian', 'role': 'admin', 'unit': '26', 'password': 'matkhau-ke'})
        self.assertEqual(status, 403)
        status, _ = self.api('GET', '/v1/conflicts', None)
        self.assertEqual(status, 403)
        status, body = self.api('POST', '/v1/units/import?apply=1', None)
        self.assertEqual(status, 403, body)
        # Without the CSRF header the cookie alone changes nothing.
        r = d.execute_async_script(
            'const done = arguments[0]; fetch("/v1/session", {method: "DELETE"}).then(r => done(r.status));')
        self.assertEqual(r, 403)
        # The cookie is HttpOnly: the page's scripts cannot read it.
        self.assertNotIn('ocop_session', d.execute_script('return document.cookie'))
        cookie = d.get_cookie('ocop_session')
        self.assertTrue(cookie['httpOnly'])
        self.assertEqual(cookie['sameSite'], 'Strict')

    # ---- conflicts ----
    def test_admin_resolves_a_two_sided_conflict_field_by_field_and_devices_converge(self):
        lan = self.device('lan', '08800', 'lan', 'matkhau-lan')
        an = self.device('an', '08800', 'an', 'matkhau-an')
        oi = self.new_idea(lan, 'Ổi Đôn Nhân', '--set', 'phone=0912000000')
        lan.run('sync')
        an.run('sync')
        lan.run('edit', oi, '--set', 'product_name=Ổi giòn Đôn Nhân', '--set', 'phone=0912345678')
        an.run('edit', oi, '--set', 'product_name=Ổi ruby Đôn Nhân', '--set', 'phone=0987654321')
        lan.run('sync')
        an.run('sync')
        self.assertTrue(json.loads(an.run('show', oi, '--json').stdout)['conflict'])

        # The officer's screens say which fields, with both values and who sent them.
        d = self.driver
        self.cleanups.append(an.stop_ui)
        d.get(an.start_ui() + '#/r/' + oi)
        self.visible('#conflict-fields table')
        rows = d.find_element(By.ID, 'conflict-fields').text
        for text in ('Tên sản phẩm', 'Ổi giòn Đôn Nhân', 'Ổi ruby Đôn Nhân', '0912345678', '0987654321', 'lan', 'an'):
            self.assertIn(text, rows)
        self.phone()
        self.no_sideways_scroll()
        self.shot('officer-conflict-phone')
        self.phone(False)
        an.stop_ui()

        self.login('quantri', 'matkhau-quantri')
        d.get(self.console + '#/conflicts')
        self.click(f'#conflict-queue tr[data-id="{oi}"]')
        self.visible('.conflict-field[data-field="product_name"]')
        self.phone()
        self.no_sideways_scroll()
        self.shot('console-06b-conflict-phone')
        self.phone(False)
        page = d.find_element(By.ID, 'main').text
        for text in ('Ổi Đôn Nhân', 'Ổi giòn Đôn Nhân', 'Ổi ruby Đôn Nhân', 'lan', 'an'):
            self.assertIn(text, page)
        self.shot('console-06-conflict')
        # Saving with a field undecided is refused on the page.
        self.click('#take-product_name-incoming')
        self.click('#resolve-submit')
        self.text_in('#err-phone', 'chọn')
        self.click('#take-phone-value')
        self.type('#value-phone', '0911222333')
        self.click('#resolve-submit')
        self.visible('#history')
        self.assertFalse(d.find_elements(By.ID, 'conflict-mark'))
        self.text_in('#history', '0911222333')
        self.shot('console-07-resolved')

        for dev in (lan, an):
            dev.run('sync')
            rec = json.loads(dev.run('show', oi, '--json').stdout)
            self.assertEqual(rec['fields']['product_name'], 'Ổi ruby Đôn Nhân')
            self.assertEqual(rec['fields']['phone'], '0911222333')
            self.assertFalse(rec['conflict'])
        d.get(self.console + '#/conflicts')
        self.visible('#no-conflicts')

    # ---- accounts ----
    def test_an_account_created_in_the_console_logs_in_from_ocop(self):
        self.login('quantri', 'matkhau-quantri')
        d = self.driver
        d.get(self.console + '#/users')
        # Three mistakes: each said under its own field, at once.
        self.type('#new-name', 'thu hương')
        self.choose('#new-role', 'coordinator')
        self.choose('#new-unit', '08800')
        self.type('#new-password', 'ngan')
        self.click('#new-submit')
        self.text_in('#new-err-password', 'ít nhất 8 ký tự')
        self.assertTrue(d.find_element(By.ID, 'new-err-name').text)
        self.assertIn('08800', d.find_element(By.ID, 'new-err-unit').text)
        self.assertEqual(d.switch_to.active_element.get_attribute('id'), 'new-name')
        self.shot('console-08a-account-errors')
        self.type('#new-name', 'thu')
        self.choose('#new-role', 'officer')
        self.type('#new-password', 'matkhau-thu')
        self.click('#new-submit')
        self.visible('#users tr[data-user="thu"]')
        self.shot('console-08-accounts')
        self.phone()
        self.no_sideways_scroll()
        self.shot('console-08b-accounts-phone')
        self.phone(False)

        phone = support.Device(self.tmp, 'thu-phone')
        phone.run('init', '--commune', '08800', '--server', self.server.url)
        phone.run('login', '--user', 'thu', '--password-stdin', input='matkhau-thu\n')
        phone.run('sync')

        # Reset the password: the old one and the old session stop working.
        self.type('#users tr[data-user="thu"] .reset-password', 'matkhau-moi-thu')
        self.click('#users tr[data-user="thu"] .reset')
        self.text_in('.toast', 'Đã đặt lại mật khẩu')
        self.assertNotEqual(phone.run('sync', check=False).returncode, 0)
        self.assertNotEqual(phone.run('login', '--user', 'thu', '--password-stdin', input='matkhau-thu\n',
                                      check=False).returncode, 0)
        phone.run('login', '--user', 'thu', '--password-stdin', input='matkhau-moi-thu\n')
        # Disable: refused at once.
        self.click('#users tr[data-user="thu"] .disable')
        self.text_in('#users tr[data-user="thu"]', 'đã khoá')
        self.assertNotEqual(phone.run('sync', check=False).returncode, 0)
        # Outside the administrator's scope: refused by the server.
        status, body = self.api('POST', '/v1/users', {'name': 'x', 'role': 'officer', 'unit': '99999', 'password': 'matkhau-x'})
        self.assertEqual(status, 403, body)

    # ---- spreadsheets in ----
    def test_a_coordinator_imports_a_spreadsheet_after_checking_it(self):
        self.server.add_user('hoa', 'coordinator', '253', 'matkhau-hoa')
        path = os.path.join(self.tmp, 'y-tuong.csv')
        with open(path, 'w', encoding='utf-8-sig') as f:
            f.write('Đơn vị,Tên chủ thể,Loại hình chủ thể,Tên sản phẩm,Nhóm sản phẩm (1–6),'
                    '"Mô tả (giá trị cốt lõi, vì sao khách hàng mua)"\n'
                    'Xã Đôn Nhân (08800),HTX Đôn Nhân,Hợp tác xã,Ổi Đôn Nhân,1,Ổi giòn\n'
                    '08800,HTX Chè,Hợp tác xã,Chè xanh,9,Chè\n'
                    '08821,Hộ Lan,Hộ sản xuất kinh doanh,Mật ong,1,Mật ong rừng\n')
        self.login('hoa', 'matkhau-hoa')
        d = self.driver
        d.get(self.console + '#/records')
        self.choose('#import-form', 'idea')
        d.find_element(By.ID, 'import-file').send_keys(path)
        self.click('#import-check')
        self.visible('#import-result > div')
        self.assertIn('3 dòng: 2 dòng đúng, 1 dòng lỗi', d.find_element(By.ID, 'import-result').text)
        problems = d.find_element(By.ID, 'import-problems').text
        self.assertIn('3', problems)
        self.assertIn('nhóm', problems.lower())  # the reason, in Vietnamese
        d.execute_script('document.getElementById("import-result").scrollIntoView({block: "end"})')
        self.shot('console-11-import-check')
        self.click('#import-apply')
        self.text_in('#import-summary', 'Chưa nhập gì')
        self.click('#import-skip-bad')
        self.click('#import-apply')
        self.text_in('#import-summary', 'Đã nhập 2 phiếu')
        status, body = self.api('GET', '/v1/records?form=idea', None)
        self.assertEqual(body['total'], 2, body)
        # The list above catches up on request (the rows left out stay readable until then).
        self.click('#import-show')
        self.text_in('#found', '2 phiếu')
        self.phone()
        self.no_sideways_scroll()
        self.shot('console-11b-import-phone')
        self.phone(False)

    # ---- carried files ----
    def test_a_coordinator_sends_a_communes_carried_file_from_the_console(self):
        lan = self.device('lan', '08800', 'lan', 'matkhau-lan')   # logged in once, then no link
        self.new_idea(lan, 'Ổi Đôn Nhân')
        self.new_idea(lan, 'Bưởi Đôn Nhân')
        path = os.path.join(self.tmp, 'lan.ocop')
        lan.run('outbox', 'export', '--output', path)
        self.device('hoa', '253', 'hoa', 'matkhau-hoa')
        self.login('hoa', 'matkhau-hoa')
        d = self.driver
        d.get(self.console + '#/carried')
        d.find_element(By.ID, 'carried-file').send_keys(path)
        self.click('#carried-send')
        self.text_in('#carried-done', '2 thay đổi áp dụng')
        self.shot('console-11-carried-file')
        d.get(self.console + '#/records?q=don%20nhan')
        self.text_in('#found', '2 phiếu')
        # Tampered on the way: refused, with the reason.
        with open(path, 'rb') as f:
            data = bytearray(f.read())
        data[-5] ^= 1
        bad = os.path.join(self.tmp, 'bad.ocop')
        with open(bad, 'wb') as f:
            f.write(bytes(data))
        d.get(self.console + '#/carried')
        d.find_element(By.ID, 'carried-file').send_keys(bad)
        self.click('#carried-send')
        self.text_in('#carried-err', 'chữ ký')
        # The commune device, online at last, sends the same change set: nothing doubles.
        lan.run('sync')
        status, body = self.api('GET', '/v1/records?q=don%20nhan', None)
        self.assertEqual(body['total'], 2)

    # ---- units ----
    def test_the_statistics_office_list_is_imported_with_its_changes_shown_first(self):
        # The sample tree minus one commune, plus a new one, one renamed, in the
        # statistics office's own layout.
        import urllib.request
        with urllib.request.urlopen(self.server.url + '/v1/units', timeout=10) as r:
            ours = r.read().decode('utf-8').splitlines()
        rows = [line.split(',') for line in ours[1:]]
        names = {r[0]: r[1] for r in rows}
        parents = {r[0]: r[3] for r in rows}
        lines = ['Tỉnh Thành Phố,Mã TP,Quận Huyện,Mã QH,Phường Xã,Mã PX,Cấp']
        for code, name in names.items():
            if len(code) != 5 or code == '08725':  # leave Xã Định Trung out: closed
                continue
            dist = parents[code]
            name = 'Xã Đôn Nhân mới' if code == '08800' else name
            lines.append(f'Tỉnh Vĩnh Phúc,26,{names[dist]},{dist},{name},{code},{name.split()[0]}')
        lines.append(f'Tỉnh Vĩnh Phúc,26,{names["253"]},253,Xã Sông Lô Mới,08899,Xã')
        path = os.path.join(self.tmp, 'danh-muc.csv')
        with open(path, 'w', encoding='utf-8-sig') as f:
            f.write('\n'.join(lines) + '\n')

        self.login('quantri', 'matkhau-quantri')
        d = self.driver
        d.get(self.console + '#/units')
        d.find_element(By.ID, 'units-file').send_keys(path)
        self.click('#units-preview')
        self.text_in('#diff-added .n', '1')
        self.text_in('#diff-closed .n', '1')
        self.text_in('#diff-renamed .n', '1')
        self.assertIn('Xã Định Trung', d.find_element(By.ID, 'units-diff').text)
        self.assertIn('Xã Sông Lô Mới', d.find_element(By.ID, 'units-diff').text)
        self.shot('console-09-units-preview')
        # Nothing changed yet.
        with urllib.request.urlopen(self.server.url + '/v1/units', timeout=10) as r:
            self.assertNotIn('08899', r.read().decode('utf-8'))
        self.click('#units-apply')
        self.visible('#units-applied')
        with urllib.request.urlopen(self.server.url + '/v1/units', timeout=10) as r:
            after = r.read().decode('utf-8')
        self.assertIn('08899,Xã Sông Lô Mới,', after)
        closed = next(line for line in after.splitlines() if line.startswith('08725,'))
        self.assertRegex(closed, r',\d{4}-\d{2}-\d{2},$')  # kept, with its closing date (and no successor)
        self.assertIn('Xã Đôn Nhân mới', after)
        # A new commune's officer can be created at once.
        status, body = self.api('POST', '/v1/users', {'name': 'moi', 'role': 'officer', 'unit': '08899', 'password': 'matkhau-moi'})
        self.assertEqual(status, 200, body)
        self.shot('console-10-units-applied')

        # A merger in our own layout: Xã Đức Bác closed into the new commune.
        merged = '\n'.join(line if not line.startswith('08821,') else
                            line.rsplit(',', 2)[0] + ',2025-07-01,08899' for line in after.splitlines()) + '\n'
        path = os.path.join(self.tmp, 'sap-nhap.csv')
        with open(path, 'w', encoding='utf-8') as f:
            f.write(merged)
        d.get(self.console + '#/units')
        d.find_element(By.ID, 'units-file').send_keys(path)
        self.click('#units-preview')
        self.text_in('#diff-closed .n', '1')
        diff = d.find_element(By.ID, 'units-diff').text
        self.assertIn('Xã Đức Bác', diff)
        self.assertIn('sáp nhập vào Xã Sông Lô Mới', diff)
        self.shot('console-11-units-merger')
        self.click('#units-apply')
        self.visible('#units-applied')
        with urllib.request.urlopen(self.server.url + '/v1/units', timeout=10) as r:
            self.assertIn('08821,Xã Đức Bác,commune,253,2009-01-01,2025-07-01,08899', r.read().decode('utf-8'))


    # ---- a new version of a form, checked then published ----
    def test_a_new_form_version_is_checked_then_published_and_devices_take_it(self):
        import urllib.request
        dev = self.device('xa', '08800', 'lan', 'matkhau-lan')
        old = self.new_idea(dev, 'Miến dong')
        dev.run('sync')
        # A second device of the commune, which will only get a return file (no link).
        other = self.device('xa2', '08800', 'thu', 'matkhau-thu')
        other.run('sync')
        with open(os.path.join(os.path.dirname(__file__), '..', '..', 'schemas', 'forms', 'idea.v1.json'), encoding='utf-8') as f:
            v1 = f.read()
        v2 = v1.replace('"version": 1', '"version": 2', 1).replace(
            '"fields": [', '"fields": [\n    {"key": "vietgap", "type": "bool", '
            '"label": {"vi": "Đạt chứng nhận VietGAP", "en": "VietGAP certified"}},', 1)
        broken = v2.replace('"key": "product_group", "type": "integer"', '"key": "product_group", "type": "text"')
        good_path, broken_path = os.path.join(self.tmp, 'idea.v2.json'), os.path.join(self.tmp, 'idea-sai.json')
        for path, text in ((good_path, v2), (broken_path, broken)):
            with open(path, 'w', encoding='utf-8') as f:
                f.write(text)

        self.login('quantri', 'matkhau-quantri')
        d = self.driver
        d.get(self.console + '#/forms')
        self.text_in('main', 'Phiếu đăng ký ý tưởng sản phẩm')
        # A key that changes its type is refused, with the reason in Vietnamese.
        d.find_element(By.ID, 'forms-file').send_keys(broken_path)
        self.click('#forms-preview')
        self.text_in('#forms-err', 'trường «Nhóm sản phẩm (1–6)» có kiểu "integer" ở phiên bản 1, không thể đổi sang kiểu "text"')
        self.shot('console-12-forms-refused')
        d.find_element(By.ID, 'forms-file').send_keys(good_path)
        self.click('#forms-preview')
        self.visible('#forms-differences')
        diff = d.find_element(By.ID, 'forms-check').text
        self.assertIn('phiên bản 1 → 2', diff)
        self.assertIn('Trường mới', diff)
        self.assertIn('Đạt chứng nhận VietGAP', diff)
        self.assertNotIn('vietgap', diff)  # people read labels
        self.shot('console-12-forms-preview')
        self.phone()
        self.shot('console-12b-forms-phone')
        wide = d.execute_script('return [...document.querySelectorAll("body *")].filter(e => e.getBoundingClientRect().right > 391)'
                                '.map(e => e.tagName + "#" + e.id + "." + e.className).slice(0, 5)')
        self.assertLessEqual(d.execute_script('return document.documentElement.scrollWidth'), 390, wide)
        self.phone(False)
        with urllib.request.urlopen(self.server.url + '/v1/definitions', timeout=10) as r:
            self.assertEqual(json.loads(r.read())['forms'], [])  # a preview publishes nothing
        self.click('#forms-apply')
        self.visible('#forms-published')
        with urllib.request.urlopen(self.server.url + '/v1/definitions', timeout=10) as r:
            self.assertEqual([f['version'] for f in json.loads(r.read())['forms']], [2])
        # The device takes it at its next sync; its old record keeps version 1.
        synced = dev.run('sync', '--lang', 'vi').stdout
        self.assertIn('Đã nhận mẫu phiếu mới từ máy chủ: Phiếu đăng ký ý tưởng sản phẩm (phiên bản 2)', synced)
        fresh = self.new_idea(dev, 'Chè xanh', '--set', 'vietgap=có')
        shown = json.loads(dev.run('show', fresh, '--json').stdout)['fields']
        self.assertEqual(shown['form_version'], 2)
        self.assertTrue(shown['vietgap'])
        self.assertNotIn('form_version', json.loads(dev.run('show', old, '--json').stdout)['fields'])
        # The officer's screens edit each record with its own version: a new
        # form offers VietGAP, the record of version 1 does not.
        url = dev.start_ui()
        self.cleanups.append(dev.stop_ui)
        d.get(url + '#/new/idea')
        self.visible('#f-vietgap')
        self.shot('officer-20-form-version-2')
        d.get(url + '#/edit/' + old)
        self.visible('#f-product_name')
        self.assertEqual(d.find_elements(By.ID, 'f-vietgap'), [])
        d.get(url + '#/edit/' + fresh)
        self.visible('#f-vietgap')
        dev.stop_ui()
        # The second device gets the new record by a return file, not the new
        # form: it shows the record and says to sync before editing.
        dev.run('sync')
        other_id = json.loads(other.run('status', '--json').stdout)['device']
        carried = os.path.join(self.tmp, 'tra-ve.ocop')
        subprocess.run([support.ARGS.ocopd, '--data-dir', self.server.data, '--export-scope', '08800', '--for-device', other_id,
                        '--output', carried], check=True, capture_output=True, timeout=60)
        other.run('import-pull', carried)
        url = other.start_ui()
        self.cleanups.append(other.stop_ui)
        d.get(url + '#/r/' + fresh)
        self.text_in('#newer-form', 'hãy đồng bộ để nhận mẫu mới')
        self.assertEqual(d.find_elements(By.ID, 'edit'), [])
        self.assertEqual(d.find_elements(By.ID, 'decide-submit'), [])  # no decision that would be refused
        self.shot('officer-21-newer-form-not-held')
        d.get(url + '#/edit/' + fresh)
        self.visible('#newer-form')
        self.assertEqual(d.find_elements(By.ID, 'f-product_name'), [])
        d.get(url + '#/r/' + old)
        self.visible('#edit')  # a record of a version it holds edits as ever


if __name__ == '__main__':
    support.main()
