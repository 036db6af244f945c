// The officer's screens (`ocop ui`): home and sync, lists, forms, decisions,
// photos, history, report. Built on the shared toolkit (ocop.js); every check
// and every rule is the device's own (client core through /api), so the
// screens and the command line cannot disagree.
'use strict';
(() => {
  const {t, L, h, mount, api, toast} = O;
  let forms = {};      // form name -> schema
  let statuses = {};   // status -> label
  let info = {};

  const statusLabel = (s) => L(statuses[s]) || s;
  const roleName = (r) => ({officer: t('cán bộ xã', 'commune officer'), coordinator: t('điều phối viên huyện', 'district coordinator'),
    admin: t('quản trị viên', 'administrator')})[r] || r || t('chưa đăng nhập', 'not logged in');
  const formLabel = (f) => (forms[f] ? L(forms[f].label) : f);
  const short = (id) => id.slice(0, 8);
  const go = (hash) => { if (location.hash === hash) route(); else location.hash = hash; };

  function nav() {
    const links = [['#/', t('Trang chủ', 'Home')], ['#/list/idea', t('Ý tưởng', 'Ideas')],
      ['#/list/confirmation', t('Xác nhận', 'Confirmations')], ['#/list/visit', t('Thăm cơ sở', 'Site visits')],
      ['#/report', t('Báo cáo', 'Report')]];
    document.getElementById('nav').replaceChildren(...links.map(([href, text]) =>
      h('a', {href, 'data-prefix': href.length > 2 ? href : null}, text)));
    document.getElementById('lang-slot').replaceChildren(O.langSwitch(() => { nav(); route(); }));
  }

  function badges(r) {
    return [r.conflict ? h('span', {class: 'badge conflict'}, t('xung đột — chờ quản trị viên', 'conflict — awaiting an administrator')) : null,
      r.pending ? h('span', {class: 'badge pending'}, t('chưa đồng bộ', 'not yet synced')) : null,
      r.deleted ? h('span', {class: 'badge'}, t('đã xoá', 'deleted')) : null];
  }

  // ---- home and sync ----
  async function home() {
    info = await api('GET', '/api/info');
    const stat = (n, label, id) => h('div', {class: 'stat', id}, h('div', {class: 'n'}, n), h('div', {class: 'l'}, label));
    const syncBox = h('div', {class: 'card', id: 'sync-box'});
    mount(
      h('h1', {}, info.commune_name, ' ', h('span', {class: 'muted'}, '(' + info.commune + ')')),
      h('div', {class: 'grid'},
        stat(info.pending_changes, t('thay đổi chưa gửi', 'changes not yet sent'), 'stat-pending'),
        stat(info.open_conflicts, t('phiếu đang xung đột', 'records in conflict'), 'stat-conflicts'),
        stat(info.files_waiting, t('ảnh chờ gửi', 'photos waiting'), 'stat-files'),
        stat(info.last_sync ? O.date(info.last_sync, true) : t('chưa bao giờ', 'never'), t('đồng bộ lần cuối', 'last sync'), 'stat-last-sync')),
      syncBox,
      h('div', {class: 'card'}, h('h2', {}, t('Phiếu mới', 'New form')),
        h('div', {class: 'actions'}, Object.keys(forms).map((f) =>
          h('a', {class: 'button', href: '#/new/' + f, id: 'new-' + f}, '+ ', formLabel(f))))),
      h('div', {class: 'grid'}, Object.keys(forms).map((f) =>
        h('a', {class: 'stat', href: '#/list/' + f}, h('div', {class: 'n'}, (info.counts || {})[f] || 0), h('div', {class: 'l'}, formLabel(f))))),
      h('p', {class: 'muted'}, t('Thiết bị ', 'Device '), short(info.device), ' · ', t('vai trò: ', 'role: '), roleName(info.role),
        info.user ? ' · ' + info.user : ''));
    renderSync(syncBox);
  }

  function renderSync(box) {
    if (!info.server) {
      box.replaceChildren(h('p', {}, t('Thiết bị chưa có địa chỉ máy chủ (ocop init --server URL).', 'This device has no server address (ocop init --server URL).')));
      return;
    }
    if (!info.logged_in) {
      const user = h('input', {type: 'text', id: 'server-user', autocomplete: 'username', value: info.user || ''});
      const pw = h('input', {type: 'password', id: 'server-password', autocomplete: 'current-password'});
      const err = h('div', {class: 'error', id: 'server-login-err'});
      box.replaceChildren(h('h2', {}, t('Đăng nhập máy chủ để đồng bộ', 'Log in to the server to sync')),
        h('form', {onsubmit: async (e) => {
          e.preventDefault();
          try {
            await api('POST', '/api/server-login', {user: user.value, password: pw.value});
            toast(t('Đã đăng nhập', 'Logged in'));
            home();
          } catch (x) { err.textContent = O.msg(x.message); }
        }}, h('div', {class: 'field'}, h('label', {for: 'server-user'}, t('Tên đăng nhập', 'User name')), user),
          h('div', {class: 'field'}, h('label', {for: 'server-password'}, t('Mật khẩu', 'Password')), pw), err,
          h('button', {class: 'primary', type: 'submit'}, t('Đăng nhập', 'Log in'))));
      return;
    }
    const status = h('div', {id: 'sync-status', 'aria-live': 'polite'});
    const stop = h('button', {class: 'danger', id: 'sync-stop', hidden: true, onclick: () => api('POST', '/api/sync/stop')}, t('Dừng', 'Stop'));
    const start = h('button', {class: 'primary big', id: 'sync-button', onclick: async () => {
      try {
        await api('POST', '/api/sync');
        poll(status, start, stop);
      } catch (x) { status.textContent = O.msg(x.message); }
    }}, t('Đồng bộ', 'Sync'));
    box.replaceChildren(h('div', {class: 'actions'}, start, stop), status,
      h('p', {class: 'muted'}, t('Máy chủ: ', 'Server: '), info.server));
    api('GET', '/api/sync').then((s) => { if (s.running) poll(status, start, stop); });
  }

  const kb = (n) => O.number(n / 1024, n < 10240 ? 1 : 0) + ' KB';
  function progressText(p) {
    const phase = {push: t('gửi phiếu', 'sending forms'), files: t('gửi ảnh', 'sending photos'),
      pull: t('nhận phiếu', 'receiving forms')}[p.phase] || t('chờ kết nối', 'waiting for the link');
    return `${t('Đang đồng bộ', 'Syncing')} [${phase}] ${t('đã gửi', 'sent')} ${p.changes_sent}/${p.changes_total} · ` +
      `${t('nhận', 'received')} ${p.records_received} · ↑${kb(p.bytes_sent)} ↓${kb(p.bytes_received)}` +
      (p.drops ? ` · ${p.drops} ${t('lần mất kết nối', 'drops')}` : '');
  }
  function summaryText(s) {
    const why = {done: t('Xong.', 'Done.'), stopped_by_user: t('Đã dừng; phần đã gửi được giữ lại.', 'Stopped; what arrived is kept.'),
      deadline: t('Hết thời hạn; bấm Đồng bộ để tiếp tục.', 'Deadline reached; press Sync to continue.'),
      no_connection: t('Không có kết nối; thử lại khi có mạng.', 'No connection; try again when there is one.'),
      server_full: t('Máy chủ tạm hết dung lượng; mọi thay đổi vẫn được giữ trên máy, đồng bộ lại sau.',
        'The server is out of disk space for now; every change stays on this device, sync again later.'),
      refused: t('Máy chủ từ chối: ', 'The server refused: ') + O.msg(O.pick(s, 'error'))}[s.stopped];
    return `${why} ${t('Đã gửi', 'Sent')} ${s.sent} ${t('thay đổi', 'changes')}, ${t('nhận', 'received')} ${s.received} ${t('phiếu', 'records')}` +
      `, ${t('ảnh đã gửi', 'photos sent')} ${s.files_uploaded}` + (s.open_conflicts ? `; ${s.open_conflicts} ${t('phiếu đang xung đột', 'in conflict')}` : '') +
      (s.pending ? `; ${t('còn chờ', 'still waiting')} ${s.pending}` : '') + ` (${O.number(s.seconds, 1)} ${t('giây', 's')})`;
  }
  function poll(status, start, stop) {
    start.disabled = true;
    stop.hidden = false;
    const bar = h('div', {class: 'progress'}, h('div'));
    const line = h('div', {id: 'sync-progress'});
    status.replaceChildren(bar, line);
    const timer = setInterval(async () => {
      let s;
      try { s = await api('GET', '/api/sync'); } catch (e) { return; }
      if (s.running) {
        const p = s.progress;
        const total = p.changes_total || 1;
        bar.firstChild.style.width = Math.min(100, Math.round((100 * p.changes_sent) / total)) + '%';
        line.textContent = progressText(p);
        return;
      }
      clearInterval(timer);
      start.disabled = false;
      stop.hidden = true;
      if (s.summary) {
        status.replaceChildren(h('div', {id: 'sync-summary', class: s.summary.ok ? 'badge ok' : 'rule'}, summaryText(s.summary)));
        const keep = status;
        info = await api('GET', '/api/info');
        document.getElementById('stat-pending').querySelector('.n').textContent = info.pending_changes;
        document.getElementById('stat-conflicts').querySelector('.n').textContent = info.open_conflicts;
        document.getElementById('stat-files').querySelector('.n').textContent = info.files_waiting;
        document.getElementById('stat-last-sync').querySelector('.n').textContent = info.last_sync ? O.date(info.last_sync, true) : '';
        keep.focus();
      }
    }, 400);
  }

  // ---- lists ----
  async function list(form) {
    const schema = forms[form];
    if (!schema) throw new Error(t('Không có mẫu phiếu ', 'No form ') + form);
    const search = h('input', {type: 'search', id: 'search', placeholder: t('Tìm (không cần dấu)…', 'Search (accents optional)…')});
    const status = h('select', {id: 'status-filter'}, h('option', {value: ''}, t('Mọi trạng thái', 'Any status')),
      schema.statuses.map((s) => h('option', {value: s}, statusLabel(s))));
    const conflicts = h('input', {type: 'checkbox', id: 'conflicts-only'});
    const tbody = h('tbody');
    const count = h('p', {class: 'muted', id: 'count'});
    async function load() {
      const q = new URLSearchParams({form, search: search.value, status: status.value, conflicts: conflicts.checked ? '1' : ''});
      const res = await api('GET', '/api/records?' + q);
      tbody.replaceChildren(...res.records.map((r) => h('tr', {class: 'clickable', tabindex: 0, 'data-id': r.id,
        onclick: () => go('#/r/' + r.id), onkeydown: (e) => { if (e.key === 'Enter') go('#/r/' + r.id); }},
        h('td', {}, h('a', {href: '#/r/' + r.id}, r.title || short(r.id))),
        h('td', {}, statusLabel(r.status)),
        h('td', {}, r.fields.receipt_no || r.fields.visited_on && O.date(r.fields.visited_on) || ''),
        h('td', {}, O.date(r.updated_at, true)),
        h('td', {}, badges(r)))));
      count.textContent = `${res.records.length} ${t('phiếu', 'records')}` + (res.limited ? t(' (500 đầu tiên)', ' (first 500)') : '');
    }
    let timer = null;
    search.addEventListener('input', () => { clearTimeout(timer); timer = setTimeout(load, 200); });
    status.addEventListener('change', load);
    conflicts.addEventListener('change', load);
    mount(h('h1', {}, formLabel(form)),
      h('div', {class: 'actions'}, h('a', {class: 'button primary', href: '#/new/' + form, id: 'new-record'}, '+ ', t('Phiếu mới', 'New form'))),
      h('div', {class: 'filters'}, h('label', {for: 'search'}, t('Tìm', 'Search'), search),
        h('label', {for: 'status-filter'}, t('Trạng thái', 'Status'), status),
        h('label', {for: 'conflicts-only'}, t('Chỉ phiếu xung đột', 'Conflicts only'), conflicts)),
      h('div', {class: 'scroll'}, h('table', {class: 'list stack', id: 'records'},
        h('thead', {}, h('tr', {}, h('th', {}, t('Phiếu', 'Record')), h('th', {}, t('Trạng thái', 'Status')),
          h('th', {}, t('Số / ngày', 'No. / date')), h('th', {}, t('Sửa lần cuối', 'Last changed')), h('th'))), tbody)),
      count);
    await load();
    search.focus();
  }

  // ---- forms ----
  async function editor(form, id) {
    const record = id ? await api('GET', '/api/records/' + encodeURIComponent(id)) : null;
    if (record) form = record.form;
    const schema = record ? O.schemaOf(forms, record) : forms[form];
    if (!schema) throw new Error(t('Không có mẫu phiếu ', 'No form ') + form);
    if (record && O.newerThanHeld(forms, record)) {
      mount(h('h1', {}, t('Sửa: ', 'Edit: '), formLabel(form)), O.syncForNewerForm(),
        h('a', {class: 'button', href: '#/r/' + record.id}, t('Xem phiếu', 'View the record')));
      return;
    }
    const shares = form === 'confirmation' ? h('div', {class: 'card', id: 'shares'}) : null;
    let scoreTimer = null;
    const ed = O.formEditor(schema, record ? record.fields : {}, () => {
      if (shares) { clearTimeout(scoreTimer); scoreTimer = setTimeout(updateShares, 150); }
    });
    async function updateShares() {
      const s = await api('POST', '/api/score', {fields: ed.values()});
      shares.replaceChildren(...sharesView(s).filter(Boolean));
    }
    // Each field is checked when the officer leaves it, with the same check
    // and message as `ocop new --set`.
    for (const f of schema.fields) {
      const el = ed.inputs[f.key];
      if (!el || f.type === 'list') continue;
      el.addEventListener('focusout', async () => {
        try {
          await api('POST', '/api/check', {form, field: f.key, value: ed.values()[f.key]});
          ed.clearError(f.key);
        } catch (x) { if (x.field) ed.showError(x.field, O.msg(x.message, schema)); }
      });
    }
    // Ideas and references: choose the idea a confirmation or a visit is about.
    for (const f of schema.fields.filter((f) => f.type === 'ref' && ed.inputs[f.key])) {
      const res = await api('GET', '/api/records?form=' + f.ref_form);
      const sel = h('select', {id: 'f-' + f.key, name: f.key}, h('option', {value: ''}, '—'),
        res.records.map((r) => h('option', {value: r.id, selected: record && record.fields[f.key] === r.id}, (r.title || short(r.id)) + ' · ' + short(r.id))));
      ed.inputs[f.key].replaceWith(sel);
      ed.inputs[f.key] = sel;
    }
    const gps = form === 'visit' ? h('div', {class: 'actions'}, h('button', {type: 'button', id: 'gps', onclick: () => {
      if (!navigator.geolocation) { toast(t('Trình duyệt không có GPS: hãy gõ toạ độ', 'No GPS in this browser: type the position'), true); return; }
      navigator.geolocation.getCurrentPosition((p) => {
        ed.inputs.latitude.value = p.coords.latitude.toFixed(6);
        ed.inputs.longitude.value = p.coords.longitude.toFixed(6);
        if (ed.inputs.accuracy_m) ed.inputs.accuracy_m.value = Math.round(p.coords.accuracy);
        toast(t('Đã lấy vị trí', 'Position taken'));
      }, (e) => toast(t('Không lấy được vị trí: hãy gõ toạ độ', 'Could not get a position: type it') + ' (' + e.message + ')', true),
      {enableHighAccuracy: true, timeout: 20000});
    }}, t('Lấy vị trí GPS', 'Use GPS position'))) : null;
    const formError = h('div', {class: 'error', id: 'form-error', role: 'alert'});
    async function save() {
      ed.clearErrors();
      formError.textContent = '';
      try {
        const saved = record
          ? await api('PATCH', '/api/records/' + record.id, {fields: ed.values()})
          : await api('POST', '/api/records', {form, fields: ed.values()});
        toast(t('Đã lưu', 'Saved'));
        go('#/r/' + saved.id);
      } catch (x) {
        // Every wrong field marked at once, the first one focused.
        const wrong = x.errors && x.errors.length ? x.errors : [{field: x.field, message: x.message}];
        const marked = wrong.filter((e) => e.field && ed.showError(e.field, O.msg(e.message, schema)));
        if (!marked.length) formError.textContent = O.msg(x.message, schema);
        else {
          formError.textContent = marked.length === 1 ? t('Chưa lưu: xem lỗi ở trường được đánh dấu', 'Not saved: see the marked field')
            : t(`Chưa lưu: ${marked.length} trường có lỗi, được đánh dấu bên dưới`, `Not saved: ${marked.length} fields are wrong, marked below`);
          const box = document.getElementById('field-' + marked[0].field);
          const input = box && box.querySelector('input,select,textarea');
          if (input) input.focus();
        }
      }
    }
    mount(h('h1', {}, record ? t('Sửa: ', 'Edit: ') + (record.title || short(record.id)) : t('Phiếu mới: ', 'New: ') + formLabel(form)),
      gps, ed.node, shares, formError,
      h('div', {class: 'actions'}, h('button', {class: 'primary', id: 'save', onclick: save}, t('Lưu', 'Save')),
        h('a', {class: 'button', href: record ? '#/r/' + record.id : '#/list/' + form}, t('Huỷ', 'Cancel'))));
    if (shares) updateShares();
    const first = ed.node.querySelector('input,select,textarea');
    if (first) first.focus();
  }

  function sharesView(s) {
    const band = L(s.material_band);
    return [h('h2', {}, t('Tỷ lệ địa phương (tự tính)', 'Local shares (computed)')),
      h('div', {class: 'shares'},
        h('div', {class: 'stat', id: 'labour-share'}, h('div', {class: 'n'}, O.pct(s.labour_ratio)),
          h('div', {class: 'l'}, t('lao động địa phương', 'local labour'), ' · ', s.labour_points, t(' điểm', ' points'))),
        h('div', {class: 'stat', id: 'material-share'}, h('div', {class: 'n'}, O.pct(s.material_ratio)),
          h('div', {class: 'l'}, t('nguyên liệu địa phương', 'local raw materials'), ' · ', s.material_points, t(' điểm', ' points'),
            band ? ' · ' + band : ''))),
      s.rankable ? null : h('p', {class: 'rule'}, t('Không đủ điều kiện xếp hạng: ', 'Cannot be ranked: '), s.reason)];
  }

  // ---- one record ----
  async function show(id) {
    const r = await api('GET', '/api/records/' + encodeURIComponent(id));
    const schema = O.schemaOf(forms, r);
    const reason = h('input', {type: 'text', id: 'reason', maxlength: 2000, placeholder: t('Lý do (bắt buộc khi trả lại, không chọn, thu hồi)', 'Reason (needed to return, reject, revoke)')});
    const decisionError = h('div', {class: 'error', id: 'decision-error', role: 'alert'});
    const needsReason = r.decisions.some((d) => d.allowed && d.needs_reason);
    const decisions = r.decisions.map((d) => d.allowed
      ? h('button', {class: 'primary', id: 'decide-' + d.name, onclick: async () => {
        decisionError.textContent = '';
        try {
          const after = await api('POST', `/api/records/${r.id}/decide`, {decision: d.name, reason: reason.value});
          if (after.warning && after.warning.vi) toast(L(after.warning), true);
          else toast(statusLabel(r.status) + ' → ' + statusLabel(after.status));
          show(r.id);
        } catch (x) { decisionError.textContent = O.msg(x.message, schema); if (x.field === 'reason') reason.focus(); }
      }}, L(d.label))
      : h('span', {class: 'rule', id: 'rule-' + d.name}, h('button', {disabled: true}, L(d.label)), ' ', L(d.why_not)));
    const parts = [
      h('h1', {}, r.title || formLabel(r.form)),
      h('p', {}, formLabel(r.form), ' · ', h('span', {class: 'badge', id: 'status'}, statusLabel(r.status)), ' ', badges(r),
        ' · ', r.unit_name, ' · ', h('code', {}, r.id)),
      r.conflict ? conflictCard(r, schema) : null,
      decisions.length && !O.newerThanHeld(forms, r) ? h('div', {class: 'card'}, h('h2', {}, t('Quyết định', 'Decisions')),
        needsReason ? h('div', {class: 'field'}, h('label', {for: 'reason'}, t('Lý do', 'Reason')), reason) : null,
        h('div', {class: 'actions'}, decisions), decisionError) : null,
      O.newerThanHeld(forms, r) ? O.syncForNewerForm() : null,
      h('div', {class: 'actions'},
        r.deleted || O.newerThanHeld(forms, r) ? null : h('a', {class: 'button', href: '#/edit/' + r.id, id: 'edit'}, t('Sửa', 'Edit')),
        h('a', {class: 'button', href: '#/history/' + r.id, id: 'history'}, t('Lịch sử', 'History')),
        r.deleted ? null : h('button', {class: 'danger', id: 'delete', onclick: async () => {
          if (!confirm(t('Xoá phiếu này? Việc xoá cũng được đồng bộ.', 'Delete this record? The deletion syncs too.'))) return;
          await api('DELETE', '/api/records/' + r.id);
          go('#/list/' + r.form);
        }}, t('Xoá', 'Delete'))),
      h('div', {class: 'card', id: 'fields'}, O.recordView(schema, r.fields)),
      r.score ? h('div', {class: 'card', id: 'shares'}, sharesView(r.score)) : null,
      schema.fields.some((f) => f.key === 'photos') ? photos(r) : null];
    mount(parts);
  }

  // Which fields are in conflict and both values, asked of the server when
  // there is a link; offline, the explanation alone.
  function conflictCard(r, schema) {
    const fields = h('div', {id: 'conflict-fields'});
    const card = h('div', {class: 'card rule', id: 'conflict-note'},
      h('p', {}, t('Phiếu này đang xung đột: hai thiết bị đã sửa cùng một trường khác nhau. Quản trị viên sẽ chọn giá trị; sau khi đồng bộ, giá trị được chọn sẽ hiện ở đây.',
        'Two devices changed the same field differently. An administrator will choose; after a sync the chosen value shows here.')),
      fields);
    const label = (k) => { const f = schema.fields.find((x) => x.key === k); return f ? L(f.label) : k; };
    api('GET', `/api/records/${r.id}/conflicts`).then((o) => {
      if (!o.conflicts.length) return;
      fields.appendChild(h('div', {class: 'scroll'}, h('table', {},
        h('thead', {}, h('tr', {}, h('th', {}, t('Trường', 'Field')), h('th', {}, t('Giá trị trên máy chủ', 'Value on the server')),
          h('th', {}, t('Giá trị gửi sau', 'Value sent later')))),
        h('tbody', {}, o.conflicts.map((c) => h('tr', {},
          h('td', {}, label(c.field)),
          h('td', {}, O.historyValue(schema, c.field, c.current, statusLabel), h('br'), h('small', {}, c.current_by)),
          h('td', {}, O.historyValue(schema, c.field, c.incoming, statusLabel), h('br'), h('small', {}, c.incoming_by))))))));
    }).catch(() => fields.appendChild(h('p', {}, h('small', {}, t('Không hỏi được máy chủ các trường xung đột; thử lại khi có mạng.',
      'Could not ask the server which fields are in conflict; try again online.')))));
    return card;
  }

  function photos(r) {
    const file = h('input', {type: 'file', id: 'photo-file', accept: 'image/*', capture: 'environment'});
    const caption = h('input', {type: 'text', id: 'photo-caption', maxlength: 500});
    const err = h('div', {class: 'error', id: 'photo-error'});
    const attach = h('button', {class: 'primary', id: 'photo-attach', onclick: async () => {
      err.textContent = '';
      const f = file.files[0];
      if (!f) { err.textContent = t('Chọn một ảnh trước', 'Choose a photo first'); return; }
      try {
        const q = new URLSearchParams({name: f.name, caption: caption.value});
        await api('POST', `/api/records/${r.id}/photos?` + q, f);
        toast(t('Đã đính kèm; ảnh sẽ được gửi khi đồng bộ', 'Attached; sent at the next sync'));
        show(r.id);
      } catch (x) { err.textContent = O.msg(x.message); }
    }}, t('Đính kèm', 'Attach'));
    return h('div', {class: 'card', id: 'photos'}, h('h2', {}, t('Ảnh', 'Photos')),
      h('div', {class: 'thumbs'}, r.photos.map((p) => h('figure', {'data-sha': p.sha256},
        // A photo not on this device yet is fetched from the server when shown.
        h('img', {src: '/api/files/' + p.sha256, alt: p.caption || p.name || t('(ảnh chưa tải được)', '(photo not fetched)'), loading: 'lazy'}),
        h('figcaption', {}, p.caption || p.name || '', ' ',
          h('span', {class: p.uploaded ? 'badge ok' : 'badge pending'}, p.uploaded ? t('đã gửi', 'uploaded') : t('chờ gửi', 'waiting to upload')))))),
      h('div', {class: 'field'}, h('label', {for: 'photo-file'}, t('Ảnh (tệp hoặc máy ảnh)', 'Photo (file or camera)')), file),
      h('div', {class: 'field'}, h('label', {for: 'photo-caption'}, t('Chú thích', 'Caption')), caption), attach, err);
  }

  async function history(id) {
    const [r, res] = await Promise.all([api('GET', '/api/records/' + encodeURIComponent(id)), api('GET', `/api/records/${encodeURIComponent(id)}/history`)]);
    const schema = O.schemaOf(forms, r);
    const label = (k) => { const f = schema.fields.find((x) => x.key === k); return f ? L(f.label) : k === 'status' ? t('Trạng thái', 'Status') : k; };
    mount(h('h1', {}, t('Lịch sử: ', 'History: '), r.title || short(r.id)),
      r.conflict ? h('p', {class: 'rule', id: 'conflict-note'}, t('Đang xung đột — chờ quản trị viên xử lý', 'In conflict — awaiting an administrator')) : null,
      h('div', {class: 'scroll'}, h('table', {class: 'list stack', id: 'history-table'},
        h('thead', {}, h('tr', {}, [t('Lúc', 'When'), t('Người', 'Who'), t('Thiết bị', 'Device'), t('Trường', 'Field'), t('Cũ → mới', 'Old → new')].map((x) => h('th', {}, x)))),
        h('tbody', {}, res.history.map((e) => h('tr', {},
          h('td', {}, O.date(e.at, true)),
          h('td', {}, !e.author || e.author.startsWith('local@') ? t('máy này', 'this device') : e.author),
          h('td', {}, e.device ? '…' + e.device.slice(-8) : '—'),
          h('td', {}, label(e.field)), h('td', {}, O.historyValue(schema, e.field, e.old, statusLabel) + ' → ' + O.historyValue(schema, e.field, e.new, statusLabel))))))),
      h('a', {class: 'button', href: '#/r/' + r.id}, t('Quay lại', 'Back')));
  }

  // ---- report and exports ----
  function report() {
    const d = new Date();
    const date = h('input', {type: 'text', id: 'report-date', value: `${String(d.getDate()).padStart(2, '0')}/${String(d.getMonth() + 1).padStart(2, '0')}/${d.getFullYear()}`});
    const target = h('input', {type: 'text', id: 'report-target', inputmode: 'numeric', value: '0'});
    const starTarget = h('input', {type: 'text', id: 'report-star-target', inputmode: 'numeric', value: '0'});
    const link = h('a', {class: 'button primary', id: 'open-report', target: '_blank', rel: 'noopener'}, t('Mở báo cáo tuần', 'Open the weekly report'));
    const bom = h('input', {type: 'checkbox', id: 'bom', checked: true});
    const exports = h('div', {class: 'actions'});
    const update = () => {
      link.href = '/report.html?' + new URLSearchParams({date: date.value, target: target.value, star_target: starTarget.value, lang: O.lang});
      exports.replaceChildren(...Object.keys(forms).map((f) => h('a', {class: 'button', href: `/export/${f}.csv` + (bom.checked ? '?bom=1' : ''), download: f + '.csv', id: 'export-' + f}, 'CSV: ', formLabel(f))));
    };
    [date, target, starTarget, bom].forEach((x) => x.addEventListener('input', update));
    bom.addEventListener('change', update);
    update();
    mount(h('h1', {}, t('Báo cáo và xuất dữ liệu', 'Report and exports')),
      h('div', {class: 'card'}, h('div', {class: 'filters'}, h('label', {for: 'report-date'}, t('Tuần có ngày', 'Week of'), date),
        h('label', {for: 'report-target'}, t('Mục tiêu (số sản phẩm)', 'Target (products)'), target),
        h('label', {for: 'report-star-target'}, t('Mục tiêu sản phẩm 3 sao trở lên', 'Target (3-star-and-above products)'), starTarget)), link),
      h('div', {class: 'card'}, h('h2', {}, t('Xuất CSV', 'CSV export')),
        h('label', {for: 'bom'}, bom, ' ', t('Có BOM (để Excel đọc đúng tiếng Việt)', 'With BOM (for Excel)')), exports));
  }

  // ---- login (when the screens are shared on a local network) ----
  function login(after) {
    const pw = h('input', {type: 'password', id: 'ui-password', autocomplete: 'current-password'});
    const err = h('div', {class: 'error', id: 'ui-login-err'});
    mount(h('h1', {}, t('Đăng nhập', 'Log in')), h('form', {class: 'card', onsubmit: async (e) => {
      e.preventDefault();
      try {
        const res = await api('POST', '/api/login', {password: pw.value});
        O.setCsrf(res.csrf);
        after();
      } catch (x) { err.textContent = O.msg(x.message); }
    }}, h('p', {}, t('Máy này chia sẻ màn hình qua mạng nội bộ: nhập mật khẩu đã đặt khi chạy ocop ui.', 'These screens are shared on the local network: give the password set when ocop ui was started.')),
    h('div', {class: 'field'}, h('label', {for: 'ui-password'}, t('Mật khẩu', 'Password')), pw), err,
    h('button', {class: 'primary', type: 'submit'}, t('Đăng nhập', 'Log in'))));
    pw.focus();
  }

  const route = O.router([
    [/^#\/?$/, home],
    [/^#\/list\/(\w+)$/, list],
    [/^#\/new\/(\w+)$/, (f) => editor(f, null)],
    [/^#\/edit\/([\w-]+)$/, (id) => editor(null, id)],
    [/^#\/r\/([\w-]+)$/, show],
    [/^#\/history\/([\w-]+)$/, history],
    [/^#\/report$/, report],
  ], () => mount(h('h1', {}, t('Không có trang này', 'No such page'))));

  async function start() {
    const all = await api('GET', '/api/forms');
    all.forms.forEach((f) => { forms[f.form] = f; });
    O.setOlderForms(all.older);
    statuses = all.statuses;
    O.setCriteria(all.criteria);
    nav();
    route();
  }

  (async () => {
    try {
      const s = await api('GET', '/api/session');
      if (s.authenticated) { O.setCsrf(s.csrf); await start(); }
      else if (s.login_required) login(start);
      else mount(h('h1', {}, t('Hãy tải lại trang', 'Reload the page')));
    } catch (e) { O.showFailure(e); }
  })();
})();
