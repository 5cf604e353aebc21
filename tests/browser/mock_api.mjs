// node mock_api.mjs PORT — a stand-in for `jailctl serve` speaking the API contract
// (docs/API.md) over plain HTTP, serving src/console/ with the same headers. For working on
// the console without root or jails; the real test is console.sh against the real serve.
import http from 'node:http';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const consoleDir = path.join(here, '../../src/console');
const port = Number(process.argv[2] ?? 8080);
const tokens = { 'admin-token': { name: 'alice', role: 'admin' }, 'viewer-token': { name: 'night', role: 'viewer' },
  'operator-token': { name: 'desk', role: 'operator' } };
const jails = new Map();
const tasks = new Map();
const now = () => new Date().toISOString();
let taskCounter = 0;

function jailObject(j) {
  return { domain: j.domain, ip: j.ip, state: j.state, size_bytes: j.size, used_bytes: 9 << 20,
    ftp_user: j.domain.replace(/\./g, ''), created: j.created, reason: j.reason ?? null,
    limits: { memory_bytes: 256 << 20, cpus: 1, pids: 512 }, usage: { memory_bytes: j.state === 'running' ? 23 << 20 : 0, pids: 7 },
    services: j.state === 'running' ? [{ name: 'nginx', state: 'running', restarts: 0 }, { name: 'vsftpd', state: 'running', restarts: 0 }] : [] };
}

function startTask(verb, domain, stepNames, finish, failAt) {
  const id = `t${++taskCounter}`;
  const task = { id, verb, domain, state: 'running', started: now(), ended: null, steps: [], result: null, error: null,
    log: `/var/lib/jailctl/log/${domain}/20261203T040000Z-${verb}.log`, listeners: new Set() };
  tasks.set(id, task);
  const emit = (event, data) => { for (const l of task.listeners) l(event, data); };
  let i = 0;
  const next = () => {
    if (i > 0) {
      const prev = task.steps[i - 1];
      prev.end = now(); prev.ms = 150 + i; prev.status = stepNames[i - 1] === failAt ? 'failed' : 'ok';
      emit('step', { ...prev });
      if (prev.status === 'failed') {
        task.state = 'ko'; task.ended = now(); task.error = { step: prev.name, message: 'mkfs.ext4 exited 1: No space left on device' };
        emit('done', view(task)); return;
      }
    }
    if (i === stepNames.length) {
      task.state = 'ok'; task.ended = now(); task.result = finish();
      emit('done', view(task)); return;
    }
    const step = { name: stepNames[i], status: 'running', start: now(), end: null, ms: null };
    task.steps.push(step); emit('step', { ...step }); i++;
    setTimeout(next, 300);
  };
  setTimeout(next, 100);
  return id;
}
const view = (t) => { const { listeners, ...rest } = t; return JSON.parse(JSON.stringify(rest)); };

