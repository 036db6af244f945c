// The same forms through Yjs 13 and y-websocket 1.5 (an in-memory server, not
// durable), timed the way sync_bench times ocop: one device sends every form
// to the server, then a new device receives them all. Run by
// scripts/bench-peers.sh with the forms sync_bench wrote (--dump-forms).
//
//   node yjs_sync.js FORMS.jsonl
//
// The server runs in this process; the devices run in a child process, so the
// server's work and the devices' are on separate threads as with ocopd.
'use strict';
const fs = require('fs');
const http = require('http');
const { fork } = require('child_process');
const Y = require('yjs');

const role = process.argv[2];

if (role === '--device') {
  // ---- the devices ----
  const { WebsocketProvider } = require('y-websocket');
  const WebSocket = require('ws');
  const [,,, url, file] = process.argv;
  const forms = fs.readFileSync(file, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l));
  const wait = (cond) => new Promise((resolve) => {
    const t = setInterval(() => { if (cond()) { clearInterval(t); resolve(); } }, 1);
  });
  (async () => {
    // Device A: every form is a map of its fields, in one map of forms.
    const a = new Y.Doc();
    const aForms = a.getMap('forms');
    a.transact(() => {
      forms.forEach((f, i) => {
        const m = new Y.Map();
        for (const [k, v] of Object.entries(f)) m.set(k, v);
        aForms.set('form-' + i, m);
      });
    });
    let serverHas = 0;
    process.on('message', (m) => { serverHas = m.forms; });
    const t0 = process.hrtime.bigint();
    const pa = new WebsocketProvider(url, 'commune', a, { WebSocketPolyfill: WebSocket });
    await wait(() => serverHas >= forms.length);
    const push = Number(process.hrtime.bigint() - t0) / 1e9;
    // Device B: new, empty.
    const b = new Y.Doc();
    const t1 = process.hrtime.bigint();
    const pb = new WebsocketProvider(url, 'commune', b, { WebSocketPolyfill: WebSocket });
    await wait(() => pb.synced && b.getMap('forms').size >= forms.length);
    const pull = Number(process.hrtime.bigint() - t1) / 1e9;
    pa.destroy();
    pb.destroy();
    process.send({ push, pull, update_bytes: Y.encodeStateAsUpdate(a).length });
  })();
} else {
  // ---- the server (y-websocket's own, in memory) ----
  const file = process.argv[2];
  const { WebSocketServer } = require('ws');
  const utils = require('y-websocket/bin/utils');
  const server = http.createServer();
  const wss = new WebSocketServer({ server });
  let received = 0;  // bytes the server read from devices
  let sent = 0;
  wss.on('connection', (conn, req) => {
    conn.on('message', (m) => { received += m.byteLength || m.length || 0; });
    const send = conn.send.bind(conn);
    conn.send = (data, ...rest) => { sent += data.length; return send(data, ...rest); };
    utils.setupWSConnection(conn, req, { gc: true });
  });
  server.listen(0, '127.0.0.1', () => {
    const url = 'ws://127.0.0.1:' + server.address().port;
    const child = fork(__filename, ['--device', url, file]);
    const watch = setInterval(() => {
      const doc = utils.docs.get('commune');
      const n = doc ? doc.getMap('forms').size : 0;
      child.send({ forms: n });
    }, 1);
    child.on('message', (r) => {
      clearInterval(watch);
      const mem = process.memoryUsage().rss / 1048576;
      console.log(`yjs push ${r.push.toFixed(3)} s, pull ${r.pull.toFixed(3)} s, ` +
                  `bytes to server ${received}, from server ${sent}, update ${r.update_bytes} bytes, server RSS ${mem.toFixed(1)} MB`);
      child.kill();
      process.exit(0);
    });
  });
}
