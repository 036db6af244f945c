// The officers' phone app: records ideas, confirmations and visits with no
// network, keeps them on the phone (IndexedDB), and syncs them with ocopd
// through the same API as `ocop` (docs/app.md):
// - a change per record waits in the outbox until it is frozen into a change
//   set with its own id; the set is kept until the server answers it, and sent
//   again under the same id after a cut, so the server applies it once;
// - what the officer types is read and checked on the phone by the C++ core
//   compiled to WebAssembly (app_core.js: the rules `ocop` uses, with the
//   definitions the server published), and the server checks every change
//   again; a refusal is shown on its record, which waits for the officer's fix;
// - photos are resized on the phone and uploaded resumably (offset after
//   offset), pulls bring the officer's scope page by page.
// The forms come from the server's definitions (GET /v1/forms) and are drawn
// by the shared toolkit (ocop.js), the same editor as the officer screens.
'use strict';
(() => {
  const {t, L, h, mount, toast} = O;

  // ---- the store on the phone ----
  // kv: session, definitions, device id, clock, cursor, settings.
  // records: {id, form, unit, fields, version, conflict, refused, updated_at}.
  // outbox: one waiting change per record (edits before a sync merge into it).
  // inflight: the change set sent and not yet answered (at most one).
  // photos: {sha256, record_id, name, blob, sent}.
  let db = null;
  function openDb() {
    return new Promise((resolve, reject) => {
      const r = indexedDB.open('ocop-app', 1);
      r.onupgradeneeded = () => {
        const d = r.result;
        d.createObjectStore('kv');
        d.createObjectStore('records', {keyPath: 'id'});
        d.createObjectStore('outbox', {keyPath: 'record_id'});
        d.createObjectStore('inflight', {keyPath: 'id'});
        d.createObjectStore('photos', {keyPath: 'sha256'});
      };
      r.onsuccess = () => resolve(r.result);
      r.onerror = () => reject(r.error);
    });
  }
  const done = (req) => new Promise((resolve, reject) => {
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });
  // Runs `fn(stores)` in one transaction and resolves once it is committed:
  // "saved" is said only after that.
  function inTx(names, fn) {
    return new Promise((resolve, reject) => {
      const x = db.transaction(names, 'readwrite');
      const stores = Object.fromEntries(names.map((n) => [n, x.objectStore(n)]));
      let result;
      Promise.resolve().then(() => fn(stores)).then((v) => { result = v; }, (e) => { x.abort(); reject(e); });
      x.oncomplete = () => resolve(result);
      x.onerror = () => reject(x.error);
      x.onabort = () => reject(x.error || new Error('aborted'));
    });
  }
  const read = (name, key) => done(db.transaction([name]).objectStore(name).get(key));
  const all = (name) => done(db.transaction([name]).objectStore(name).getAll());
  const put = (name, value, key) => inTx([name], (s) => done(key === undefined ? s[name].put(value) : s[name].put(value, key)));

  // ---- values as the protocol writes them ----
  // Canonical JSON text: keys sorted, text in NFC (docs/protocol.md).
  function canon(v) {
    if (v === null || v === undefined) return 'null';
    if (typeof v === 'string') return JSON.stringify(v.normalize('NFC'));
    if (Array.isArray(v)) return '[' + v.map(canon).join(',') + ']';
    if (typeof v === 'object') return '{' + Object.keys(v).sort().map((k) => JSON.stringify(k) + ':' + canon(v[k])).join(',') + '}';
    return JSON.stringify(v);
  }
  // ---- the rules: the C++ core, compiled to WebAssembly ----
  // Loaded once (the service worker keeps both files); the definitions the
  // server published are put in force in it as on a device.
  let core = null;
  async function loadCore() {
    const bytes = await (await fetch('/app/app_core.wasm')).arrayBuffer();
    core = await OcopCore({wasmBinary: bytes});
    await installDefinitions();
  }
  async function installDefinitions() {
    const published = await read('kv', 'definitions');
    if (!core || !published) return;
    const r = JSON.parse(core.ccall('ocop_install', 'string', ['string'], [JSON.stringify(published)]));
    if (r.error) toast(t('Mẫu phiếu của máy chủ chưa dùng được trên máy này: ', 'The server\'s forms cannot be used on this phone yet: ') + r.error.message_vi, true);
  }
  // The record after the officer's typing, read and checked as `ocop` reads
  // and checks it: {fields} or {errors: [{field, message_vi, message_en}]}.
  function checkRecord(form, before, typedValues, values) {
    return JSON.parse(core.ccall('ocop_check', 'string', ['string'],
      [JSON.stringify({form, before, typed: typedValues, values})]));
  }

  // ---- clock and ids ----
  // Hybrid logical clock "<15-digit ms>-<5-digit counter>": never goes back on
  // this phone, even if its clock does.
  async function tick() {
    const last = (await read('kv', 'hlc')) || {ms: 0, n: 0};
    const now = Date.now();
    const next = now > last.ms ? {ms: now, n: 0} : {ms: last.ms, n: last.n + 1};
    await put('kv', next, 'hlc');
    return String(next.ms).padStart(15, '0') + '-' + String(next.n).padStart(5, '0');
  }
  const newId = () => crypto.randomUUID();
  // Today in Vietnam (UTC+7), ISO, whatever zone the phone is set to: the
  // day a decision is dated with, as devices and the server count it.
  const today = () => new Date(Date.now() + 7 * 3600000).toISOString().slice(0, 10);
  const addDays = (iso, n) => new Date(Date.parse(iso + 'T00:00:00Z') + n * 86400000).toISOString().slice(0, 10);
  // The time an HLC names, as ISO text (for "changed at" in the list).
  const hlcTime = (hlc) => new Date(Number((hlc || '').slice(0, 15)) || Date.now()).toISOString();

  // ---- the server ----
  let session = null;  // {token, user, role, unit, device}
  let forms = {};      // form -> newest schema
  let decisions = [];  // the decisions table (shared/workflow.h), as the server publishes it
  let statuses = {};   // status -> {vi, en}
  let units = [];      // the officer's scope: [{code, name, level, ...}]
  // Calls the API with the session's token. Throws an Error with .code and
  // .status; .offline when no answer came at all. `extra.answer` receives the
  // answer's headers.
  async function call(method, path, body, extra) {
    const headers = Object.assign({'Accept': 'application/json'}, (extra && extra.headers) || {});
    if (session) headers['Authorization'] = 'Bearer ' + session.token;
    const opts = {method, headers, cache: 'no-store'};
    if (body instanceof Blob) opts.body = body;
    else if (body !== undefined) {
      opts.body = JSON.stringify(body);
      headers['Content-Type'] = 'application/json';
    }
    let resp;
    try {
      resp = await fetch(path, opts);
      reachable = true;
    } catch (e) {
      reachable = false;
      const err = new Error(t('Không có mạng hoặc máy chủ không trả lời', 'No network, or the server does not answer'));
      err.code = 'unavailable';
      err.offline = true;
      throw err;
    }
    if (extra && extra.answer) extra.answer.headers = resp.headers;
    const text = await resp.text().catch(() => '');
    let data = null;
    try { data = text ? JSON.parse(text) : null; } catch (e) { data = null; }
    if (!resp.ok && resp.status !== 202) {
      const e = (data && data.error) || {};
      const err = new Error((O.lang === 'en' ? e.message_en : e.message_vi) || e.message || `HTTP ${resp.status}`);
      err.code = e.code || 'http_' + resp.status;
      err.status = resp.status;
      err.core = e.message || '';
      throw err;
    }
    return data;
  }
  // A refusal that will not change by sending again (the change is wrong).
  const refusal = (e) => [400, 403, 404, 409, 413].includes(e.status);

  async function loadDefinitions() {
    const defs = await read('kv', 'forms');
    if (defs) {
      forms = Object.fromEntries(defs.forms.map((s) => [s.form, s]));
      decisions = defs.decisions || [];
      statuses = defs.statuses || {};
      O.setOlderForms(defs.older);
      O.setCriteria(defs.criteria);
    }
    units = (await read('kv', 'units')) || [];
  }
  // The definitions and the scope, kept for the days without network. The
  // published definitions (for the rules' core) come again only when a pull
  // names another version than the one kept (X-Ocop-Definitions, "" while
  // nothing is published), or at log-in (`version` undefined).
  // Says whether definitions newer than those kept came.
  async function fetchDefinitions(version) {
    const defs = await call('GET', '/v1/forms');
    await put('kv', defs, 'forms');
    const kept = await read('kv', 'definitions');
    let fresh = false;
    if (version === undefined || !kept || kept.version !== version) {
      const published = await call('GET', '/v1/definitions');
      await put('kv', published, 'definitions');
      await installDefinitions();
      fresh = !!kept && published.version !== kept.version;
    }
    const scope = await call('GET', '/v1/scope');
    await put('kv', scope.units || [], 'units');
    if (scope.receipt_suffix) await put('kv', scope.receipt_suffix, 'receipt_suffix');
    await loadDefinitions();
    return fresh;
  }

  // ---- what the header and banner say ----
  async function unsentCount() {
    const [out, inflight] = await Promise.all([all('outbox'), all('inflight')]);
    return out.length + inflight.reduce((n, s) => n + s.changes.length, 0);
  }
  async function showState() {
    // The phone's own word, and what the last call to the server found: a
    // phone on a village mast often "has network" and reaches nothing.
    const on = navigator.onLine && reachable !== false;
    const net = document.getElementById('net');
    net.className = 'net ' + (on ? 'on' : 'off');
    net.textContent = on ? t('có mạng', 'online') : t('không có mạng', 'offline');
    document.getElementById('who').textContent = session ? session.user : '';
    const n = session ? await unsentCount() : 0;
    document.getElementById('banner').textContent = n > 0
      ? t(`${n} phiếu chưa gửi lên máy chủ. Đừng xoá dữ liệu trang web này trước khi đồng bộ.`,
          `${n} records not yet sent. Do not clear this site's data before syncing.`) : '';
  }
  // Whether the server answered the last call (null: not asked yet).
  let reachable = null;
  async function probe() {
    const stop = new AbortController();
    const timer = setTimeout(() => stop.abort(), 5000);
    try {
      reachable = (await fetch('/healthz', {cache: 'no-store', signal: stop.signal})).ok;
    } catch (e) {
      reachable = false;
    } finally {
      clearTimeout(timer);
    }
    await showState();
  }
  window.addEventListener('online', probe);
  window.addEventListener('offline', showState);
  // Clearing site data cannot be caught; leaving the app with records unsent can.
  window.addEventListener('beforeunload', (e) => {
    if (document.getElementById('banner').textContent) e.preventDefault();
  });

  // ---- screens ----
  const formLabel = (f) => (forms[f] ? L(forms[f].label) : f);
  const recordForms = ['idea', 'confirmation', 'visit'];
  function titleOf(r) {
    const f = r.fields || {};
    return f.product_name || f.subject_name || f.findings || f.receipt_no || t('(chưa có tên)', '(no name yet)');
  }
  const unitName = (code) => (units.find((u) => u.code === code) || {}).name || code;

  function loginScreen(problem) {
    const user = h('input', {type: 'text', id: 'user', autocomplete: 'username', autocapitalize: 'none'});
    const pass = h('input', {type: 'password', id: 'password', autocomplete: 'current-password'});
    const button = h('button', {class: 'primary', id: 'login', type: 'submit'}, t('Đăng nhập', 'Log in'));
    const form = h('form', {class: 'card login', onsubmit: async (e) => {
      e.preventDefault();
      button.disabled = true;
      try {
        let device = await read('kv', 'device');
        if (!device) { device = newId(); await put('kv', device, 'device'); }
        const r = await call('POST', '/v1/login', {user: user.value.trim(), password: pass.value, device});
        session = {token: r.token, user: r.user, role: r.role, unit: r.unit, device};
        await put('kv', session, 'session');
        await fetchDefinitions();
        location.hash = '#/';
        route();
      } catch (err) {
        button.disabled = false;
        toast(O.msg(err.message), true);
      }
    }},
    h('label', {for: 'user'}, t('Tên đăng nhập', 'User name')), user,
    h('label', {for: 'password'}, t('Mật khẩu', 'Password')), pass,
    h('p', {}, button));
    mount(h('h1', {}, t('Đăng nhập', 'Log in')),
      problem ? h('p', {class: 'refusal'}, problem) : null,
      h('p', {}, t('Đăng nhập một lần khi có mạng; sau đó ứng dụng dùng được cả khi không có mạng.',
        'Log in once with a network; the app then works without one.')), form);
  }

  async function homeScreen() {
    const records = (await all('records')).sort((a, b) => (b.updated_at || '').localeCompare(a.updated_at || ''));
    const waiting = new Set((await all('outbox')).map((c) => c.record_id));
    for (const s of await all('inflight')) for (const c of s.changes) waiting.add(c.record_id);
    const last = await read('kv', 'last_sync');
    const list = h('div', {class: 'card', id: 'records'});
    if (!records.length) list.append(h('p', {}, t('Chưa có phiếu nào trên máy này.', 'No records on this phone yet.')));
    for (const r of records)
      list.append(h('a', {class: 'rec', href: '#/r/' + r.id, 'data-id': r.id},
        h('div', {class: 'title'}, titleOf(r),
          waiting.has(r.id) ? h('span', {class: 'badge pending'}, t('chưa gửi', 'not sent')) : null,
          r.refused ? h('span', {class: 'badge refused'}, t('bị từ chối', 'refused')) : null,
          r.conflict ? h('span', {class: 'badge conflict'}, t('xung đột', 'conflict')) : null),
        h('div', {class: 'meta'}, formLabel(r.form), r.fields.status ? ' · ' + statusName(r.fields.status) : '',
          ' · ', unitName(r.unit), ' · ', O.date(r.updated_at, true))));
    mount(h('h1', {}, t('Phiếu trên máy này', 'Records on this phone')),
      h('p', {id: 'last-sync'}, last ? t('Đồng bộ lần cuối: ', 'Last synced: ') + O.date(last, true) : t('Chưa đồng bộ lần nào.', 'Never synced.')),
      h('div', {class: 'actions'}, recordForms.filter((f) => forms[f]).map((f) =>
        h('button', {id: 'new-' + f, onclick: () => { location.hash = '#/new/' + f; }}, '+ ' + formLabel(f)))),
      list,
      h('div', {class: 'bar'},
        h('button', {class: 'primary', id: 'sync', onclick: (e) => syncNow(e.target)}, t('Đồng bộ', 'Sync')),
        h('button', {id: 'settings', onclick: () => { location.hash = '#/settings'; }}, t('Cài đặt', 'Settings'))));
    await showState();
  }

  // Photos of a record, from the phone's store; one another device took is
  // fetched when its record is opened, and kept.
  async function thumbs(record) {
    const box = h('div', {class: 'thumbs', id: 'photos'});
    for (const p of (record.fields.photos || [])) {
      const alt = p.name || p.sha256.slice(0, 8);
      const kept = await read('photos', p.sha256);
      if (kept) { box.append(h('img', {src: URL.createObjectURL(kept.blob), alt})); continue; }
      const slot = h('span', {class: 'photo-wait'}, t('Đang tải ảnh…', 'Fetching the photo…'));
      box.append(slot);
      const load = () => fetchPhoto(p, record.id).then(
        (blob) => slot.replaceWith(h('img', {src: URL.createObjectURL(blob), alt})),
        (e) => slot.replaceChildren(t('Ảnh chưa tải được: ', 'The photo did not come: ') + O.msg(e.message) + ' ',
          h('button', {type: 'button', class: 'retry', onclick: () => { slot.textContent = t('Đang tải ảnh…', 'Fetching the photo…'); load(); }},
            t('Tải lại', 'Try again'))));
      load();
    }
    return box;
  }

  const hex = (buf) => [...new Uint8Array(buf)].map((b) => b.toString(16).padStart(2, '0')).join('');

  // A photo from the server in one piece after another (Range, If-Range on
  // the photo's SHA-256): each piece is kept on the phone as it arrives, so a
  // cut costs at most the piece in flight. A piece that is cut makes the next
  // ones half as large (a link that drops every 20 KB still moves 16 KB
  // pieces); pieces that come whole let them grow back below the size that
  // was cut. The whole is checked against its name before it is kept.
  const fetching = new Map();
  function fetchPhoto(p, recordId) {
    if (!fetching.has(p.sha256)) {
      fetching.set(p.sha256, fetchPhotoPieces(p, recordId).finally(() => fetching.delete(p.sha256)));
    }
    return fetching.get(p.sha256);
  }
  async function fetchPhotoPieces(p, recordId) {
    const key = 'part:' + p.sha256;
    let piece = 64 * 1024, ceiling = 1024 * 1024, streak = 0, failures = 0;
    for (let tries = 0; tries < 400 && failures < 8; tries++) {
      const part = (await read('kv', key)) || {pieces: [], have: 0, size: -1};
      if (part.size >= 0 && part.have >= part.size) {
        const blob = new Blob(part.pieces, {type: 'image/jpeg'});
        const whole = hex(await crypto.subtle.digest('SHA-256', await blob.arrayBuffer())) === p.sha256;
        await inTx(['kv', 'photos'], async (s) => {
          await done(s.kv.delete(key));
          if (whole) await done(s.photos.put({sha256: p.sha256, record_id: recordId, name: p.name || '', blob, sent: true}));
        });
        if (!whole) throw new Error(t('Ảnh tải về không khớp mã; sẽ tải lại từ đầu', 'The photo did not match its hash; it is fetched again'));
        return blob;
      }
      const headers = {'Authorization': 'Bearer ' + session.token, 'If-Range': `"${p.sha256}"`,
        'Range': `bytes=${part.have}-${part.have + piece - 1}`};
      let resp;
      try {
        resp = await fetch('/v1/files/' + p.sha256, {headers, cache: 'no-store'});
        reachable = true;
      } catch (e) {
        reachable = false;
        failures++;
        continue;
      }
      const range = /^bytes (\d+)-(\d+)\/(\d+)$/.exec(resp.headers.get('Content-Range') || '');
      if (resp.status === 200) {
        part.pieces = []; part.have = 0; part.size = Number(resp.headers.get('Content-Length') || -1);
      } else if (resp.status !== 206 || !range || Number(range[1]) !== part.have) {
        const body = await resp.json().catch(() => null);
        const e = (body && body.error) || {};
        throw new Error((O.lang === 'en' ? e.message_en : e.message_vi) || e.message || `HTTP ${resp.status}`);
      } else {
        part.size = Number(range[3]);
      }
      const reader = resp.body.getReader();
      const before = part.have;
      let got = [], bytes = 0, cut = false;
      const keep = async () => {
        if (!bytes) return;
        part.pieces.push(new Blob(got));
        part.have += bytes;
        got = [];
        bytes = 0;
        await put('kv', part, key);
      };
      try {
        for (;;) {
          const {done: end, value} = await reader.read();
          if (end) break;
          got.push(value);
          bytes += value.length;
          if (bytes >= 32768) await keep();
        }
      } catch (e) {
        cut = true;
      }
      await keep();  // what came before a cut counts too
      if (cut) {
        ceiling = piece;
        piece = Math.max(8192, piece / 2);
        streak = 0;
        failures = part.have > before ? 0 : failures + 1;
      } else {
        failures = 0;
        if (++streak >= 4 && piece * 2 < ceiling) { piece *= 2; streak = 0; }
      }
    }
    throw new Error(t('Mạng chập chờn: đã giữ phần ảnh đã nhận, hãy thử lại', 'The link keeps dropping: what came is kept; try again'));
  }

  const statusName = (k) => (statuses[k] ? L(statuses[k]) : k || '');

  // The decisions this account may take on the record, from the server's
  // table: a disabled one says why (a returned idea waits its days). The
  // server checks each again when the change arrives.
  function decisionsCard(r) {
    const status = r.fields.status || '';
    const open = decisions.filter((d) => d.form === r.form && d.role === session.role && d.from.includes(status));
    if (!open.length || O.newerThanHeld(forms, r)) return null;
    const reason = h('input', {type: 'text', id: 'reason', maxlength: 2000});
    const err = h('div', {class: 'error', id: 'decision-error', role: 'alert'});
    const buttons = open.map((d) => {
      if (d.wait && status === d.wait.from && r.fields[d.wait.field]) {
        const from = addDays(r.fields[d.wait.field], d.wait.days);
        if (today() < from)
          return h('p', {class: 'rule', id: 'rule-' + d.name}, h('button', {disabled: true}, L(d.label)), ' ',
            t('nộp lại được từ ', 'may be resubmitted from ') + O.date(from));
      }
      return h('button', {class: 'primary', id: 'decide-' + d.name, onclick: async () => {
        err.textContent = '';
        if (d.reason_field && !reason.value.trim()) {
          err.textContent = t('Hãy ghi lý do.', 'Give the reason.');
          reason.focus();
          return;
        }
        let warning;
        try {
          warning = await decide(r, d, reason.value.trim());
        } catch (e) {
          err.textContent = e.message;
          return;
        }
        toast(statusName(status) + ' → ' + statusName(d.to) + (warning ? '. ' + warning : ''), !!warning);
        recordScreen(r.id);
      }}, L(d.label));
    });
    return h('div', {class: 'card', id: 'decisions'}, h('h2', {}, t('Quyết định', 'Decisions')),
      open.some((d) => d.reason_field) ? h('div', {class: 'field'},
        h('label', {for: 'reason'}, t('Lý do (khi trả lại, thu hồi)', 'Reason (to return, revoke)')), reason) : null,
      h('div', {class: 'actions'}, buttons), err);
  }

  // Records a decision as the change a device would write: the status, the
  // reason and the table's stamps; a submitted idea takes the next receipt
  // number of the blocks this phone holds, or gets one after the next sync.
  async function decide(r, d, reason) {
    const changes = {status: d.to};
    if (d.reason_field && reason) changes[d.reason_field] = reason;
    for (const st of d.stamps || []) {
      if (st.keep && r.fields[st.field] !== undefined) continue;
      changes[st.field] = st.value === 'today' ? today() : session.user;
    }
    // Each value the decision writes is checked by the core like a typed one
    // (a reason too long, say): nothing wrong is queued.
    const checked = core ? checkRecord(r.form, r.fields, {}, changes) : {fields: Object.assign({}, r.fields, changes)};
    if (checked.errors) throw new Error(O.lang === 'en' ? checked.errors[0].message_en : checked.errors[0].message_vi);
    const after = checked.fields;
    let warning = '';
    if (r.form === 'idea' && d.to === 'submitted' && !after.receipt_no) {
      const number = await takeReceipt();
      if (number) after.receipt_no = number;
      else {
        await inTx(['kv'], async (s) => {
          const waiting = (await done(s.kv.get('unnumbered'))) || [];
          if (!waiting.includes(r.id)) waiting.push(r.id);
          await done(s.kv.put(waiting, 'unnumbered'));
        });
        warning = t('Chưa có dải số phiếu: phiếu được cấp số sau lần đồng bộ tới.',
          'No receipt numbers held yet: the form gets its number after the next sync.');
      }
    }
    await record(r, r.form, r.unit, after, []);
    return warning;
  }

  // Drops a refused change, as `ocop outbox discard` does: the record goes
  // back to the values the change was based on (the server's), and a record
  // the server never held leaves the phone with its unsent photos.
  async function discard(id) {
    await inTx(['outbox', 'records', 'photos'], async (s) => {
      const change = await done(s.outbox.get(id));
      const r = await done(s.records.get(id));
      if (!change || !r) return;
      await done(s.outbox.delete(id));
      if (change.op === 'create') {
        await done(s.records.delete(id));
        for (const p of await done(s.photos.getAll())) if (p.record_id === id && !p.sent) await done(s.photos.delete(p.sha256));
        return;
      }
      for (const [k, v] of Object.entries(change.fields)) {
        const was = JSON.parse(v.old);
        if (was === null) delete r.fields[k]; else r.fields[k] = was;
      }
      r.refused = null;
      r.updated_at = new Date().toISOString();
      await done(s.records.put(r));
    });
  }

  // ---- receipt numbers (docs/receipts.md) ----
  // Blocks the server reserved to this phone at its pulls, given out in order.
  async function takeReceipt() {
    const year = Number(today().slice(0, 4));
    return inTx(['kv'], async (s) => {
      const blocks = (await done(s.kv.get('receipt_blocks'))) || [];
      const suffix = await done(s.kv.get('receipt_suffix'));
      const b = blocks.find((x) => x.year === year && x.next <= x.last);
      if (!b || !suffix) return null;
      const n = b.next++;
      await done(s.kv.put(blocks, 'receipt_blocks'));
      return `${n}${suffix}${year}`;
    });
  }
  async function receiptsLeft() {
    const year = Number(today().slice(0, 4));
    return ((await read('kv', 'receipt_blocks')) || []).filter((b) => b.year === year)
      .reduce((n, b) => n + Math.max(0, b.last - b.next + 1), 0);
  }
  // Ideas submitted here with no number: numbered once a block has come,
  // oldest first, and sent at the next sync.
  async function numberWaitingIdeas() {
    let numbered = 0;
    for (const id of (await read('kv', 'unnumbered')) || []) {
      const r = await read('records', id);
      if (r && r.fields.status === 'submitted' && !r.fields.receipt_no) {
        const number = await takeReceipt();
        if (!number) break;
        await record(r, r.form, r.unit, Object.assign({}, r.fields, {receipt_no: number}), []);
        numbered++;
      }
      await inTx(['kv'], async (s) => {
        await done(s.kv.put(((await done(s.kv.get('unnumbered'))) || []).filter((x) => x !== id), 'unnumbered'));
      });
    }
    return numbered;
  }

  async function recordScreen(id) {
    const r = await read('records', id);
    if (!r) return mount(h('h1', {}, t('Không tìm thấy phiếu', 'Record not found')));
    const schema = O.schemaOf(forms, r) || {fields: [], label: r.form};
    mount(h('h1', {}, titleOf(r)),
      h('p', {}, formLabel(r.form), ' · ', unitName(r.unit),
        r.fields.status ? ' · ' : '', r.fields.status ? h('span', {class: 'badge', id: 'status'}, statusName(r.fields.status)) : null),
      r.refused ? h('div', {class: 'card refused'},
        h('p', {class: 'refusal', id: 'refusal'}, t('Máy chủ từ chối: ', 'The server refused it: ') + r.refused),
        h('p', {}, t('Sửa phiếu rồi đồng bộ lại, hoặc bỏ thay đổi này.', 'Edit the record and sync again, or drop this change.')),
        h('button', {id: 'discard', onclick: async () => {
          const created = ((await read('outbox', r.id)) || {}).op === 'create';
          if (!confirm(created
            ? t('Phiếu này chưa có trên máy chủ: bỏ thay đổi sẽ xoá phiếu khỏi máy này. Tiếp tục?', 'The server does not hold this record: dropping the change removes it from this phone. Go on?')
            : t('Phiếu trở về bản trên máy chủ; các sửa đổi chưa gửi bị bỏ. Tiếp tục?', 'The record goes back to the server\'s version; the unsent edits are dropped. Go on?'))) return;
          await discard(r.id);
          toast(t('Đã bỏ thay đổi bị từ chối', 'The refused change was dropped'));
          if (created) location.hash = '#/'; else recordScreen(r.id);
        }}, t('Bỏ thay đổi bị từ chối', 'Drop the refused change'))) : null,
      r.conflict ? h('p', {class: 'refusal'}, t('Có xung đột: quản trị viên sẽ xử lý trên bảng điều hành.',
        'In conflict: an administrator resolves it in the console.')) : null,
      decisionsCard(r),
      h('div', {class: 'card'}, O.recordView(schema, r.fields)),
      await thumbs(r),
      h('div', {class: 'bar'},
        O.newerThanHeld(forms, r) ? O.syncForNewerForm()
          : h('button', {class: 'primary', id: 'edit', onclick: () => { location.hash = '#/edit/' + id; }}, t('Sửa', 'Edit')),
        h('button', {onclick: () => { location.hash = '#/'; }}, t('Về danh sách', 'Back to the list'))));
  }

  // A photo from the camera, made no larger than the settings say (a village
  // link carries a 300 KB photo, not a 5 MB one), as JPEG.
  async function resized(file) {
    const most = Number((await read('kv', 'photo_max_px')) || 1600);
    const bitmap = await createImageBitmap(file);
    const scale = Math.min(1, most / Math.max(bitmap.width, bitmap.height));
    const canvas = document.createElement('canvas');
    canvas.width = Math.round(bitmap.width * scale);
    canvas.height = Math.round(bitmap.height * scale);
    canvas.getContext('2d').drawImage(bitmap, 0, 0, canvas.width, canvas.height);
    const blob = await new Promise((ok) => canvas.toBlob(ok, 'image/jpeg', 0.85));
    const sha256 = hex(await crypto.subtle.digest('SHA-256', await blob.arrayBuffer()));
    return {sha256, blob, name: (file.name || 'anh').replace(/\.[^.]*$/, '') + '.jpg'};
  }

  async function editScreen(form, id) {
    const existing = id ? await read('records', id) : null;
    const formName = existing ? existing.form : form;
    const schema = existing ? O.schemaOf(forms, existing) : forms[formName];
    if (!schema) return mount(h('h1', {}, t('Chưa có mẫu phiếu này trên máy', 'This form is not on the phone yet')));
    const fields = existing ? Object.assign({}, existing.fields) : {};
    const editor = O.formEditor(schema, fields);
    const photos = (fields.photos || []).slice();
    const newPhotos = [];
    const extras = [];
    // The commune: the officer's own; a coordinator picks one of the scope.
    const communes = units.filter((u) => u.level === 'commune' && !u.valid_to);
    let unitPick = null;
    if (!existing && session.role !== 'officer') {
      unitPick = h('select', {id: 'unit'}, communes.map((u) => h('option', {value: u.code}, u.name)));
      extras.push(h('div', {class: 'field'}, h('label', {for: 'unit'}, t('Xã', 'Commune')), unitPick));
    }
    if (schema.fields.some((f) => f.key === 'latitude')) {
      const said = h('span', {class: 'gps', id: 'gps-said'},
        fields.latitude !== undefined ? `${fields.latitude}, ${fields.longitude}` : '');
      extras.push(h('div', {class: 'field'}, h('button', {type: 'button', id: 'gps', onclick: () => {
        said.textContent = t('Đang lấy vị trí…', 'Finding the position…');
        navigator.geolocation.getCurrentPosition((p) => {
          const set = (k, v) => { if (editor.inputs[k]) editor.inputs[k].value = String(v); };
          // Six decimals always: "21.451" would read as a thousands dot.
          set('latitude', p.coords.latitude.toFixed(6));
          set('longitude', p.coords.longitude.toFixed(6));
          set('accuracy_m', Math.round(p.coords.accuracy));
          said.textContent = `${p.coords.latitude.toFixed(6)}, ${p.coords.longitude.toFixed(6)} (±${Math.round(p.coords.accuracy)} m)`;
        }, (err) => { said.textContent = t('Không lấy được vị trí: ', 'No position: ') + err.message; },
        {enableHighAccuracy: true, timeout: 30000, maximumAge: 60000});
      }}, t('Lấy vị trí GPS', 'Take the GPS position')), ' ', said));
    }
    const photoBox = h('div', {class: 'thumbs', id: 'new-photos'});
    if (schema.fields.some((f) => f.key === 'photos')) {
      const picker = h('input', {type: 'file', id: 'photo', accept: 'image/*', capture: 'environment', multiple: true,
        onchange: async () => {
          for (const file of picker.files) {
            try {
              const p = await resized(file);
              newPhotos.push(p);
              photos.push({sha256: p.sha256, name: p.name, size: p.blob.size});
              photoBox.append(h('img', {src: URL.createObjectURL(p.blob), alt: p.name}));
            } catch (e) {
              toast(t('Không đọc được ảnh: ', 'Cannot read the photo: ') + file.name, true);
            }
          }
          picker.value = '';
        }});
      extras.push(h('div', {class: 'field'}, h('label', {for: 'photo'}, t('Chụp hoặc chọn ảnh', 'Take or choose photos')), picker, photoBox));
    }
    const save = async () => {
      editor.clearErrors();
      if (!core) {
        toast(t('Chưa tải được bộ kiểm tra phiếu: hãy mở lại ứng dụng một lần khi có mạng.',
          'The form checks are not loaded: open the app once more with a network.'), true);
        return;
      }
      // Every value as typed, read and checked by the core; nothing wrong is
      // queued, and each wrong field says why beside itself.
      const set = {};
      if (photos.length) set.photos = photos;
      if (!existing && schema.initial_status && !fields.status) set.status = schema.initial_status;
      const checked = checkRecord(formName, existing ? existing.fields : null, editor.values(), set);
      if (checked.errors) {
        const say = (e) => (O.lang === 'en' ? e.message_en : e.message_vi);
        const unplaced = checked.errors.filter((e) => !e.field || !editor.inputs[e.field]);
        for (const e of checked.errors) if (e.field && editor.inputs[e.field]) editor.showError(e.field, say(e));
        toast(unplaced.length ? say(unplaced[0]) : t('Có ô chưa đúng: xem ghi chú đỏ bên dưới ô', 'Some fields are wrong: see the notes in red'), true);
        return;
      }
      const after = checked.fields;
      const unit = existing ? existing.unit : unitPick ? unitPick.value : session.unit;
      await record(existing, formName, unit, after, newPhotos);
      toast(t('Đã lưu trên máy', 'Saved on this phone'));
      location.hash = '#/';
    };
    mount(h('h1', {}, (existing ? t('Sửa: ', 'Edit: ') : t('Mới: ', 'New: ')) + L(schema.label)),
      extras, editor.node,
      h('div', {class: 'bar'},
        h('button', {class: 'primary', id: 'save', onclick: save}, t('Lưu', 'Save')),
        h('button', {onclick: () => history.back()}, t('Huỷ', 'Cancel'))));
  }

  // Keeps a new or edited record and its change in one transaction: a closed
  // tab or a dead battery leaves both or neither.
  async function record(existing, form, unit, after, newPhotos) {
    const hlc = await tick();
    const now = new Date().toISOString();
    const id = existing ? existing.id : newId();
    const before = existing ? existing.fields : {};
    await inTx(['records', 'outbox', 'photos'], async (s) => {
      const waiting = await done(s.outbox.get(id));
      const change = waiting || {change_id: newId(), record_id: id, form, unit, op: existing ? 'update' : 'create',
        base_version: existing ? existing.version || 0 : 0, fields: {}};
      for (const k of new Set([...Object.keys(before), ...Object.keys(after)])) {
        const was = canon(before[k]), now_ = canon(after[k]);
        if (was === now_) continue;
        // Edits before a sync merge: the first edit's old value, the last one's new.
        const prior = change.fields[k];
        change.fields[k] = {old: prior ? prior.old : (change.op === 'create' ? 'null' : was), new: now_};
        if (change.op !== 'create' && change.fields[k].old === change.fields[k].new) delete change.fields[k];
      }
      change.hlc = hlc;
      change.held = false;  // a refused change goes again once the officer has mended it
      if (Object.keys(change.fields).length || change.op === 'create') await done(s.outbox.put(change));
      await done(s.records.put({id, form, unit, fields: after, version: existing ? existing.version || 0 : 0,
        conflict: existing ? existing.conflict : false, refused: null, updated_at: now}));
      for (const p of newPhotos) await done(s.photos.put({sha256: p.sha256, record_id: id, name: p.name, blob: p.blob, sent: false}));
    });
  }

  function settingsScreen() {
    (async () => {
      const px = Number((await read('kv', 'photo_max_px')) || 1600);
      const pick = h('select', {id: 'photo-size', onchange: async () => { await put('kv', Number(pick.value), 'photo_max_px'); toast(t('Đã lưu', 'Saved')); }},
        [1024, 1600, 2048].map((n) => h('option', {value: n, selected: n === px}, `${n} px`)));
      mount(h('h1', {}, t('Cài đặt', 'Settings')),
        h('div', {class: 'card'},
          h('div', {class: 'field'}, h('label', {for: 'photo-size'}, t('Cạnh dài nhất của ảnh', 'Longest side of photos')), pick),
          h('p', {}, t('Tài khoản: ', 'Account: ') + session.user + ' · ' + unitName(session.unit)),
          h('p', {}, h('button', {id: 'logout', onclick: async () => {
            if (await unsentCount() > 0) { toast(t('Còn phiếu chưa gửi: hãy đồng bộ trước khi đăng xuất.', 'Records are not sent yet: sync before logging out.'), true); return; }
            try { await call('POST', '/v1/logout', {}); } catch (e) { /* the token expires anyway */ }
            session = null;
            await put('kv', null, 'session');
            route();
          }}, t('Đăng xuất', 'Log out')))),
        h('div', {class: 'bar'}, h('button', {onclick: () => { location.hash = '#/'; }}, t('Về danh sách', 'Back to the list'))));
    })();
  }

  // ---- sync ----
  let syncing = false;
  async function syncNow(button) {
    if (syncing) return;
    syncing = true;
    if (button) button.disabled = true;
    try {
      const report = await sync();
      toast(t(`Đã đồng bộ: gửi ${report.sent}, nhận ${report.received}, ảnh ${report.photos}`,
        `Synced: ${report.sent} sent, ${report.received} received, ${report.photos} photos`) +
        (report.refused ? t(`; ${report.refused} phiếu bị từ chối`, `; ${report.refused} refused`) : '') +
        (report.forms ? t('; đã nhận mẫu phiếu mới từ máy chủ', '; new forms from the server') : ''), report.refused > 0);
    } catch (e) {
      if (e.status === 401) { session = null; await put('kv', null, 'session'); loginScreen(t('Phiên đăng nhập đã hết: hãy đăng nhập lại (phiếu trên máy vẫn còn).', 'The session ended: log in again (the records stay on the phone).')); return; }
      toast((e.offline ? t('Mất kết nối: phiếu vẫn trên máy và sẽ được gửi tiếp lần sau. ', 'The link dropped: the records stay on the phone and go next time. ') : '') + O.msg(e.message), true);
    } finally {
      syncing = false;
      if (button) button.disabled = false;
      if ((location.hash || '#/') === '#/') await homeScreen(); else await showState();
    }
  }

  async function sync() {
    const report = {sent: 0, received: 0, photos: 0, refused: 0, forms: false};
    await push(report);
    await uploadPhotos(report);
    const definitions = await pull(report);
    // Ideas numbered from the block this pull brought go up at once.
    if (await numberWaitingIdeas()) await push(report);
    await put('kv', new Date().toISOString(), 'last_sync');
    try { report.forms = await fetchDefinitions(definitions); } catch (e) { if (!e.offline) throw e; }
    return report;
  }

  // Freezes the waiting changes into a change set with its own id, kept until
  // answered; a set already kept goes first, again under its id.
  async function freeze() {
    return inTx(['outbox', 'inflight'], async (s) => {
      const kept = await done(s.inflight.getAll());
      if (kept.length) return kept[0];
      const waiting = (await done(s.outbox.getAll())).filter((c) => !c.held).slice(0, 500);
      if (!waiting.length) return null;
      const set = {id: newId(), device: session.device, changes: waiting.map((c) => ({
        change_id: c.change_id, record_id: c.record_id, form: c.form, unit: c.unit, op: c.op, base_version: c.base_version,
        fields: Object.entries(c.fields).map(([key, v]) => ({key, old: v.old, new: v.new})),
        author: session.user, device: session.device, hlc: c.hlc}))};
      await done(s.inflight.put(set));
      for (const c of waiting) await done(s.outbox.delete(c.record_id));
      return set;
    });
  }

  async function push(report) {
    for (let round = 0; round < 200; round++) {
      const set = await freeze();
      if (!set) return;
      let answer;
      try {
        answer = await call('POST', '/v1/push', {id: set.id, device: set.device, changes: set.changes});
      } catch (e) {
        if (!refusal(e)) throw e;  // kept: sent again under the same id
        await refuse(set, e, report);
        continue;
      }
      await inTx(['inflight', 'records', 'outbox'], async (s) => {
        await done(s.inflight.delete(set.id));
        for (const o of answer.outcomes || []) {
          const r = await done(s.records.get(o.record_id));
          if (!r) continue;
          r.version = o.version;
          r.conflict = r.conflict || o.result === 'conflict';
          r.refused = null;
          await done(s.records.put(r));
          // A later edit waiting in the outbox is based on this version now.
          const later = await done(s.outbox.get(o.record_id));
          if (later && later.op === 'update') { later.base_version = o.version; await done(s.outbox.put(later)); }
        }
      });
      report.sent += set.changes.length;
    }
  }

  // The server refused the set whole: nothing of it was applied. The refused
  // record (the server names it) waits with the reason for the officer's fix;
  // the others go again in a new set.
  async function refuse(set, e, report) {
    const named = /record ([0-9a-f-]{36})/.exec(e.core || '');
    const bad = named ? set.changes.filter((c) => c.record_id === named[1]) : set.changes;
    const badIds = new Set((bad.length ? bad : set.changes).map((c) => c.record_id));
    await inTx(['inflight', 'outbox', 'records'], async (s) => {
      await done(s.inflight.delete(set.id));
      for (const c of set.changes) {
        const fields = Object.fromEntries(c.fields.map((f) => [f.key, {old: f.old, new: f.new}]));
        const later = await done(s.outbox.get(c.record_id));
        const merged = {change_id: c.change_id, record_id: c.record_id, form: c.form, unit: c.unit, op: c.op,
          base_version: c.base_version, fields, hlc: c.hlc, held: badIds.has(c.record_id)};
        if (later) for (const [k, v] of Object.entries(later.fields)) merged.fields[k] = {old: merged.fields[k] ? merged.fields[k].old : v.old, new: v.new};
        await done(s.outbox.put(merged));
        if (badIds.has(c.record_id)) {
          const r = await done(s.records.get(c.record_id));
          // Shown on the record itself: its id in the message says nothing more.
          if (r) { r.refused = e.message.replace(/(phiếu|record) [0-9a-f-]{36}:?\s*/i, ''); await done(s.records.put(r)); }
        }
      }
    });
    report.refused += badIds.size;
  }

  // Photos of records the server holds, each continued where the server says
  // it is (a cut connection loses what did not arrive, not what did).
  async function uploadPhotos(report) {
    const waiting = (await all('photos')).filter((p) => !p.sent);
    const unsent = new Set((await all('outbox')).map((c) => c.record_id));
    for (const p of waiting) {
      if (unsent.has(p.record_id)) continue;  // its record is not on the server yet
      let state = await call('POST', '/v1/files/' + p.sha256, {size: p.blob.size, record_id: p.record_id});
      for (let tries = 0; !state.complete && tries < 50; tries++) {
        const from = state.received || 0;
        state = await call('PUT', `/v1/files/${p.sha256}?offset=${from}`, p.blob.slice(from),
          {headers: {'Content-Type': 'application/octet-stream'}});
      }
      if (state.complete) {
        p.sent = true;
        await put('photos', p);
        report.photos++;
      }
    }
  }

  // The officer's scope from the cursor on, page by page. A record with a
  // change of this phone still waiting keeps the phone's fields (the server
  // merges them when they arrive).
  // Returns the version of the server's published definitions.
  async function pull(report) {
    let since = Number((await read('kv', 'cursor')) || 0);
    // An officer's phone asks for a block of receipt numbers when it holds few.
    const ask = session.role === 'officer' && await receiptsLeft() < 20;
    let definitions;
    for (let page = 0; page < 1000; page++) {
      const body = {since, limit: 500, max_bytes: 1 << 20};
      if (ask && page === 0) Object.assign(body, {reserve_receipts: 50, receipt_year: Number(today().slice(0, 4))});
      const answer = {};
      const p = await call('POST', '/v1/pull', body, {answer});
      if (page === 0) definitions = answer.headers.get('X-Ocop-Definitions') || '';
      await inTx(['records', 'outbox', 'kv'], async (s) => {
        for (const r of p.records || []) {
          if (r.deleted) { await done(s.records.delete(r.id)); continue; }
          const mine = await done(s.outbox.get(r.id));
          const held = await done(s.records.get(r.id));
          let fields = {};
          try { fields = JSON.parse(r.fields); } catch (e) { fields = {}; }
          await done(s.records.put({id: r.id, form: r.form, unit: r.unit, fields: mine && held ? held.fields : fields,
            version: r.version, conflict: r.conflict, refused: held ? held.refused : null,
            updated_at: held && mine ? held.updated_at : hlcTime(r.updated_hlc)}));
        }
        await done(s.kv.put(p.cursor, 'cursor'));
        if (p.receipt_first > 0 && p.receipt_last >= p.receipt_first) {
          const blocks = (await done(s.kv.get('receipt_blocks'))) || [];
          blocks.push({year: p.receipt_year, next: p.receipt_first, last: p.receipt_last});
          await done(s.kv.put(blocks.filter((b) => b.next <= b.last), 'receipt_blocks'));
        }
      });
      report.received += (p.records || []).length;
      since = p.cursor;
      if (!p.more) break;
    }
    return definitions;
  }

  // ---- start ----
  function route() {
    showState();
    if (!session) return loginScreen();
    const hash = location.hash || '#/';
    let m;
    if ((m = /^#\/r\/(.+)$/.exec(hash))) return recordScreen(decodeURIComponent(m[1]));
    if ((m = /^#\/new\/(\w+)$/.exec(hash))) return editScreen(m[1], null);
    if ((m = /^#\/edit\/(.+)$/.exec(hash))) return editScreen(null, decodeURIComponent(m[1]));
    if (hash === '#/settings') return settingsScreen();
    return homeScreen();
  }
  window.addEventListener('hashchange', route);

  (async () => {
    document.getElementById('lang-slot').append(O.langSwitch(route));
    if ('serviceWorker' in navigator) navigator.serviceWorker.register('/app/sw.js', {scope: '/app/'}).catch(() => null);
    // Asks the browser not to clear the phone's records when space runs low.
    if (navigator.storage && navigator.storage.persist) navigator.storage.persist().catch(() => null);
    db = await openDb();
    session = await read('kv', 'session');
    await loadDefinitions();
    try {
      await loadCore();
    } catch (e) {
      core = null;  // said when the officer saves: nothing unchecked is queued
    }
    route();
    probe();
  })().catch((e) => mount(h('h1', {}, t('Có lỗi', 'Something went wrong')), h('p', {}, String(e && e.message || e))));
})();
