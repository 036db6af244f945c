// ocop.js — the page toolkit both browser faces share (`ocop ui` on the device,
// the console of `ocopd`): elements, Vietnamese/English texts, dates as
// dd/mm/yyyy, calls to the JSON API with the CSRF header, a hash router, and
// form editors generated from the form schemas (schemas/forms/*.json).
// No dependency, nothing fetched from outside; served by the binaries.
'use strict';

const O = (() => {
  let lang = localStorage.getItem('ocop.lang') || 'vi';
  let csrf = '';
  // Counts page changes. A page's reads that answer after the user moved on
  // are dropped, so a slow page never draws over the one the user went to.
  let navigation = 0;

  // ---- texts ----
  const t = (vi, en) => (lang === 'en' && en !== undefined ? en : vi);
  // A schema label {vi, en}.
  const L = (label) => (!label ? '' : typeof label === 'string' ? label : lang === 'en' && label.en ? label.en : label.vi);
  function setLang(l) {
    lang = l === 'en' ? 'en' : 'vi';
    localStorage.setItem('ocop.lang', lang);
    document.documentElement.lang = lang;
  }

  // ---- elements ----
  // h('button', {class: 'primary', onclick: fn}, 'Lưu') — attributes, listeners
  // (on*), and children (strings, nodes, arrays; null and false are skipped).
  function h(tag, attrs, ...kids) {
    const el = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === null || v === undefined || v === false) continue;
      if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
      else if (k === 'class') el.className = v;
      else if (k === 'value') el.value = v;
      else if (k === 'checked' || k === 'selected' || k === 'disabled') el[k] = !!v;
      else el.setAttribute(k, v === true ? '' : v);
    }
    const add = (k) => {
      if (k === null || k === undefined || k === false) return;
      if (Array.isArray(k)) k.forEach(add);
      else el.append(k instanceof Node ? k : String(k));
    };
    kids.forEach(add);
    return el;
  }
  function mount(...nodes) {
    const main = document.getElementById('main');
    main.replaceChildren(...nodes.flat().filter(Boolean));
    const h1 = main.querySelector('h1');
    if (h1) document.title = h1.textContent;
  }
  let toastTimer = null;
  function toast(message, bad) {
    document.querySelectorAll('.toast').forEach((n) => n.remove());
    const n = h('div', {class: 'toast' + (bad ? ' bad' : ''), role: 'status'}, message);
    document.body.append(n);
    clearTimeout(toastTimer);
    toastTimer = setTimeout(() => n.remove(), bad ? 8000 : 3500);
  }


  // ---- messages ----
  // Servers answer a refusal with the core's English ("message") and the
  // message catalogue's Vietnamese ("message_vi") and English with labels
  // ("message_en"); api() keeps the one for this page's language. msg() only
  // names any field still written as a key.
  function fieldLabel(key, schema) {
    if (!schema) return null;
    for (const f of schema.fields) {
      if (f.key === key) return L(f.label);
      for (const s of f.item_fields || []) if (s.key === key) return L(s.label);
    }
    return null;
  }
  // A message the server sent with its translations (key, key_vi, key_en).
  const pick = (o, key) => (o && (o[key + '_' + lang] || o[key])) || '';
  function msg(message, schema) {
    const m = String(message || '');
    // "field 'phone' (Số điện thoại / Phone)" and "field 'phone'" -> «Số điện thoại»
    return m.replace(/field '([\w]+)'(?: \([^)]*\))?/g, (all, key) => {
      const l = fieldLabel(key, schema);
      return l ? `«${l}»` : all;
    }).replace(/ item (\d+)/g, lang === 'en' ? ' row $1' : ' dòng $1');
  }

  // ---- numbers and dates ----
  const two = (n) => String(n).padStart(2, '0');
  // '2026-11-24' or '2026-11-24T10:00:00.000+07:00' -> '24/11/2026' (with the time for timestamps).
  // Timestamps in UTC (…Z) are shown in Vietnam's time (UTC+7, no daylight saving).
  function date(iso, withTime) {
    if (!iso) return '';
    if (/T\d{2}:\d{2}.*(Z|[+-]\d{2}:\d{2})$/.test(iso) && !Number.isNaN(Date.parse(iso))) {
      const v = new Date(Date.parse(iso) + 7 * 3600 * 1000);
      return `${two(v.getUTCDate())}/${two(v.getUTCMonth() + 1)}/${v.getUTCFullYear()}` +
        (withTime ? ` ${two(v.getUTCHours())}:${two(v.getUTCMinutes())}` : '');
    }
    const m = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2}))?/.exec(iso);
    if (!m) return iso;
    return `${m[3]}/${m[2]}/${m[1]}` + (withTime && m[4] ? ` ${m[4]}:${m[5]}` : '');
  }
  function number(n, digits) {
    if (n === null || n === undefined || n === '') return '';
    return Number(n).toLocaleString(lang === 'en' ? 'en-GB' : 'vi-VN', {maximumFractionDigits: digits ?? 2});
  }
  const pct = (r) => (r === null || r === undefined || r < 0 ? '–' : number(r * 100, 1) + ' %');

  // ---- the API ----
  function setCsrf(token) { csrf = token || ''; }
  // Calls the JSON API; throws an Error with .code, .field and .status on
  // refusal. `body` is JSON-encoded unless it is a Blob/File (sent as is).
  async function api(method, path, body) {
    const opts = {method, headers: {'X-OCOP-CSRF': csrf, 'Accept': 'application/json'}, credentials: 'same-origin'};
    if (body instanceof Blob) opts.body = body;
    else if (body !== undefined) {
      opts.body = JSON.stringify(body);
      opts.headers['Content-Type'] = 'application/json';
    }
    const started = navigation;
    let resp;
    try {
      resp = await fetch(path, opts);
    } catch (e) {
      const err = new Error(t('Không gọi được máy chủ của trang', 'Could not reach the page\'s server'));
      err.code = 'unavailable';
      throw err;
    }
    const text = await resp.text();
    if (method === 'GET' && started !== navigation) {
      const err = new Error(t('Trang đã chuyển; bỏ kết quả cũ', 'The page changed; the old answer is dropped'));
      err.stale = true;
      throw err;
    }
    let data = null;
    try { data = text ? JSON.parse(text) : null; } catch (e) { data = null; }
    if (!resp.ok) {
      const e = (data && data.error) || {};
      const err = new Error((lang === 'en' ? e.message_en : e.message_vi) || e.message || `HTTP ${resp.status}`);
      err.code = e.code || 'http_' + resp.status;
      err.field = e.field || '';
      // Every field wrong at once, each with its field (a form with many mistakes).
      err.errors = (e.errors || []).map((x) => ({field: x.field || '', message: (lang === 'en' ? x.message_en : x.message_vi) || x.message}));
      err.status = resp.status;
      throw err;
    }
    return data;
  }

  // ---- routing: '#/r/ID' -> handler(match) ----
  function router(routes, notFound) {
    async function go() {
      navigation++;
      const hash = location.hash || '#/';
      for (const [re, fn] of routes) {
        const m = re.exec(hash);
        if (m) {
          document.querySelectorAll('header.top nav a').forEach((a) =>
            // A boolean, always: toggle(name, undefined) flips the class instead of clearing it.
            a.classList.toggle('active', a.getAttribute('href') === hash || !!(a.dataset.prefix && hash.startsWith(a.dataset.prefix))));
          try { await fn(...m.slice(1).map(decodeURIComponent)); } catch (e) { showFailure(e); }
          return;
        }
      }
      notFound();
    }
    window.addEventListener('hashchange', go);
    return go;
  }
  function showFailure(e) {
    if (e && e.stale) return;  // the page the user left; the new one draws itself
    if (e && e.status === 403) {
      mount(h('h1', {}, t('Không có quyền (403)', 'Not allowed (403)')),
            h('div', {class: 'card', id: 'forbidden'}, msg(e.message)));
      return;
    }
    mount(h('h1', {}, t('Có lỗi', 'Something went wrong')), h('div', {class: 'card'}, e.message ? msg(e.message) : String(e)));
  }

  // ---- forms generated from schemas ----
  const visible = (f) => !f.system && !f.computed;

  // The typed text of a value, as an officer would type it.
  function typedOf(f, v) {
    if (v === null || v === undefined) return '';
    if (f.type === 'date') return date(v);
    if (f.type === 'bool') return v ? 'yes' : 'no';
    if (f.type === 'multichoice') return Array.isArray(v) ? v.join(',') : String(v);
    if (f.type === 'integer') return String(v);
    // A decimal comma, as the core reads typed numbers: "2.125" would be two
    // thousand one hundred and twenty-five.
    if (f.type === 'number') return String(v).replace('.', ',');
    return String(v);
  }
  // A displayed value: choices by label, dates dd/mm/yyyy, numbers grouped.
  function display(f, v) {
    if (v === null || v === undefined || v === '') return '';
    if (f.type === 'date') return date(v);
    if (f.type === 'bool') return v ? t('Có', 'Yes') : t('Không', 'No');
    if (f.type === 'choice') {
      const c = (f.choices || []).find((c) => c.value === v);
      return c ? L(c.label) : String(v);
    }
    if (f.type === 'multichoice')
      return (v || []).map((x) => display(Object.assign({}, f, {type: 'choice'}), x)).join(', ');
    // Years and codes as written (2026, not 2.026).
    if (f.type === 'integer') return /year|code/.test(f.key) ? String(v) : number(v, 0);
    if (f.type === 'number') return f.key.includes('ratio') ? pct(v) : number(v, 6);
    if (f.type === 'list') {
      const n = Array.isArray(v) ? v.length : 0;
      return f.items_label ? n + ' ' + L(f.items_label) : L(f.label) + ' (' + n + ')';
    }
    return String(v);
  }

  // A value as history keeps it (JSON text) in words: "(trống)" for none,
  // labels, dates, numbers, lists counted. Both faces' history tables use it.
  // `statusName` names a status ("submitted" -> "Đã tiếp nhận").
  function historyValue(schema, field, text, statusName) {
    if (text === '' || text === null || text === undefined) return t('(trống)', '(empty)');
    let v;
    try { v = JSON.parse(text); } catch (e) { return String(text); }
    if (v === null) return t('(trống)', '(empty)');
    if (field === '_deleted') return v ? t('đã xoá', 'deleted') : t('còn', 'kept');
    if (field === 'status' && statusName) return statusName(v);
    const f = schema && (schema.fields || []).find((x) => x.key === field);
    if (f) return display(f, v);
    return typeof v === 'string' ? v : JSON.stringify(v);
  }
  // A change's kind in words (the server's audit kinds, the device's own).
  function changeKind(kind) {
    return ({create: t('tạo phiếu', 'created'), update: t('sửa', 'edited'), apply: t('sửa', 'edited'),
      delete: t('xoá', 'deleted'), conflict: t('xung đột', 'conflict'), resolve: t('xử lý xung đột', 'conflict resolved'),
      local: t('ghi trên máy này', 'recorded on this device')})[kind] || kind;
  }

  // One input for a field. Numbers stay text so that "1.500.000" is accepted
  // as the command line accepts it; the server checks every value.
  function input(f, value, id) {
    const common = {id, name: f.key, 'aria-describedby': id + '-err'};
    if (f.type === 'choice') {
      return h('select', common, h('option', {value: ''}, '—'),
        (f.choices || []).map((c) => h('option', {value: c.value, selected: c.value === value}, L(c.label))));
    }
    if (f.type === 'bool') {
      return h('select', common, h('option', {value: ''}, '—'),
        h('option', {value: 'yes', selected: value === true}, t('Có', 'Yes')),
        h('option', {value: 'no', selected: value === false}, t('Không', 'No')));
    }
    if (f.type === 'multichoice') {
      const chosen = new Set(Array.isArray(value) ? value : []);
      const box = h('div', {id, class: 'multi', role: 'group'});
      for (const c of f.choices || [])
        box.append(h('label', {style: null}, h('input', {type: 'checkbox', value: c.value, checked: chosen.has(c.value)}), ' ', L(c.label), ' '));
      return box;
    }
    if (f.multiline) return h('textarea', Object.assign({maxlength: f.max_length || null}, common), value ? String(value) : '');
    const attrs = Object.assign({type: 'text', value: typedOf(f, value), maxlength: f.max_length || null}, common);
    if (f.type === 'date') attrs.placeholder = 'dd/mm/yyyy';
    if (f.type === 'integer') attrs.inputmode = 'numeric';
    if (f.type === 'number') attrs.inputmode = 'decimal';
    if (f.pattern === 'phone') attrs.inputmode = 'tel';
    if (f.pattern === 'hh_mm') attrs.placeholder = 'hh:mm';
    return h('input', attrs);
  }
  function readInput(f, el) {
    if (f.type === 'multichoice') return [...el.querySelectorAll('input:checked')].map((c) => c.value).join(',');
    return el.value;
  }
  function limits(f) {
    const parts = [];
    if (f.min !== undefined && f.max !== undefined) parts.push(`${number(f.min)} – ${number(f.max)}`);
    else if (f.min !== undefined) parts.push('≥ ' + number(f.min));
    else if (f.max !== undefined) parts.push('≤ ' + number(f.max));
    if (f.max_length) parts.push(t(`tối đa ${f.max_length} ký tự`, `at most ${f.max_length} characters`));
    if (f.type === 'date') parts.push('dd/mm/yyyy');
    return parts.join(' · ');
  }

  // A list field (e.g. the materials of a confirmation) edited as table rows.
  function rowsEditor(f, items, onChange) {
    const body = h('tbody');
    const sub = f.item_fields.filter(visible);
    function addRow(item) {
      const cells = sub.map((s) => {
        const el = input(s, item ? item[s.key] : null, `${f.key}-${body.children.length}-${s.key}`);
        el.setAttribute('aria-label', L(s.label));
        el.addEventListener('input', onChange);
        el.addEventListener('change', onChange);
        return h('td', {'data-key': s.key}, el);
      });
      const tr = h('tr', {}, cells, h('td', {}, h('button', {type: 'button', class: 'danger remove-row', title: t('Xoá dòng', 'Remove row'),
        onclick: () => { tr.remove(); onChange(); }}, '✕')));
      body.append(tr);
    }
    (items || []).forEach(addRow);
    const node = h('div', {class: 'rows', id: f.key},
      h('div', {class: 'scroll'}, h('table', {class: 'list'},
        h('thead', {}, h('tr', {}, sub.map((s) => h('th', {}, L(s.label), s.required ? h('span', {class: 'req'}, '*') : null)), h('th'))),
        body)),
      h('button', {type: 'button', class: 'add-row', onclick: () => { addRow(null); onChange(); body.lastChild.querySelector('input,select').focus(); }},
        '+ ', t('Thêm dòng', 'Add row')));
    // Numbers go as numbers (the server checks them); what is not a number goes
    // as typed, so the server's message names it.
    node.read = () => [...body.children].map((tr) => {
      const o = {};
      sub.forEach((s) => {
        const el = tr.querySelector(`td[data-key="${s.key}"] > *`);
        let v = readInput(s, el).trim();
        if (v === '') return;
        if (s.type === 'integer' || s.type === 'number') {
          const n = Number(s.type === 'integer' ? v.replace(/[.\s_]/g, '') : v.replace(',', '.'));
          if (!Number.isNaN(n)) v = n;
        }
        o[s.key] = v;
      });
      return o;
    });
    return node;
  }

  // The criteria sheets (forms JSON's "criteria"), for score sheets.
  let criteria = {};
  function setCriteria(c) { criteria = c || {}; }
  // Earlier versions of forms (forms JSON's "older"): a record is shown and
  // edited with the version it was written with (its fields' form_version);
  // one newer than this device holds is shown with the newest it has.
  let olderForms = {};
  function setOlderForms(list) {
    olderForms = {};
    for (const s of list || []) olderForms[s.form + '@' + s.version] = s;
  }
  const schemaOf = (forms, r) => olderForms[r.form + '@' + ((r.fields && r.fields.form_version) || 1)] || forms[r.form];
  // A record written with a version of its form this device has not fetched
  // yet: shown, not edited, with what to do about it.
  const newerThanHeld = (forms, r) => !!forms[r.form] && ((r.fields && r.fields.form_version) || 1) > forms[r.form].version;
  const syncForNewerForm = () => h('p', {class: 'rule', id: 'newer-form'},
    t('Phiếu này được ghi theo mẫu phiếu mới hơn mẫu máy đang có: hãy đồng bộ để nhận mẫu mới rồi sửa.',
      'This record was written with a newer version of its form than this device holds: sync to fetch it, then edit.'));

  // An evaluation's scores laid out as the paper sheet: one row per criterion
  // with its allowed scores; the criteria the confirmation decides are shown,
  // not chosen (the device fills them). Rows keep their item ids, so an edit
  // of one criterion merges as that item. `sheetOf` gives the chosen sheet id.
  function sheetEditor(f, items, onChange, sheetOf) {
    const byCode = {};
    for (const it of items || []) byCode[it.criterion] = it;
    const box = h('div', {class: 'sheet', id: f.key});
    const total = h('p', {class: 'muted', id: 'sheet-total'});
    let selects = {};
    function sum() {
      let s = 0;
      for (const sel of Object.values(selects)) if (sel.value !== '') s += Number(sel.value);
      total.textContent = t('Tổng điểm (chưa tính tiêu chí từ phiếu xác nhận): ', 'Total (before the criteria from the confirmation): ') + s;
    }
    function render() {
      const sheet = criteria[sheetOf()];
      selects = {};
      if (!sheet) {
        box.replaceChildren(h('p', {class: 'muted'}, t('Chọn bộ tiêu chí trước.', 'Choose the criteria sheet first.')));
        return;
      }
      box.replaceChildren(...sheet.parts.map((p) => h('div', {class: 'scroll'}, h('table', {class: 'list'},
        h('thead', {}, h('tr', {}, h('th', {}, p.code), h('th', {}, L(p.label), ` (${p.max} ${t('điểm', 'points')})`), h('th', {class: 'num'}, t('Điểm', 'Points')))),
        h('tbody', {}, p.sections.flatMap((sec) => sec.criteria.map((c) => {
          const had = byCode[c.code];
          let cell;
          if (c.from) {
            cell = h('span', {class: 'muted', 'data-from': c.code},
              (had ? had.points + ' · ' : '') + t('tự động từ phiếu xác nhận', 'from the confirmation'));
          } else {
            const sel = h('select', {id: `score-${c.code}`, 'aria-label': c.code},
              h('option', {value: ''}, '—'),
              c.scores.map((v) => h('option', {value: String(v), selected: had && had.points === v}, String(v))));
            sel.addEventListener('change', () => { sum(); onChange(); });
            selects[c.code] = sel;
            cell = sel;
          }
          return h('tr', {}, h('td', {}, c.code), h('td', {}, L(c.label)), h('td', {class: 'num'}, cell));
        })))))), total);
      sum();
    }
    render();
    box.rerender = render;
    box.read = () => {
      const out = [];
      for (const [code, sel] of Object.entries(selects)) {
        if (sel.value === '') continue;
        const it = {criterion: code, points: Number(sel.value)};
        if (byCode[code] && byCode[code].item_id) it.item_id = byCode[code].item_id;
        out.push(it);
      }
      // The confirmation's criteria go back as they were; the device refills them anyway.
      for (const it of items || []) if (!selects[it.criterion]) out.push(it);
      return out;
    };
    return box;
  }

  // The editor of a whole form: one field per schema entry (labels, help,
  // required marks, limits), an error line beside each. values() gives what
  // was typed, keyed by field, for the API to check and store.
  function formEditor(schema, fields, onChange) {
    const inputs = {};
    const notify = () => onChange && onChange();
    const node = h('form', {class: 'card', novalidate: true, id: 'form-' + schema.form, onsubmit: (e) => e.preventDefault()});
    for (const f of schema.fields.filter(visible)) {
      const id = 'f-' + f.key;
      const sheet = schema.form === 'evaluation' && f.key === 'scores';
      const el = sheet ? sheetEditor(f, fields[f.key], notify, () => (inputs.sheet ? readInput(schema.fields.find((x) => x.key === 'sheet'), inputs.sheet) : ''))
        : f.type === 'list' ? rowsEditor(f, fields[f.key], notify) : input(f, fields[f.key], id);
      if (f.type !== 'list') {
        el.addEventListener('input', notify);
        el.addEventListener('change', notify);
      }
      inputs[f.key] = el;
      if (sheet && inputs.sheet) inputs.sheet.addEventListener('change', () => el.rerender());
      const lim = sheet ? '' : limits(f);
      node.append(h('div', {class: 'field', id: 'field-' + f.key},
        h('label', {for: id}, L(f.label), f.required ? h('span', {class: 'req', title: t('bắt buộc', 'required')}, '*') : null),
        el,
        f.help ? h('div', {class: 'help'}, L(f.help)) : null,
        lim ? h('div', {class: 'help'}, lim) : null,
        h('div', {class: 'error', id: id + '-err', 'aria-live': 'polite'})));
    }
    return {
      node, inputs,
      values() {
        const out = {};
        for (const f of schema.fields.filter(visible))
          out[f.key] = f.type === 'list' ? inputs[f.key].read() : readInput(f, inputs[f.key]);
        return out;
      },
      showError(field, message) {
        const box = node.querySelector('#field-' + CSS.escape(field));
        if (!box) return false;
        box.classList.add('invalid');
        box.querySelector('.error').textContent = message;
        return true;
      },
      clearError(field) {
        const box = node.querySelector('#field-' + CSS.escape(field));
        if (box) { box.classList.remove('invalid'); box.querySelector('.error').textContent = ''; }
      },
      clearErrors() { node.querySelectorAll('.field.invalid').forEach((b) => { b.classList.remove('invalid'); b.querySelector('.error').textContent = ''; }); },
    };
  }

  // A record's fields as a definition list (system and computed fields included).
  function recordView(schema, fields) {
    const dl = h('dl', {class: 'kv'});
    for (const f of schema.fields) {
      const v = fields[f.key];
      if (v === undefined || v === null || f.key === 'photos') continue;
      if (f.type === 'list') {
        // A list's table scrolls inside its box on a phone, not the page.
        dl.append(h('dt', {}, L(f.label)), h('dd', {}, h('div', {class: 'scroll'}, h('table', {class: 'list'},
          h('thead', {}, h('tr', {}, f.item_fields.map((s) => h('th', {}, L(s.label))))),
          h('tbody', {}, (v || []).map((it) => h('tr', {}, f.item_fields.map((s) => h('td', {}, display(s, it[s.key]))))))))));
        continue;
      }
      dl.append(h('dt', {}, L(f.label)), h('dd', {'data-field': f.key}, display(f, v)));
    }
    return dl;
  }

  // The language switch in the header.
  function langSwitch(onSwitch) {
    return h('select', {id: 'lang', 'aria-label': 'Ngôn ngữ / Language', onchange: (e) => { setLang(e.target.value); onSwitch(); }},
      h('option', {value: 'vi', selected: lang === 'vi'}, 'Tiếng Việt'),
      h('option', {value: 'en', selected: lang === 'en'}, 'English'));
  }

  document.documentElement.lang = lang;
  return {t, L, h, msg, pick, setCriteria, setOlderForms, schemaOf, newerThanHeld, syncForNewerForm, mount, toast, date, number, pct, api, setCsrf, router, showFailure, formEditor, recordView,
          display, historyValue, changeKind, langSwitch, setLang, get lang() { return lang; }};
})();
