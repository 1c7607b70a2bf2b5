// The CalDAV client (src/mailbox/caldav/) and the Radicale harness the issue 8 tests share, against a real Radicale
// and real TLS/TCP servers: the per-host concurrency cap, kill/restart with storage kept, redirects, namespaces,
// timeouts and certificate failures, each a one-line DavError.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import net from 'node:net';
import https from 'node:https';
import { spawn, spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { RADICALE_SKIP, RadicaleServer } from './helpers/radicale.js';
import { DavClient, DavError, limiterFor, NS, parseMultistatus } from '../src/mailbox/caldav/index.js';

const PW = { alice: `alice-${randomUUID()}` };

describe('Radicale harness', () => {
  it('says why it skips when Radicale is missing, and fails instead with MMS_REQUIRE_ALL=1', () => {
    const probe = `import('./test/helpers/radicale.ts').then((m) => console.log(m.RADICALE_SKIP))`;
    const run = (env: Record<string, string>) => spawnSync(process.execPath, ['--import', 'tsx', '-e', probe], { cwd: path.resolve(import.meta.dirname, '..'), env: { ...process.env, MMS_RADICALE_BIN: '/nonexistent/radicale', ...env }, encoding: 'utf8' });
    const skip = run({ MMS_REQUIRE_ALL: '0' });
    assert.equal(skip.status, 0, skip.stderr);
    assert.equal(skip.stdout.trim(), 'Radicale is not installed at /nonexistent/radicale; install the Debian package radicale (apt-get install radicale) or set MMS_RADICALE_BIN');
    const strict = run({ MMS_REQUIRE_ALL: '1' });
    assert.notEqual(strict.status, 0);
    assert.match(strict.stderr, /MMS_REQUIRE_ALL=1 but Radicale is not installed at \/nonexistent\/radicale/);
  });
});

describe('CalDAV client', { skip: RADICALE_SKIP }, () => {
  let server: RadicaleServer;
  before(async () => {
    server = await RadicaleServer.start([{ name: 'alice', password: PW.alice }]);
    await server.makeCalendar('alice', 'work', 'Work');
  });
  after(async () => {
    await server?.dispose();
  });

  it('never runs more requests at once against a host than its limit', async () => {
    const limiter = limiterFor(`${server.url}#test`, 2);
    const client = new DavClient({ userName: 'alice', password: PW.alice, limiter });
    const all = await Promise.all(Array.from({ length: 12 }, () => client.propfind(`${server.url}/alice/work/`, '0', [[NS.DAV, 'displayname']])));
    assert.equal(all.length, 12);
    assert.equal(limiter.peak, 2);
  });

  it('the harness kills and restarts Radicale on the same port with its storage kept; while it is down a request is refused (transient)', async () => {
    const client = new DavClient({ userName: 'alice', password: PW.alice });
    const name = async () => (await client.propfind(`${server.url}/alice/work/`, '0', [[NS.DAV, 'displayname']])).resources[0]?.props.get('DAV:|displayname')?.text;
    assert.equal(await name(), 'Work');
    await server.kill();
    const down = await name().then(() => undefined, (e: unknown) => e);
    assert.ok(down instanceof DavError);
    assert.equal(down.kind, 'Refused');
    assert.equal(down.transient, true);
    await server.start();
    assert.equal(await name(), 'Work');
    await server.restart();
    assert.equal(await name(), 'Work');
  });

  it('follows a redirect with the credentials, but not from https down to plain http', async () => {
    const certDir = fs.mkdtempSync(path.join(os.tmpdir(), 'mms-tls-'));
    const cert = path.join(certDir, 'cert.pem');
    const made = spawnSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', path.join(certDir, 'key.pem'), '-out', cert]);
    assert.equal(made.status, 0, String(made.stderr));
    const seen: string[] = [];
    const tls = https.createServer({ key: fs.readFileSync(path.join(certDir, 'key.pem')), cert: fs.readFileSync(cert) }, (q, s) => {
      seen.push(q.url ?? '');
      s.writeHead(301, { location: q.url === '/same/' ? '/other/' : `${server.url}/` }).end();
    });
    await new Promise<void>((r) => tls.listen(0, '127.0.0.1', r));
    const base = `https://127.0.0.1:${(tls.address() as net.AddressInfo).port}`;
    // A child process, because only NODE_EXTRA_CA_CERTS (read at start) makes fetch trust the test's certificate.
    const probe = `const { DavClient } = await import('./src/mailbox/caldav/index.ts');
      const c = new DavClient({ userName: 'alice', password: process.env.PW });
      console.log(await c.propfind(process.env.TARGET, '0', [['DAV:', 'current-user-principal']]).then(() => 'ok', (e) => e.kind + ' ' + e.message));`;
    try {
      const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', probe], { cwd: path.resolve(import.meta.dirname, '..'), env: { ...process.env, NODE_EXTRA_CA_CERTS: cert, PW: PW.alice, TARGET: `${base}/.well-known/caldav` }, stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      let err = '';
      child.stdout.on('data', (d) => { out += d; });
      child.stderr.on('data', (d) => { err += d; });
      const code = await new Promise((r) => child.once('exit', r));
      assert.equal(code, 0, err);
      assert.equal(out.trim(), `Protocol PROPFIND ${base}/.well-known/caldav redirects to ${server.url}/, plain http: refused, the password would travel unencrypted; fix the server's redirect or give its https URL`);
      assert.deepEqual(seen, ['/.well-known/caldav']);
    } finally {
      tls.closeAllConnections();
      tls.close();
      fs.rmSync(certDir, { recursive: true, force: true });
    }
  });

  it('reads properties whatever prefixes the server chose (namespaces resolved, not prefixes)', () => {
    const body = `<?xml version="1.0"?><d:multistatus xmlns:d="DAV:"><d:response><d:href>/cal/x/</d:href>
      <d:propstat><d:prop><d:resourcetype><d:collection/><calendar xmlns="urn:ietf:params:xml:ns:caldav"/></d:resourcetype>
      <d:displayname>A &amp; B</d:displayname><x:calendar-home-set xmlns:x="urn:ietf:params:xml:ns:caldav"><d:href>/home/</d:href></x:calendar-home-set></d:prop>
      <d:status>HTTP/1.1 200 OK</d:status></d:propstat>
      <d:propstat><d:prop><d:getetag/></d:prop><d:status>HTTP/1.1 404 Not Found</d:status></d:propstat></d:response></d:multistatus>`;
    const [r] = parseMultistatus(body, 'https://dav.example.net/base/');
    assert.equal(r?.url, 'https://dav.example.net/cal/x/');
    assert.equal(r?.props.get(`DAV:|displayname`)?.text, 'A & B');
    assert.ok(r?.props.get('DAV:|resourcetype')?.children.some((c) => c.ns === NS.CALDAV && c.name === 'calendar'));
    assert.equal(r?.props.has('DAV:|getetag'), false); // 404 propstat: not found
    assert.equal(r?.props.get(`${NS.CALDAV}|calendar-home-set`)?.children[0]?.text, '/home/');
  });

  it('a server that never answers times out with one line; a self-signed certificate is a TLS line', async () => {
    const sockets: net.Socket[] = [];
    const silent = net.createServer((c) => { sockets.push(c); }); // accepts and stays silent
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    const port = (silent.address() as net.AddressInfo).port;
    try {
      const err = await new DavClient({ timeoutMs: 200 }).propfind(`http://127.0.0.1:${port}/`, '0', [[NS.DAV, 'current-user-principal']]).then(() => undefined, (e: unknown) => e);
      assert.ok(err instanceof DavError);
      assert.equal(err.kind, 'Timeout');
      assert.equal(err.message, `PROPFIND http://127.0.0.1:${port}/ got no answer within 0.2 s: the server is slow or unreachable; check the URL and the server, or try again later`);
      assert.equal(err.transient, true);
    } finally {
      silent.close();
      for (const c of sockets) c.destroy();
    }
    const certDir = fs.mkdtempSync(path.join(os.tmpdir(), 'mms-tls-'));
    const made = spawnSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1', '-subj', '/CN=localhost', '-keyout', path.join(certDir, 'key.pem'), '-out', path.join(certDir, 'cert.pem')]);
    assert.equal(made.status, 0, String(made.stderr));
    const tls = https.createServer({ key: fs.readFileSync(path.join(certDir, 'key.pem')), cert: fs.readFileSync(path.join(certDir, 'cert.pem')) }, (_q, s) => s.end());
    await new Promise<void>((r) => tls.listen(0, '127.0.0.1', r));
    try {
      const tport = (tls.address() as net.AddressInfo).port;
      const err = await new DavClient().request('OPTIONS', `https://127.0.0.1:${tport}/`).then(() => undefined, (e: unknown) => e);
      assert.ok(err instanceof DavError);
      assert.equal(err.kind, 'Tls');
      assert.match(err.message, /^OPTIONS https:\/\/127\.0\.0\.1:\d+\/: TLS failed \(DEPTH_ZERO_SELF_SIGNED_CERT\): the server's certificate is not trusted for this name; fix the certificate or point NODE_EXTRA_CA_CERTS at its CA$/);
    } finally {
      tls.closeAllConnections();
      tls.close();
      fs.rmSync(certDir, { recursive: true, force: true });
    }
  });
});
