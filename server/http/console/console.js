// The console of ocopd, for coordinators and administrators: the dashboard of
// one's scope, records, the conflict queue, accounts, the unit list and the
// forms' versions. Built
// on the shared page toolkit (ocop.js). The page holds no rule: every figure
// comes from the server's report computation (the one `ocop report` runs), and
// every refusal (role, scope, validation) is the server's, shown as it says.
'use strict';
(() => {
  const {t, L, h, mount, api, toast} = O;
  let me = null;       // {user, role, unit, unit_name, csrf}
  let forms = {};      // form name -> schema
  let statuses = {};   // status -> {vi, en}

  const statusLabel = (s) => L(statuses[s]) || s || '';
  const formLabel = (f) => (forms[f] ? L(forms[f].label) : f);
  const isAdmin = () => me && me.role === 'admin';
  const roleLabel = (r) => ({officer: t('Cán bộ xã', 'Commune officer'), coordinator: t('Cán bộ điều phối', 'Coordinator'),
    admin: t('Quản trị viên', 'Administrator')})[r] || r;
  const levelLabel = (l) => ({province: t('tỉnh', 'province'), district: t('huyện', 'district'), commune: t('xã', 'commune')})[l] || l;
  const qs = (params) => Object.entries(params).filter(([, v]) => v !== '' && v !== null && v !== undefined && v !== false)
    .map(([k, v]) => `${k}=${encodeURIComponent(v === true ? '1' : v)}`).join('&');
  const stat = (n, label, id) => h('div', {class: 'stat', id}, h('div', {class: 'n'}, n), h('div', {class: 'l'}, label));
  const fail = (e) => toast(O.msg(e.message), true);
  // A stored value (canonical JSON text) as it reads.
  const shownValue = (schema, field, text) => O.historyValue(schema, field, text, statusLabel);
  // Device ids are time-ordered (UUIDv7): two devices set up the same day share
  // their first digits, so the last ones tell them apart.
  const deviceName = (id) => (id ? '…' + id.slice(-8) : '?');
  function titleOf(r) {
    const f = r.fields || {};
    return f.product_name || f.subject_name || f.receipt_no || r.id.slice(0, 8);
  }

  // ---- session ----
  function nav() {
    const links = [['#/', t('Tổng quan', 'Dashboard')], ['#/records', t('Phiếu', 'Records')]];
    if (me && me.role !== 'officer') links.push(['#/carried', t('Nhận tệp', 'Carried files')]);
    if (isAdmin()) links.push(['#/conflicts', t('Xung đột', 'Conflicts')], ['#/users', t('Tài khoản', 'Accounts')],
      ['#/units', t('Đơn vị hành chính', 'Units')], ['#/forms', t('Mẫu phiếu', 'Forms')]);
    document.getElementById('nav').replaceChildren(...links.map(([href, text]) =>
      h('a', {href, 'data-prefix': href.length > 2 ? href : null}, text)),
      me ? h('a', {href: '#/logout', id: 'logout'}, t('Đăng xuất', 'Log out')) : null);
    document.getElementById('who').textContent = me ? `${me.user} — ${roleLabel(me.role)}, ${me.unit_name}` : '';
    document.getElementById('lang-slot').replaceChildren(O.langSwitch(() => { nav(); route(); }));
  }

  function loginPage() {
    const user = h('input', {type: 'text', id: 'login-user', autocomplete: 'username'});
    const pw = h('input', {type: 'password', id: 'login-password', autocomplete: 'current-password'});
    const err = h('div', {class: 'error', id: 'login-err', 'aria-live': 'polite'});
    const form = h('form', {class: 'card', id: 'login', onsubmit: async (e) => {
      e.preventDefault();
      err.textContent = '';
      try {
        me = await api('POST', '/v1/session', {user: user.value.trim(), password: pw.value});
        O.setCsrf(me.csrf);
        await loadForms();
        nav();
        route();
      } catch (x) {
        err.textContent = O.msg(x.message);
        pw.value = '';
        pw.focus();
      }
    }},
    h('div', {class: 'field'}, h('label', {for: 'login-user'}, t('Tên đăng nhập', 'User name')), user),
    h('div', {class: 'field'}, h('label', {for: 'login-password'}, t('Mật khẩu', 'Password')), pw), err,
    h('button', {class: 'primary', type: 'submit', id: 'login-submit'}, t('Đăng nhập', 'Log in')));
    mount(h('h1', {}, t('Bảng điều hành OCOP', 'OCOP console')),
      h('p', {class: 'muted'}, t('Dành cho cán bộ điều phối và quản trị viên. Dùng tài khoản như trên ứng dụng ocop.',
        'For coordinators and administrators. Use the same account as in the ocop app.')), form);
    user.focus();
  }

  async function logout() {
    try { await api('DELETE', '/v1/session'); } catch (e) { /* the cookie is cleared anyway */ }
    me = null;
    O.setCsrf('');
    nav();
    location.hash = '#/';
    loginPage();
  }

  async function loadForms() {
    const f = await api('GET', '/v1/forms');
    forms = {};
    for (const s of f.forms) forms[s.form] = s;
    O.setOlderForms(f.older);
    statuses = f.statuses;
    O.setCriteria(f.criteria);
  }

  // ---- dashboard ----
  // Figures come per commune from the server; a unit above communes shows the
  // sum of the communes below it, so drilling down never recomputes a figure.
  async function dashboard(unitParam) {
    const target = localStorage.getItem('ocop.target') || '';
    const starTarget = localStorage.getItem('ocop.star_target') || '';
    const day = sessionStorage.getItem('ocop.day') || '';
    const data = await api('GET', '/v1/report?' + qs({target, star_target: starTarget, date: day}));
    const r = data.report;
    const units = {};
    for (const u of data.units) units[u.code] = u;
    const node = unitParam && units[unitParam] ? unitParam : me.unit;
    const children = data.units.filter((u) => u.parent === node);
    const under = (code, top) => { for (let c = code; c; c = units[c] && units[c].parent) if (c === top) return true; return false; };
    const ideaStatuses = forms.idea ? forms.idea.statuses : [];
    const sum = (top) => {
      const s = {ideas_total: 0, ideas_received_this_week: 0, visits_this_week: 0, confirmations: 0, by: {}};
      for (const c of r.communes) {
        if (!under(c.code, top)) continue;
        s.ideas_total += c.ideas_total;
        s.ideas_received_this_week += c.ideas_received_this_week;
        s.visits_this_week += c.visits_this_week;
        s.confirmations += c.confirmations;
        for (const [k, v] of Object.entries(c.ideas_by_status)) s.by[k] = (s.by[k] || 0) + v;
      }
      return s;
    };
    const inNode = (c) => under(c.commune, node);
    const total = sum(node);
    const selected = total.by.selected || 0;
    const waiting = r.waiting.filter(inNode);
    const confirmations = r.confirmations.filter(inNode);
    const visits = r.visits_this_week.filter(inNode);
    const ranking = r.ranking.filter(inNode);
    const expiring = r.certificates_expiring.filter(inNode);
    const plans = r.plans_under_review.filter(inNode);
    const threePlus = ranking.filter((x) => x.stars >= 3).length;
    const stars = (n) => (n > 0 ? '★'.repeat(n) : t('không đủ điều kiện xếp hạng', 'cannot be ranked'));
    const levelName = {commune: t('xã (sơ bộ)', 'commune (pre-check)'), district: t('huyện', 'district'),
      province: t('tỉnh', 'province'), central: t('trung ương', 'central')};

    // The path from the user's unit down to the node shown.
    const crumbs = [];
    for (let c = node; c; c = units[c] && units[c].parent) {
      crumbs.unshift(c);
      if (c === me.unit) break;
    }
    const dayInput = h('input', {type: 'text', id: 'report-day', placeholder: 'dd/mm/yyyy', value: day, size: 10});
    const targetInput = h('input', {type: 'text', id: 'report-target', inputmode: 'numeric', value: target, size: 6});
    const starTargetInput = h('input', {type: 'text', id: 'report-star-target', inputmode: 'numeric', value: starTarget, size: 6});
    const progress = r.target > 0 ? Math.min(100, Math.round(100 * r.selected_total / r.target)) : null;
    mount(
      h('h1', {}, t('Tổng quan', 'Dashboard'), ': ', units[node] ? units[node].name : node),
      h('p', {class: 'muted', id: 'crumbs'}, crumbs.map((c, i) => [i ? ' › ' : '',
        c === node ? (units[c] ? units[c].name : c) : h('a', {href: '#/dash/' + c}, units[c] ? units[c].name : c)]),
      ' · ', t('tuần ', 'week '), O.date(r.week_start), ' – ', O.date(r.week_end)),
      h('form', {class: 'filters', onsubmit: (e) => {
        e.preventDefault();
        localStorage.setItem('ocop.target', targetInput.value.trim());
        localStorage.setItem('ocop.star_target', starTargetInput.value.trim());
        sessionStorage.setItem('ocop.day', dayInput.value.trim());
        route();
      }},
      h('label', {}, t('Ngày trong tuần', 'A day of the week'), dayInput),
      h('label', {}, t('Mục tiêu (sản phẩm được chọn)', 'Target (selected products)'), targetInput),
      h('label', {}, t('Mục tiêu sản phẩm 3 sao trở lên', 'Target (3-star-and-above products)'), starTargetInput),
      h('button', {type: 'submit', id: 'report-apply'}, t('Xem', 'Show')),
      h('a', {class: 'button', href: '/v1/report?' + qs({format: 'html', target, star_target: starTarget, date: day, lang: O.lang}), target: '_blank', id: 'report-html'},
        t('Báo cáo để in', 'Printable report')),
      h('a', {class: 'button', href: '/v1/report?' + qs({format: 'csv', target, date: day, bom: 1}), id: 'report-csv'}, 'CSV')),
      h('div', {class: 'grid', id: 'tiles'},
        stat(total.ideas_total, t('phiếu ý tưởng', 'idea forms'), 'tile-ideas'),
        stat(total.ideas_received_this_week, t('ý tưởng mới trong tuần', 'new ideas this week'), 'tile-new'),
        stat(waiting.length, t('trả lại, chờ nộp lại', 'returned, awaiting resubmission'), 'tile-waiting'),
        stat(total.confirmations, t('phiếu xác nhận', 'confirmations'), 'tile-confirmations'),
        stat(total.visits_this_week, t('lượt thăm trong tuần', 'visits this week'), 'tile-visits'),
        stat(node === me.unit && r.target > 0 ? `${selected} / ${r.target}` : selected, t('ý tưởng được chọn', 'ideas selected'), 'tile-selected'),
        stat(node === me.unit && r.star_target > 0 ? `${threePlus} / ${r.star_target}` : threePlus,
          t('sản phẩm 3 sao trở lên', 'products of 3 stars and above'), 'tile-three-stars'),
        stat(plans.length, t('phương án chờ thẩm định', 'plans under review'), 'tile-plans')),
      node === me.unit && progress !== null ? h('div', {class: 'card', id: 'target-progress'},
        t('Tiến độ so với mục tiêu: ', 'Progress against the target: '), `${progress} %`,
        h('div', {class: 'progress'}, h('div', {style: null, 'data-w': progress}))) : null,
      h('h2', {}, t('Phiếu ý tưởng theo trạng thái', 'Idea forms by status')),
      h('div', {class: 'scroll'}, h('table', {class: 'list', id: 'by-unit'},
        h('thead', {}, h('tr', {}, h('th', {}, t('Đơn vị', 'Unit')), h('th', {class: 'num'}, t('Tổng', 'Total')),
          ideaStatuses.map((s) => h('th', {class: 'num'}, statusLabel(s))),
          h('th', {class: 'num'}, t('Mới/tuần', 'New/week')), h('th', {class: 'num'}, t('Thăm/tuần', 'Visits/week')),
          h('th', {class: 'num'}, t('Xác nhận', 'Confirmations')))),
        h('tbody', {}, (children.length ? children : [units[node]]).filter(Boolean).map((u) => {
          const s = sum(u.code);
          const deeper = data.units.some((x) => x.parent === u.code);
          const go = () => { location.hash = deeper ? '#/dash/' + u.code : '#/records?unit=' + u.code; };
          return h('tr', {class: 'clickable', 'data-unit': u.code, tabindex: 0, onclick: go,
            onkeydown: (e) => { if (e.key === 'Enter') go(); }},
          h('td', {}, u.name, ' ', h('span', {class: 'muted'}, u.code), u.valid_to ? h('span', {class: 'badge'}, t('đã giải thể', 'closed')) : null),
          h('td', {class: 'num', 'data-k': 'ideas_total'}, s.ideas_total),
          ideaStatuses.map((st) => h('td', {class: 'num', 'data-k': st}, s.by[st] || 0)),
          h('td', {class: 'num', 'data-k': 'new'}, s.ideas_received_this_week),
          h('td', {class: 'num', 'data-k': 'visits'}, s.visits_this_week),
          h('td', {class: 'num', 'data-k': 'confirmations'}, s.confirmations));
        })))),
      h('h2', {}, t('Trả lại, chờ nộp lại', 'Returned, awaiting resubmission')),
      waiting.length ? h('div', {class: 'scroll'}, h('table', {class: 'list', id: 'waiting'},
        h('thead', {}, h('tr', {}, [t('Xã', 'Commune'), t('Sản phẩm', 'Product'), t('Ngày trả', 'Returned on'),
          t('Được nộp lại từ', 'May resubmit from'), t('Lý do', 'Reason')].map((x) => h('th', {}, x)))),
        h('tbody', {}, waiting.map((w) => h('tr', {class: 'clickable', onclick: () => { location.hash = '#/r/' + w.id; }},
          h('td', {}, units[w.commune] ? units[w.commune].name : w.commune), h('td', {}, w.product),
          h('td', {}, O.date(w.returned_on)), h('td', {}, O.date(w.resubmit_from)), h('td', {}, w.reason))))))
        : h('p', {class: 'muted'}, t('Không có.', 'None.')),
      h('h2', {}, t('Xác nhận lao động và nguyên liệu địa phương', 'Local labour and raw-material confirmations')),
      confirmations.length ? h('div', {class: 'scroll'}, h('table', {class: 'list', id: 'confirmations'},
        h('thead', {}, h('tr', {}, [t('Xã', 'Commune'), t('Sản phẩm', 'Product'), t('Trạng thái', 'Status'),
          t('Lao động địa phương', 'Local labour'), t('Nguyên liệu địa phương', 'Local raw materials'), t('Mức', 'Band'),
          t('Điểm', 'Points')].map((x) => h('th', {}, x)))),
        h('tbody', {}, confirmations.map((c) => h('tr', {class: 'clickable', onclick: () => { location.hash = '#/r/' + c.id; }},
          h('td', {}, units[c.commune] ? units[c.commune].name : c.commune), h('td', {}, c.product || c.id.slice(0, 8)),
          h('td', {}, statusLabel(c.status)), h('td', {class: 'num'}, O.pct(c.labour_ratio)),
          h('td', {class: 'num'}, O.pct(c.material_ratio)), h('td', {}, L(c.material_band)),
          h('td', {class: 'num'}, `${c.labour_points} + ${c.material_points}`,
            c.rankable ? null : h('div', {class: 'rule'}, t('không đủ điều kiện xếp hạng', 'cannot be ranked')))))))) : h('p', {class: 'muted'}, t('Không có.', 'None.')),
      h('h2', {}, t('Xếp hạng sao', 'Star ranking')),
      ranking.length ? h('div', {class: 'scroll'}, h('table', {class: 'list', id: 'ranking'},
        h('thead', {}, h('tr', {}, [t('Xã', 'Commune'), t('Sản phẩm', 'Product'), t('Hội đồng', 'Council'), t('Năm', 'Year'),
          t('Thành viên', 'Members'), t('Điểm bình quân', 'Mean score'), t('Hạng', 'Rank')].map((x) => h('th', {}, x)))),
        h('tbody', {}, ranking.map((x) => h('tr', {class: 'clickable', onclick: () => { location.hash = '#/r/' + x.idea_id; }},
          h('td', {}, units[x.commune] ? units[x.commune].name : x.commune), h('td', {}, x.product),
          h('td', {}, levelName[x.level] || x.level), h('td', {class: 'num'}, x.year), h('td', {class: 'num'}, x.members),
          h('td', {class: 'num'}, O.number(x.mean_total, 1)), h('td', {'data-stars': x.stars}, stars(x.stars)))))))
        : h('p', {class: 'muted'}, t('Chưa có sản phẩm nào được hội đồng chấm điểm.', 'No product has been scored by a council yet.')),
      h('h2', {}, t('Giấy chứng nhận hết hạn trong 6 tháng tới', 'Certificates expiring in the next 6 months')),
      h('p', {class: 'muted'}, t('Giấy chứng nhận còn hiệu lực: ', 'Valid certificates: '), r.certificates.filter(inNode).length),
      expiring.length ? h('div', {class: 'scroll'}, h('table', {class: 'list', id: 'expiring'},
        h('thead', {}, h('tr', {}, [t('Xã', 'Commune'), t('Sản phẩm', 'Product'), t('Hạng', 'Rank'), t('Số quyết định', 'Decision'),
          t('Hiệu lực đến', 'Valid until')].map((x) => h('th', {}, x)))),
        h('tbody', {}, expiring.map((c) => h('tr', {class: 'clickable', onclick: () => { location.hash = '#/r/' + c.id; }},
          h('td', {}, units[c.commune] ? units[c.commune].name : c.commune), h('td', {}, c.product), h('td', {}, stars(c.stars)),
          h('td', {}, `${c.decision_no} (${O.date(c.decided_on)})`), h('td', {}, O.date(c.valid_until)))))))
        : h('p', {class: 'muted'}, t('Không có.', 'None.')),
      h('h2', {}, t('Phương án sản xuất kinh doanh chờ thẩm định', 'Business plans under review')),
      plans.length ? h('div', {class: 'scroll'}, h('table', {class: 'list', id: 'plans'},
        h('thead', {}, h('tr', {}, [t('Xã', 'Commune'), t('Sản phẩm', 'Product'), t('Ngày nộp', 'Submitted'),
          t('Tổng vốn (đồng)', 'Capital (VND)')].map((x) => h('th', {}, x)))),
        h('tbody', {}, plans.map((p) => h('tr', {class: 'clickable', onclick: () => { location.hash = '#/r/' + p.id; }},
          h('td', {}, units[p.commune] ? units[p.commune].name : p.commune), h('td', {}, p.product),
          h('td', {}, O.date(p.submitted_on)), h('td', {class: 'num'}, p.capital_total_vnd === undefined ? '—' : O.number(p.capital_total_vnd, 0)))))))
        : h('p', {class: 'muted'}, t('Không có.', 'None.')),
      h('h2', {}, t('Thăm cơ sở trong tuần', 'Site visits this week')),
      visits.length ? h('div', {class: 'scroll'}, h('table', {class: 'list', id: 'visits'},
        h('thead', {}, h('tr', {}, [t('Ngày', 'Date'), t('Xã', 'Commune'), t('Cơ sở', 'Subject'), t('Mục đích', 'Purpose'),
          t('Toạ độ', 'Coordinates')].map((x) => h('th', {}, x)))),
        h('tbody', {}, visits.map((v) => {
          const purpose = forms.visit && forms.visit.fields.find((f) => f.key === 'purpose');
          return h('tr', {class: 'clickable', onclick: () => { location.hash = '#/r/' + v.id; }},
            h('td', {}, O.date(v.visited_on)), h('td', {}, units[v.commune] ? units[v.commune].name : v.commune),
            h('td', {}, v.subject), h('td', {}, purpose ? O.display(purpose, v.purpose) : v.purpose),
            h('td', {}, v.latitude && v.longitude ? `${v.latitude}, ${v.longitude}` : '—'));
        })))) : h('p', {class: 'muted'}, t('Không có.', 'None.')),
      h('p', {class: 'muted'}, t('Cùng số liệu với lệnh ocop report trên thiết bị đã đồng bộ.',
        'The same figures as ocop report on a device that has synced.')));
    // Widths through the DOM: the page's policy allows no inline style attribute.
    document.querySelectorAll('[data-w]').forEach((el) => { el.style.width = el.dataset.w + '%'; });
  }

  // ---- records ----
  function params() {
    const q = location.hash.split('?')[1] || '';
    return Object.fromEntries(new URLSearchParams(q));
  }
  async function records() {
    const p = params();
    const data = await api('GET', '/v1/records?' + qs({q: p.q, form: p.form, status: p.status, unit: p.unit,
      conflicts: p.conflicts === '1', limit: 300}));
    const units = (await api('GET', '/v1/scope')).units;
    const text = h('input', {type: 'search', id: 'search', value: p.q || '', placeholder: t('tìm (không cần dấu)', 'search (accents optional)')});
    const form = h('select', {id: 'filter-form'}, h('option', {value: ''}, t('Mọi loại phiếu', 'Every form')),
      Object.keys(forms).map((f) => h('option', {value: f, selected: p.form === f}, formLabel(f))));
    const status = h('select', {id: 'filter-status'}, h('option', {value: ''}, t('Mọi trạng thái', 'Any status')),
      Object.keys(statuses).map((s) => h('option', {value: s, selected: p.status === s}, statusLabel(s))));
    const unit = h('select', {id: 'filter-unit'}, h('option', {value: ''}, t('Cả phạm vi', 'Whole scope')),
      units.map((u) => h('option', {value: u.code, selected: p.unit === u.code}, `${u.name} (${u.code})`)));
    const conflicts = h('input', {type: 'checkbox', id: 'filter-conflicts', checked: p.conflicts === '1'});
    const bom = h('input', {type: 'checkbox', id: 'export-bom', checked: true});
    const apply = (e) => {
      if (e) e.preventDefault();
      location.hash = '#/records?' + qs({q: text.value.trim(), form: form.value, status: status.value, unit: unit.value,
        conflicts: conflicts.checked});
    };
    mount(h('h1', {}, t('Phiếu', 'Records')),
      h('form', {class: 'filters', onsubmit: apply},
        h('label', {}, t('Tìm', 'Search'), text), h('label', {}, t('Loại phiếu', 'Form'), form),
        h('label', {}, t('Trạng thái', 'Status'), status), h('label', {}, t('Đơn vị', 'Unit'), unit),
        h('label', {}, t('Chỉ phiếu xung đột', 'Conflicts only'), conflicts),
        h('button', {type: 'submit', class: 'primary', id: 'search-go'}, t('Lọc', 'Filter'))),
      h('p', {class: 'muted', id: 'found'}, t(`${data.total} phiếu`, `${data.total} records`),
        data.total > data.records.length ? t(` (hiện ${data.records.length} phiếu mới nhất)`, ` (showing the latest ${data.records.length})`) : ''),
      h('div', {class: 'scroll'}, h('table', {class: 'list stack', id: 'records'},
        h('thead', {}, h('tr', {}, [t('Loại', 'Form'), t('Tên', 'Name'), t('Đơn vị', 'Unit'), t('Trạng thái', 'Status'),
          t('Cập nhật', 'Updated')].map((x) => h('th', {}, x)))),
        h('tbody', {}, data.records.map((r) => {
          const go = () => { location.hash = '#/r/' + r.id; };
          return h('tr', {class: 'clickable', tabindex: 0, 'data-id': r.id, onclick: go, onkeydown: (e) => { if (e.key === 'Enter') go(); }},
            h('td', {}, formLabel(r.form)), h('td', {}, titleOf(r), r.conflict ? [' ', h('span', {class: 'badge conflict'}, t('xung đột', 'conflict'))] : null),
            h('td', {}, r.unit_name), h('td', {}, statusLabel(r.fields.status)), h('td', {}, O.date(r.updated_at, true)));
        })))),
      h('div', {class: 'card'}, h('h2', {}, t('Xuất bảng tính', 'Export a spreadsheet')),
        h('div', {class: 'actions'},
          Object.keys(forms).map((f) => h('a', {class: 'button', id: 'export-' + f,
            href: `/v1/export/${f}.xlsx?` + qs({unit: p.unit, lang: O.lang}),
            onclick: (e) => { e.currentTarget.href = `/v1/export/${f}.xlsx?` + qs({unit: p.unit, lang: O.lang}); }}, formLabel(f) + ' (Excel)')),
          Object.keys(forms).map((f) => h('a', {class: 'button', id: 'export-csv-' + f,
            href: `/v1/export/${f}.csv?` + qs({unit: p.unit, bom: 1, lang: O.lang}),
            onclick: (e) => { e.currentTarget.href = `/v1/export/${f}.csv?` + qs({unit: p.unit, bom: bom.checked, lang: O.lang}); }}, formLabel(f) + ' (CSV)')),
          h('label', {}, bom, ' ', t('Thêm BOM cho Excel (CSV)', 'Add a BOM for Excel (CSV)'))),
        h('p', {class: 'muted'}, t('Mỗi tệp gồm mọi phiếu của loại đó trong đơn vị đang lọc.', 'Each file holds every record of that form in the unit filtered.'))),
      importCard());
    if (!text.value) text.focus();
  }

  // Records from a spreadsheet: checked first (every bad row with its line),
  // then stored only when every row is good, or with the bad ones left out.
  function importCard() {
    const form = h('select', {id: 'import-form'}, Object.keys(forms).map((f) => h('option', {value: f}, formLabel(f))));
    const file = h('input', {type: 'file', id: 'import-file', accept: '.csv,.xlsx,text/csv'});
    const skip = h('input', {type: 'checkbox', id: 'import-skip-bad'});
    const out = h('div', {id: 'import-result', 'aria-live': 'polite'});
    const summary = (apply, d) => {
      const bad = d.rows - d.good;
      const advice = bad ? ' ' + t('Sửa tệp, hoặc chọn bỏ qua dòng lỗi rồi nhập.', 'Correct the file, or choose to leave bad rows out and import.') : '';
      if (!apply) return t(`${d.rows} dòng: ${d.good} dòng đúng, ${bad} dòng lỗi.`, `${d.rows} rows: ${d.good} good, ${bad} bad.`) + advice;
      if (!d.stored) return t(`Chưa nhập gì: ${bad} dòng lỗi.`, `Nothing imported: ${bad} bad rows.`) + advice;
      return t(`Đã nhập ${d.stored} phiếu`, `Imported ${d.stored} records`) + (bad ? t(`; bỏ qua ${bad} dòng lỗi.`, `; ${bad} bad rows left out.`) : '.');
    };
    const run = async (apply) => {
      if (!file.files[0]) { toast(t('Hãy chọn tệp .xlsx hoặc .csv.', 'Choose an .xlsx or .csv file.'), true); return; }
      try {
        const d = await api('POST', `/v1/import/${form.value}?` + qs({dry_run: apply ? '' : 1, skip_bad: skip.checked ? 1 : ''}), file.files[0]);
        const bad = d.problems.length;
        out.replaceChildren(h('div', {},
          h('p', {id: 'import-summary'}, summary(apply, d)),
          d.ignored_columns.length ? h('p', {class: 'muted'}, t('Bỏ qua các cột do hệ thống ghi: ', 'Columns the system sets, left out: ') + d.ignored_columns.join(', ')) : null,
          bad ? h('div', {class: 'scroll'}, h('table', {class: 'list', id: 'import-problems'},
            h('thead', {}, h('tr', {}, h('th', {}, t('Dòng', 'Line')), h('th', {}, t('Lỗi', 'Problem')))),
            h('tbody', {}, d.problems.map((p) => h('tr', {}, h('td', {}, String(p.line)), h('td', {}, O.lang === 'en' ? p.message_en : p.message_vi)))))) : null));
        if (apply && d.stored) {
          toast(t(`Đã nhập ${d.stored} phiếu`, `Imported ${d.stored} records`));
          // The list above shows them: at once when nothing was left out, on
          // request when the rows left out are still to be read here.
          if (!bad) { route(); return; }
          out.firstChild.appendChild(h('button', {id: 'import-show', onclick: () => route()}, t('Xem danh sách đã cập nhật', 'Show the updated list')));
        }
      } catch (x) { out.replaceChildren(h('div', {class: 'error', id: 'import-err'}, O.msg(x.message))); }
    };
    return h('div', {class: 'card', id: 'import'}, h('h2', {}, t('Nhập từ bảng tính', 'Import from a spreadsheet')),
      h('p', {class: 'muted'}, t('Tiêu đề cột là nhãn trường (như tệp xuất) và cột «Đơn vị» ghi xã của mỗi dòng. Kiểm tra trước; chỉ nhập khi mọi dòng đúng.',
        'Column headers are field labels (as exports write them) and a «Unit» column names each row\'s commune. Check first; rows are imported only when all are good.')),
      h('div', {class: 'field'}, h('label', {for: 'import-form'}, t('Loại phiếu', 'Form')), form),
      h('div', {class: 'field'}, h('label', {for: 'import-file'}, t('Tệp', 'File')), file),
      h('label', {}, skip, ' ', t('Bỏ qua dòng lỗi, nhập các dòng đúng', 'Leave bad rows out, import the good ones')),
      h('div', {class: 'actions'}, h('button', {id: 'import-check', onclick: () => run(false)}, t('Kiểm tra', 'Check')),
        h('button', {class: 'primary', id: 'import-apply', onclick: () => run(true)}, t('Nhập', 'Import'))),
      out);
  }

  async function record(id) {
    const r = await api('GET', '/v1/records/' + encodeURIComponent(id));
    const schema = O.schemaOf(forms, r);
    const photos = r.fields.photos || [];
    mount(h('h1', {}, formLabel(r.form), ': ', titleOf(r)),
      h('p', {class: 'muted'}, h('span', {class: 'badge', id: 'status'}, statusLabel(r.fields.status)), ' ',
        r.unit_name, ' (', r.unit, ') · ', t('phiên bản ', 'version '), r.version, ' · ',
        t('cập nhật ', 'updated '), O.date(r.updated_at, true), ' ', t('bởi ', 'by '), r.updated_by,
        r.conflict ? [' ', h('span', {class: 'badge conflict', id: 'conflict-mark'}, t('xung đột — chờ quản trị viên', 'conflict — awaiting an administrator'))] : null),
      r.open_conflicts.length ? h('div', {class: 'card', id: 'record-conflicts'},
        h('h2', {}, t('Trường đang xung đột', 'Fields in conflict')),
        h('ul', {}, r.open_conflicts.map((c) => h('li', {}, h('b', {}, fieldName(schema, c.field)), ': ',
          shownValue(schema, c.field, c.current), ' ↔ ', shownValue(schema, c.field, c.incoming)))),
        isAdmin() ? h('a', {class: 'button primary', href: '#/conflict/' + r.id, id: 'resolve-link'}, t('Giải quyết', 'Resolve')) : null) : null,
      h('div', {class: 'card'}, schema ? O.recordView(schema, r.fields) : h('pre', {}, JSON.stringify(r.fields, null, 2))),
      photos.length ? h('div', {class: 'card'}, h('h2', {}, t('Ảnh', 'Photos')), h('div', {class: 'thumbs'},
        photos.map((p) => h('figure', {}, h('a', {href: '/v1/files/' + p.sha256, target: '_blank'},
          h('img', {src: '/v1/files/' + p.sha256, alt: p.caption || p.name || p.sha256.slice(0, 8)})),
        h('figcaption', {}, p.caption || p.name || ''))))) : null,
      h('h2', {}, t('Lịch sử', 'History')),
      historyTable(schema, r.history));
  }
  function fieldName(schema, key) {
    if (key === '_deleted') return t('Xoá phiếu', 'Deletion');
    if (key === 'status') return t('Trạng thái', 'Status');
    const f = schema && schema.fields.find((x) => x.key === key);
    return f ? L(f.label) : key;
  }
  function historyTable(schema, rows) {
    return h('div', {class: 'scroll'}, h('table', {class: 'list stack', id: 'history'},
      h('thead', {}, h('tr', {}, [t('Lúc', 'When'), t('Ai', 'Who'), t('Thiết bị', 'Device'), t('Trường', 'Field'),
        t('Cũ', 'Old'), t('Mới', 'New')].map((x) => h('th', {}, x)))),
      h('tbody', {}, rows.slice().reverse().map((e) => h('tr', {},
        h('td', {}, O.date(e.at, true)), h('td', {}, e.author), h('td', {}, deviceName(e.device)),
        h('td', {}, fieldName(schema, e.field), e.kind && e.kind !== 'apply' ? [' ', h('span', {class: 'badge'}, O.changeKind(e.kind))] : null),
        h('td', {}, shownValue(schema, e.field, e.old)), h('td', {}, shownValue(schema, e.field, e.new)))))));
  }

  // ---- conflicts (administrators) ----
  async function conflicts() {
    const data = await api('GET', '/v1/conflicts');
    const byRecord = new Map();
    for (const c of data.conflicts) {
      if (!byRecord.has(c.record_id)) byRecord.set(c.record_id, []);
      byRecord.get(c.record_id).push(c);
    }
    mount(h('h1', {}, t('Xung đột chờ giải quyết', 'Conflicts awaiting a decision')),
      byRecord.size ? h('div', {class: 'scroll'}, h('table', {class: 'list', id: 'conflict-queue'},
        h('thead', {}, h('tr', {}, [t('Phiếu', 'Record'), t('Đơn vị', 'Unit'), t('Trường', 'Fields'), t('Bên gửi sau', 'Incoming from'),
          t('Từ lúc', 'Since')].map((x) => h('th', {}, x)))),
        h('tbody', {}, [...byRecord.entries()].map(([id, rows]) => h('tr', {class: 'clickable', 'data-id': id, tabindex: 0,
          onclick: () => { location.hash = '#/conflict/' + id; }, onkeydown: (e) => { if (e.key === 'Enter') location.hash = '#/conflict/' + id; }},
        h('td', {}, rows[0].record ? [formLabel(rows[0].record.form), ': ', O.lang === 'en' ? rows[0].record.title_en : rows[0].record.title] : id.slice(0, 8)),
        h('td', {}, rows[0].record ? rows[0].record.unit_name : ''),
        h('td', {}, rows.map((c) => fieldName(rows[0].record ? forms[rows[0].record.form] : null, c.field)).join(', ')),
        h('td', {}, [...new Set(rows.map((c) => c.incoming_by.author))].join(', ')),
        h('td', {}, O.date(rows[0].created_at, true)))))))
        : h('p', {class: 'card', id: 'no-conflicts'}, t('Không có xung đột nào.', 'No conflicts.')));
  }

  // A typed value as the field stores it: the server checks it again.
  function typedValue(f, text) {
    const v = text.trim();
    if (!f) return v;
    if (f.type === 'integer') { const n = Number(v.replace(/[.\s_]/g, '')); return Number.isNaN(n) ? v : n; }
    if (f.type === 'number') { const n = Number(v.replace(',', '.')); return Number.isNaN(n) ? v : n; }
    if (f.type === 'bool') return /^(có|co|yes|true|1)$/i.test(v);
    if (f.type === 'date') { const m = /^(\d{1,2})\/(\d{1,2})\/(\d{4})$/.exec(v); return m ? `${m[3]}-${m[2].padStart(2, '0')}-${m[1].padStart(2, '0')}` : v; }
    return v;
  }

  async function conflict(id) {
    const c = await api('GET', '/v1/conflicts/' + encodeURIComponent(id));
    const detail = await api('GET', '/v1/records/' + encodeURIComponent(id));
    const schema = forms[c.form];
    // When each side was made: from the audit trail, by change id.
    const when = {};
    for (const e of detail.history) when[e.change_id] = e.at;
    const side = (value, by, field) => h('div', {class: 'card'},
      h('div', {class: 'value'}, shownValue(schema, field, value)),
      h('div', {class: 'muted'}, by.author || '?', ' · ', t('thiết bị ', 'device '), deviceName(by.device),
        when[by.change_id] ? [' · ', O.date(when[by.change_id], true)] : null));
    const choices = {};
    const rows = c.conflicts.map((x) => {
      const f = schema && schema.fields.find((y) => y.key === x.field);
      const name = 'take-' + x.field;
      const typed = h('input', {type: 'text', id: 'value-' + x.field, 'aria-label': t('Giá trị khác', 'Another value'),
        disabled: true, value: (() => { try { const v = JSON.parse(x.current); return f && v !== null ? (f.type === 'date' ? O.date(v) : String(v)) : ''; } catch (e) { return ''; } })()});
      const radio = (take, label) => h('label', {}, h('input', {type: 'radio', name, value: take, id: `${name}-${take}`,
        onchange: () => { typed.disabled = take !== 'value'; if (take === 'value') typed.focus(); }}), ' ', label);
      choices[x.field] = {f, typed, name};
      const canType = f && f.type !== 'list' && x.field !== '_deleted';
      return h('div', {class: 'card conflict-field', 'data-field': x.field},
        h('h2', {}, fieldName(schema, x.field)),
        h('div', {class: 'side'},
          h('div', {}, h('div', {class: 'l muted'}, t('Gốc (trước khi hai bên sửa)', 'Base (before both edits)')),
            h('div', {class: 'card'}, shownValue(schema, x.field, x.base))),
          h('div', {}, h('div', {class: 'l muted'}, t('Hiện tại trên máy chủ', 'Current on the server')), side(x.current, x.current_by, x.field)),
          h('div', {}, h('div', {class: 'l muted'}, t('Bên gửi đến', 'Incoming')), side(x.incoming, x.incoming_by, x.field))),
        h('div', {class: 'actions', role: 'radiogroup'}, radio('current', t('Giữ hiện tại', 'Keep current')),
          radio('incoming', t('Lấy bên gửi đến', 'Take incoming')),
          canType ? [radio('value', t('Nhập giá trị khác:', 'Type another value:')), typed] : null),
        h('div', {class: 'error', id: 'err-' + x.field}));
    });
    const err = h('div', {class: 'error', id: 'resolve-err', 'aria-live': 'polite'});
    mount(h('h1', {}, t('Giải quyết xung đột: ', 'Resolve a conflict: '), formLabel(c.form), ' — ', titleOf(detail)),
      h('p', {class: 'muted'}, t('Chọn cho từng trường. Kết quả là một thay đổi mới, có ghi lịch sử, và được gửi tới mọi thiết bị khi đồng bộ.',
        'Decide each field. The result is a new, audited change that every device receives when it syncs.')),
      rows, err,
      h('div', {class: 'actions'}, h('button', {class: 'primary', id: 'resolve-submit', onclick: async () => {
        err.textContent = '';
        document.querySelectorAll('.conflict-field .error').forEach((e) => { e.textContent = ''; });
        const decisions = [];
        for (const [field, ch] of Object.entries(choices)) {
          const picked = document.querySelector(`input[name="${CSS.escape(ch.name)}"]:checked`);
          if (!picked) {
            document.getElementById('err-' + field).textContent = t('Hãy chọn một bên.', 'Choose one side.');
            err.textContent = t('Còn trường chưa chọn.', 'Some fields are not decided.');
            return;
          }
          const d = {field, take: picked.value};
          if (picked.value === 'value') d.value = typedValue(ch.f, ch.typed.value);
          decisions.push(d);
        }
        try {
          await api('POST', `/v1/conflicts/${encodeURIComponent(id)}/resolve`, {decisions});
          toast(t('Đã giải quyết. Các thiết bị nhận kết quả ở lần đồng bộ tới.', 'Resolved. Devices receive it at their next sync.'));
          location.hash = '#/r/' + id;
        } catch (x) {
          const box = x.field && document.getElementById('err-' + x.field);
          if (box) box.textContent = O.msg(x.message, schema);
          err.textContent = O.msg(x.message, schema);
        }
      }}, t('Lưu quyết định', 'Save the decision')),
      h('a', {class: 'button', href: '#/r/' + id}, t('Xem phiếu', 'View the record'))));
  }

  // ---- accounts (administrators) ----
  async function users() {
    const data = await api('GET', '/v1/users');
    const scope = (await api('GET', '/v1/scope')).units;
    const unitOptions = (sel) => scope.map((u) => h('option', {value: u.code, selected: u.code === sel}, `${u.name} (${u.code})`));
    const roleOptions = (sel) => ['officer', 'coordinator', 'admin'].map((r) => h('option', {value: r, selected: r === sel}, roleLabel(r)));
    const patch = async (name, body, done) => {
      try {
        await api('PATCH', '/v1/users/' + encodeURIComponent(name), body);
        toast(done);
        route();
      } catch (x) { fail(x); }
    };
    const nu = {name: h('input', {type: 'text', id: 'new-name', autocomplete: 'off'}),
      role: h('select', {id: 'new-role'}, roleOptions('officer')),
      unit: h('select', {id: 'new-unit'}, unitOptions('')),
      password: h('input', {type: 'password', id: 'new-password', autocomplete: 'new-password'})};
    const err = h('div', {class: 'error', id: 'new-err', 'aria-live': 'polite'});
    // One message under each field that is wrong, all at once.
    const fieldErr = {};
    for (const k of Object.keys(nu)) fieldErr[k] = h('div', {class: 'error', id: 'new-err-' + k});
    mount(h('h1', {}, t('Tài khoản', 'Accounts')),
      h('div', {class: 'scroll'}, h('table', {class: 'list stack', id: 'users'},
        h('thead', {}, h('tr', {}, [t('Tên', 'Name'), t('Vai trò', 'Role'), t('Đơn vị', 'Unit'), t('Trạng thái', 'State'),
          t('Việc', 'Actions')].map((x) => h('th', {}, x)))),
        h('tbody', {}, data.users.map((u) => {
          const role = h('select', {'aria-label': t('Vai trò', 'Role'), class: 'edit-role'}, roleOptions(u.role));
          const unit = h('select', {'aria-label': t('Đơn vị', 'Unit'), class: 'edit-unit'}, unitOptions(u.unit));
          const pw = h('input', {type: 'password', class: 'reset-password', placeholder: t('mật khẩu mới', 'new password'), autocomplete: 'new-password'});
          return h('tr', {'data-user': u.name},
            h('td', {}, u.name), h('td', {}, role), h('td', {}, unit),
            h('td', {}, u.disabled ? h('span', {class: 'badge conflict'}, t('đã khoá', 'disabled')) : h('span', {class: 'badge ok'}, t('đang dùng', 'active'))),
            h('td', {}, h('div', {class: 'actions'},
              h('button', {class: 'save-role', onclick: () => patch(u.name, {role: role.value, unit: unit.value}, t('Đã đổi vai trò/đơn vị', 'Role/unit changed'))}, t('Lưu vai trò, đơn vị', 'Save role, unit')),
              h('button', {class: u.disabled ? 'enable' : 'danger disable', onclick: () => patch(u.name, {disabled: !u.disabled},
                u.disabled ? t('Đã mở khoá', 'Enabled') : t('Đã khoá', 'Disabled'))}, u.disabled ? t('Mở khoá', 'Enable') : t('Khoá', 'Disable')),
              pw, h('button', {class: 'reset', onclick: () => patch(u.name, {password: pw.value}, t('Đã đặt lại mật khẩu', 'Password reset'))},
                t('Đặt lại mật khẩu', 'Reset password')))));
        })))),
      h('form', {class: 'card', id: 'new-user', onsubmit: async (e) => {
        e.preventDefault();
        err.textContent = '';
        for (const k of Object.keys(fieldErr)) { fieldErr[k].textContent = ''; nu[k].removeAttribute('aria-invalid'); }
        try {
          await api('POST', '/v1/users', {name: nu.name.value.trim(), role: nu.role.value, unit: nu.unit.value, password: nu.password.value});
          toast(t('Đã tạo tài khoản ', 'Account created: ') + nu.name.value.trim());
          route();
        } catch (x) {
          const each = (x.errors || []).filter((p) => fieldErr[p.field]);
          if (!each.length) { err.textContent = O.msg(x.message); return; }
          for (const p of each) { fieldErr[p.field].textContent = O.msg(p.message); nu[p.field].setAttribute('aria-invalid', 'true'); }
          nu[each[0].field].focus();
        }
      }},
      h('h2', {}, t('Tạo tài khoản', 'Create an account')),
      h('div', {class: 'field'}, h('label', {for: 'new-name'}, t('Tên đăng nhập', 'User name')), nu.name,
        h('div', {class: 'help'}, t('chữ không dấu, số, dấu . _ -', 'letters, digits, . _ -')), fieldErr.name),
      h('div', {class: 'field'}, h('label', {for: 'new-role'}, t('Vai trò', 'Role')), nu.role, fieldErr.role),
      h('div', {class: 'field'}, h('label', {for: 'new-unit'}, t('Đơn vị', 'Unit')), nu.unit,
        h('div', {class: 'help'}, t('cán bộ xã: một xã; cán bộ điều phối: huyện hoặc tỉnh', 'officer: a commune; coordinator: a district or province')), fieldErr.unit),
      h('div', {class: 'field'}, h('label', {for: 'new-password'}, t('Mật khẩu (ít nhất 8 ký tự)', 'Password (at least 8 characters)')), nu.password, fieldErr.password),
      err, h('button', {class: 'primary', type: 'submit', id: 'new-submit'}, t('Tạo', 'Create'))));
  }

  // ---- unit list (administrators) ----
  async function unitsPage() {
    const file = h('input', {type: 'file', id: 'units-file', accept: '.csv,text/csv'});
    const out = h('div', {id: 'units-diff'});
    let text = '';
    const run = async (apply) => {
      if (!text && file.files[0]) text = await file.files[0].text();
      if (!text) { toast(t('Hãy chọn tệp CSV danh mục đơn vị.', 'Choose the unit list CSV file.'), true); return; }
      try {
        const blob = new Blob([text], {type: 'text/csv'});
        const d = await api('POST', '/v1/units/import' + (apply ? '?apply=1' : ''), blob);
        showDiff(d);
        if (apply) toast(t('Đã cập nhật danh mục đơn vị.', 'The unit list is updated.'));
      } catch (x) { out.replaceChildren(h('div', {class: 'card error', id: 'units-err'}, O.msg(x.message))); }
    };
    const unitRows = (list, extra) => h('table', {class: 'list'}, h('tbody', {}, list.map((u) =>
      h('tr', {}, h('td', {}, u.code), h('td', {}, u.name), h('td', {}, extra ? extra(u) : levelLabel(u.level))))));
    function showDiff(d) {
      const names = d.names || {};
      out.replaceChildren(h('div', {},
        h('div', {class: 'grid'}, stat(d.added.length, t('mã mới', 'new codes'), 'diff-added'),
          stat(d.closed.length, t('mã đóng (không còn hoặc sáp nhập)', 'codes closed (gone or merged)'), 'diff-closed'),
          stat(d.renamed.length, t('đổi tên', 'renamed'), 'diff-renamed'), stat(d.moved.length, t('chuyển đơn vị cấp trên', 'moved'), 'diff-moved'),
          stat(d.unchanged, t('không đổi', 'unchanged'), 'diff-unchanged')),
        d.added.length ? [h('h2', {}, t('Mã mới', 'New codes')), unitRows(d.added)] : null,
        d.closed.length ? [h('h2', {}, t('Mã đóng — giữ lại, ghi ngày đóng; hồ sơ vẫn tra được', 'Codes closed — kept, with a closing date; their records still resolve')),
          unitRows(d.closed, (u) => t('đóng từ ', 'closed from ') + O.date(u.valid_to) +
            (u.succeeded_by ? t(', sáp nhập vào ', ', merged into ') + (names[u.succeeded_by] || u.succeeded_by) +
              t(' (đơn vị mới xem và sửa hồ sơ của mã này)', ' (the new unit sees and edits this code\'s records)') : ''))] : null,
        d.renamed.length ? [h('h2', {}, t('Đổi tên', 'Renamed')), h('table', {class: 'list'}, h('tbody', {}, d.renamed.map((p) =>
          h('tr', {}, h('td', {}, p.before.code), h('td', {}, p.before.name), h('td', {}, '→ ', p.after.name)))))] : null,
        d.moved.length ? [h('h2', {}, t('Chuyển sang đơn vị cấp trên khác — hồ sơ chuyển theo', 'Moved to another parent — records follow')),
          h('table', {class: 'list'}, h('tbody', {}, d.moved.map((p) => h('tr', {}, h('td', {}, p.before.code), h('td', {}, p.before.name),
            h('td', {}, names[p.before.parent] || p.before.parent, ' → ', names[p.after.parent] || p.after.parent)))))] : null,
        d.applied ? h('p', {class: 'badge ok', id: 'units-applied'}, t('Đã áp dụng', 'Applied'))
          : h('div', {class: 'actions'}, h('button', {class: 'primary', id: 'units-apply', onclick: () => run(true)},
            t('Áp dụng các thay đổi này', 'Apply these changes')))));
    }
    file.addEventListener('change', () => { text = ''; out.replaceChildren(); });
    mount(h('h1', {}, t('Danh mục đơn vị hành chính', 'Administrative units')),
      h('div', {class: 'card'},
        h('p', {}, t('Nhập danh mục của Tổng cục Thống kê (tệp CSV xuất từ danhmuchanhchinh.gso.gov.vn) hoặc danh mục theo mẫu của hệ thống. Xem trước rồi mới áp dụng; mã đã dùng không bao giờ bị xoá.',
          'Import the statistics office\'s list (CSV exported from danhmuchanhchinh.gso.gov.vn) or the system\'s own layout. Preview first, then apply; a code once used is never deleted.')),
        h('div', {class: 'actions'}, file, h('button', {id: 'units-preview', onclick: () => run(false)}, t('Xem trước', 'Preview')),
          h('a', {class: 'button', href: '/v1/units', id: 'units-download'}, t('Tải danh mục hiện tại', 'Download the current list')))),
      out);
  }

  // ---- form versions (administrators) ----
  // A new version of a form is checked against the versions in force (no
  // key may change its type), its differences shown, and then published:
  // new records use it, devices take it at their next sync.
  async function formsPage() {
    await loadForms();
    const file = h('input', {type: 'file', id: 'forms-file', accept: '.json,application/json'});
    const out = h('div', {id: 'forms-diff'});
    let text = '';
    const run = async (apply) => {
      if (!text && file.files[0]) text = await file.files[0].text();
      if (!text) { toast(t('Hãy chọn tệp mẫu phiếu (.json).', 'Choose the form file (.json).'), true); return; }
      try {
        const d = await api('POST', '/v1/definitions/publish' + (apply ? '?apply=1' : ''), new Blob([text], {type: 'application/json'}));
        showDiff(d);
        if (apply) { toast(t('Đã công bố.', 'Published.')); await loadForms(); list.replaceChildren(...rows()); }
      } catch (x) { out.replaceChildren(h('div', {class: 'card error', id: 'forms-err'}, O.msg(x.message))); }
    };
    const what = {label: t('nhãn', 'label'), help: t('hướng dẫn', 'help'), required: t('bắt buộc', 'required'),
      choices: t('các lựa chọn', 'choices'), limits: t('giới hạn giá trị', 'limits'), items: t('các cột của danh sách', 'list columns')};
    const kinds = {added: t('Trường mới', 'New field'), removed: t('Bỏ khỏi phiếu mới — phiếu đã ghi vẫn giữ và xem được', 'Left out of new records — records already written keep it'),
      changed: t('Thay đổi', 'Changed')};
    function showDiff(d) {
      const label = L({vi: d.label_vi, en: d.label_en}) || d.name;
      const heading = d.kind === 'criteria'
        ? [t('Bộ tiêu chí mới: ', 'New criteria sheet: '), h('b', {}, label), ` (${d.name})`,
          d.replaces ? t(` — hội đồng dùng thay cho bộ ${d.replaces} từ nay; phiếu đã chấm giữ nguyên`, ` — councils use it instead of ${d.replaces} from now on; sheets already scored keep theirs`) : '']
        : d.kind === 'catalogue' ? [t('Bản sửa lời nhắn và tên gọi: phiên bản ', 'Corrections to messages and names: version '), h('b', {}, d.version)]
          : [label, ': ', t('phiên bản ', 'version '), d.previous_version, ' → ', h('b', {}, d.version)];
      out.replaceChildren(h('div', {class: 'card', id: 'forms-check'},
        h('h2', {}, ...heading),
        h('p', {}, h('span', {class: 'badge ok'}, t('Tương thích', 'Compatible')), ' ',
          t('phiếu đã ghi theo các phiên bản trước vẫn đọc và sửa được.', 'records written with earlier versions still read and edit.')),
        d.kind !== 'form' ? null : d.differences.length ? h('table', {class: 'list stack', id: 'forms-differences'}, h('tbody', {}, d.differences.map((x) =>
          h('tr', {class: 'diff-' + x.kind}, h('td', {}, kinds[x.kind]), h('td', {}, L({vi: x.label_vi, en: x.label_en})),
            h('td', {}, x.what.map((w) => what[w] || w).join(', '))))))
          : h('p', {}, t('Không thay đổi trường nào.', 'No field changes.')),
        d.published ? h('p', {id: 'forms-published'}, h('span', {class: 'badge ok'}, t('Đã công bố', 'Published')), ' ',
          t('thiết bị nhận mẫu mới ở lần đồng bộ tới.', 'devices take it at their next sync.'))
          : h('div', {class: 'actions'}, h('button', {class: 'primary', id: 'forms-apply', onclick: () => run(true)},
            t('Công bố phiên bản này', 'Publish this version')))));
    }
    const rows = () => Object.values(forms).map((s) => h('tr', {},
      h('td', {}, L(s.label)), h('td', {class: 'num'}, s.version),
      h('td', {}, h('a', {href: URL.createObjectURL(new Blob([JSON.stringify(s, null, 2)], {type: 'application/json'})),
        download: `${s.form}.v${s.version}.json`}, t('Tải tệp mẫu', 'Download')))));
    const list = h('tbody', {}, rows());
    file.addEventListener('change', () => { text = ''; out.replaceChildren(); });
    mount(h('h1', {}, t('Mẫu phiếu và bộ tiêu chí', 'Forms and criteria sheets')),
      h('div', {class: 'card'},
        h('p', {}, t('Sửa một mẫu phiếu (tải tệp mẫu hiện tại, sửa, tăng số phiên bản) rồi tải lên. Hệ thống kiểm tra: không đổi kiểu của trường đã có; trường bỏ đi vẫn đọc được trên phiếu cũ. Bộ tiêu chí sửa lại được công bố với mã mới (ghi "replaces": mã bộ cũ). Xem trước rồi mới công bố; thiết bị nhận ở lần đồng bộ tới.',
          'Change a form (download the current file, edit it, raise its version) and upload it. It is checked: no existing field changes its type; fields left out stay readable on old records. A corrected criteria sheet is published under a new id (with "replaces": the old id). Preview first, then publish; devices take it at their next sync.')),
        h('div', {class: 'actions'}, file, h('button', {id: 'forms-preview', onclick: () => run(false)}, t('Kiểm tra và xem trước', 'Check and preview')))),
      out,
      h('div', {class: 'card'}, h('h2', {}, t('Các mẫu phiếu đang dùng', 'Forms in force')),
        h('table', {class: 'list'}, h('thead', {}, h('tr', {}, h('th', {}, t('Mẫu phiếu', 'Form')), h('th', {class: 'num'}, t('Phiên bản', 'Version')), h('th', {}, ''))), list)));
  }

  // ---- carried files: a commune's changes brought on a USB stick ----
  async function carriedPage() {
    const file = h('input', {type: 'file', id: 'carried-file', accept: '.ocop,application/octet-stream'});
    const out = h('div', {id: 'carried-result'});
    const send = async () => {
      if (!file.files[0]) { toast(t('Hãy chọn tệp .ocop.', 'Choose the .ocop file.'), true); return; }
      const bytes = await file.files[0].arrayBuffer();
      try {
        const r = await api('POST', '/v1/carried', new Blob([bytes], {type: 'application/octet-stream'}));
        const count = (k) => r.change_sets.reduce((n, c) => n + ((c.outcomes || {})[k] || 0), 0);
        const refused = r.change_sets.filter((c) => c.refused);
        out.replaceChildren(h('div', {class: 'card', id: 'carried-done'},
          h('p', {}, t('Tệp của ', 'The file of '), h('b', {}, r.user), ` (${r.unit}): `,
            t(`${count('applied')} thay đổi áp dụng, ${count('merged')} gộp, ${count('conflict')} xung đột; ${r.photos_stored} ảnh.`,
              `${count('applied')} changes applied, ${count('merged')} merged, ${count('conflict')} in conflict; ${r.photos_stored} photos.`)),
          refused.length ? h('ul', {class: 'error'}, refused.map((c) => h('li', {}, O.msg(O.pick(c, 'refused'))))) : null,
          h('p', {class: 'muted'}, t('Gửi nhiều lần cũng chỉ áp dụng một lần; thiết bị của xã nhận trả lời khi đồng bộ hoặc qua tệp trả về.',
            'Sending it again applies nothing twice; the commune device gets the answers when it syncs, or by a return file.'))));
      } catch (x) { out.replaceChildren(h('div', {class: 'card error', id: 'carried-err'}, O.msg(x.message))); }
    };
    mount(h('h1', {}, t('Nhận tệp thay đổi của xã', 'A commune\'s carried file')),
      h('div', {class: 'card'},
        h('p', {}, t('Tệp do thiết bị của xã ghi khi không có mạng (ocop outbox export). Máy chủ kiểm tra chữ ký của thiết bị và áp dụng các thay đổi như khi đồng bộ.',
          'A file a commune device wrote with no link (ocop outbox export). The server checks the device\'s signature and applies the changes as a sync would.')),
        h('div', {class: 'actions'}, file, h('button', {class: 'primary', id: 'carried-send', onclick: send}, t('Gửi lên máy chủ', 'Send to the server')))),
      out);
  }

  // ---- routing ----
  const page = (fn) => async (...a) => {
    if (!me) return loginPage();
    try {
      await fn(...a);
    } catch (e) {
      if (e.status !== 401) throw e;
      me = null;  // the session ended (expired, logged out elsewhere, account disabled)
      nav();
      loginPage();
    }
  };
  // The administrator's pages say so at once to others; the server refuses
  // their calls anyway (403), whatever a page does.
  const adminPage = (fn) => page(async (...a) => {
    if (!isAdmin()) {
      const e = new Error(t('Trang này chỉ dành cho quản trị viên.', 'This page is for administrators only.'));
      e.status = 403;
      throw e;
    }
    await fn(...a);
  });
  const route = O.router([
    [/^#\/?$/, page(() => dashboard())],
    [/^#\/dash\/(\w+)$/, page((u) => dashboard(u))],
    [/^#\/records(?:\?.*)?$/, page(() => records())],
    [/^#\/r\/([\w-]+)$/, page((id) => record(id))],
    [/^#\/conflicts$/, adminPage(conflicts)],
    [/^#\/conflict\/([\w-]+)$/, adminPage(conflict)],
    [/^#\/users$/, adminPage(users)],
    [/^#\/units$/, adminPage(unitsPage)],
    [/^#\/forms$/, adminPage(formsPage)],
    [/^#\/carried$/, page(carriedPage)],
    [/^#\/logout$/, logout],
  ], () => mount(h('h1', {}, t('Không có trang này', 'No such page')), h('a', {href: '#/'}, t('Về tổng quan', 'Back to the dashboard'))));

  async function start() {
    nav();
    try {
      me = await api('GET', '/v1/session');
      O.setCsrf(me.csrf);
      await loadForms();
      nav();
      route();
    } catch (e) {
      if (e.status === 401) loginPage();
      else O.showFailure(e);
    }
  }
  start();
})();