function send(res, status, body, headers = {}) {
  res.writeHead(status, { 'Content-Type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
}
const fail = (res, status, message, field = null) => send(res, status, { error: { field, message } });

const server = http.createServer(async (req, res) => {
  const url = new URL(req.url, 'http://x');
  const p = url.pathname;
  if (req.method === 'POST' && p.startsWith('/mock/revoke/')) {  // the test's `jailctl token remove`
    delete tokens[decodeURIComponent(p.slice('/mock/revoke/'.length))];
    return send(res, 200, {});
  }
  if (!p.startsWith('/api/')) {
    const name = p === '/' ? 'index.html' : p.slice(1);
    const types = { html: 'text/html; charset=utf-8', js: 'text/javascript; charset=utf-8', css: 'text/css; charset=utf-8' };
    if (!/^[a-z_]+\.(html|js|css)$/.test(name) || !fs.existsSync(path.join(consoleDir, name))) return fail(res, 404, 'not found');
    res.writeHead(200, { 'Content-Type': types[name.split('.').pop()], 'Cache-Control': 'no-cache',
      'Content-Security-Policy': "default-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'; object-src 'none'" });
    return res.end(fs.readFileSync(path.join(consoleDir, name)));
  }
  const who = tokens[(req.headers.authorization ?? '').replace(/^Bearer /, '')];
  if (!who) return fail(res, 401, 'missing or unknown token');
  let body = {};
  if (req.method !== 'GET') {
    let text = '';
    for await (const chunk of req) text += chunk;
    if (text) body = JSON.parse(text);
    if (who.role === 'viewer') return fail(res, 403, `role viewer may not ${req.method} ${p}`);
  }
  const m = p.match(/^\/api\/v1\/(.*)$/)?.[1] ?? '';
  const parts = m.split('/').map(decodeURIComponent);
  if (m === 'whoami') return send(res, 200, who);
  if (m === 'jails' && req.method === 'GET') return send(res, 200, { jails: [...jails.values()].map(jailObject) });
  if (m === 'jails' && req.method === 'POST') {
    if (!/^[a-z0-9.-]+\.[a-z]+$/.test(body.domain ?? '')) return fail(res, 400, `invalid domain '${body.domain}': letters, digits, dots and dashes`, 'domain');
    if (jails.has(body.domain)) return fail(res, 409, `${body.domain} exists already`, 'domain');
    if (!/^\d+\.\d+\.\d+\.\d+$/.test(body.ip ?? '')) return fail(res, 400, `invalid IPv4 address '${body.ip}'`, 'ip');
    if (!/^\d+[MG]$/.test(body.size ?? '')) return fail(res, 400, `invalid size '${body.size}': a number and M or G`, 'size');
    const failAt = body.domain.startsWith('fail') ? 'create_disk' : null;
    const id = startTask('create', body.domain,
      ['validate', 'allocate_ip', 'create_disk', 'make_fs', 'mount_disk', 'populate_tree', 'certificate', 'configure_lxc', 'network', 'start', 'probe'],
      () => {
        jails.set(body.domain, { domain: body.domain, ip: body.ip, size: 64 << 20, state: 'running', created: now() });
        return { result: 'OK', domain: body.domain, ip: body.ip, ftp: { user: body.domain.replace(/\./g, ''), password: 'Xq7rTz9KpWm4NvB2hJc5', tls: 'required',
          fingerprint: 'AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89' } };
      }, failAt);
    return send(res, 202, { task: id });
  }
  if (parts[0] === 'jails' && parts.length >= 2) {
    const j = jails.get(parts[1]);
    if (!j) return fail(res, 404, `no jail ${parts[1]}`);
    if (parts.length === 2 && req.method === 'GET') return send(res, 200, jailObject(j));
    if (parts.length === 2 && req.method === 'DELETE') {
      if (who.role !== 'admin') return fail(res, 403, 'only admin may destroy');
      return send(res, 202, { task: startTask('destroy', j.domain, ['stop', 'remove_network', 'remove_disk', 'unregister'], () => { jails.delete(j.domain); return { result: 'OK' }; }) });
    }
    if (parts[2] === 'logs' && parts.length === 3) return send(res, 200, { logs: [
      { name: '20261203T040000Z-create.log', size: 5123, modified: '2026-12-03T04:00:09Z' },
      { name: '20261203T041000Z-stop.log', size: 612, modified: '2026-12-03T04:10:01Z' }] });
    if (parts[2] === 'logs' && parts.length === 4) {
      res.writeHead(200, { 'Content-Type': 'text/plain; charset=utf-8' });
      return res.end(`2026-12-03T04:00:00.001Z create ${j.domain} <b>not bold</b>\n2026-12-03T04:00:00.120Z step validate: ok (3 ms)\n${'x'.repeat(300)}\n`);
    }
    if (parts.length === 3 && req.method === 'POST') {
      const action = parts[2];
      if (action === 'grow' && !/^\d+[MG]$/.test(body.size ?? '')) return fail(res, 400, `invalid size '${body.size}'`, 'size');
      const effects = { start: () => { j.state = 'running'; }, stop: () => { j.state = 'stopped'; }, restart: () => {},
        test: () => ({ http: 'ok', ftp: 'ok' }), passwd: () => ({ ftp: { user: j.domain.replace(/\./g, ''), password: 'N3wPassw0rdXyzAbCdEf' } }),
        backup: () => ({ archive: `/var/lib/jailctl/backups/${j.domain}-20261203.tar.zst` }), grow: () => { j.size = 128 << 20; } };
      if (!effects[action]) return fail(res, 404, `no action ${action}`);
      return send(res, 202, { task: startTask(action, j.domain, ['validate', action], () => ({ result: 'OK', ...(effects[action]() ?? {}) })) });
    }
  }
  if (parts[0] === 'tasks' && parts.length >= 2) {
    const t = tasks.get(parts[1]);
    if (!t) return fail(res, 404, `no task ${parts[1]}`);
    if (parts.length === 2) return send(res, 200, view(t));
    if (parts[2] === 'events') {
      res.writeHead(200, { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-cache' });
      const write = (event, data) => {
        res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
        if (event === 'done') { t.listeners.delete(write); res.end(); }
      };
      for (const s of t.steps) write('step', s);
      if (t.state !== 'running') return write('done', view(t));
      t.listeners.add(write);
      return;
    }
  }
  fail(res, 404, `no such API path ${p}`);
});
server.listen(port, '127.0.0.1', () => console.log(`mock jailctl serve on http://127.0.0.1:${server.address().port}/`));
