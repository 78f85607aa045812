/**
 * How the platform serves the web app: HTTP/2 over TLS (a page's requests share one connection),
 * HTTP/1.1 for clients that do not offer h2 and for WebSocket upgrades (socket.io) on the same
 * port, and a CSP that lets room.html's inline boot script run by its hash and nothing else
 * inline (docs/benchmarks.md, "Call"). A real platform on port 0 with a small web root.
 */
import { createHash } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { connect, type ClientHttp2Session } from 'node:http2';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inlineScriptHashes } from '../../src/platform.js';
import { startTestPlatform, type TestPlatform } from './harness.js';

const BOOT = '(()=>{globalThis.booted=1})()';
const ROOM_HTML = `<!doctype html><html><head><title>t</title><script>${BOOT}</script>
<script type="module" src="/assets/room.js"></script></head><body></body></html>`;
const sha = (s: string) => `'sha256-${createHash('sha256').update(s, 'utf8').digest('base64')}'`;

describe('inlineScriptHashes', () => {
  it('hashes the text of inline classic scripts, as served', () => {
    expect(inlineScriptHashes(ROOM_HTML)).toEqual([sha(BOOT)]);
    // Checked by hand: printf a | openssl dgst -sha256 -binary | base64
    expect(inlineScriptHashes('<script>a</script>')).toEqual([
      "'sha256-ypeBEsobvcr6wjGzmiPcTaeG7/gUfE5yuYB3ha/uSLs='",
    ]);
  });

  it('skips scripts with a src, empty ones, and finds several', () => {
    expect(inlineScriptHashes('<script src="/x.js"></script><script></script>')).toEqual([]);
    expect(
      inlineScriptHashes('<SCRIPT type="text/javascript">b</SCRIPT >\n<script>c</script>'),
    ).toEqual([sha('b'), sha('c')]);
    expect(inlineScriptHashes('no scripts; <scripts>x</scripts>')).toEqual([]);
  });
});

describe('the web app over HTTP/2 and HTTP/1.1', () => {
  let web: string;
  let t: TestPlatform;
  const sessions: ClientHttp2Session[] = [];

  beforeAll(async () => {
    web = await mkdtemp(join(tmpdir(), 'tfx-web-'));
    await writeFile(join(web, 'index.html'), '<!doctype html><title>home</title>');
    await writeFile(join(web, 'room.html'), ROOM_HTML);
    t = await startTestPlatform({ webRoot: web });
  });
  afterAll(async () => {
    for (const s of sessions) s.destroy();
    await t?.close();
    await rm(web, { recursive: true, force: true });
  });

  const h2get = (path: string) =>
    new Promise<{ status: number; headers: Record<string, unknown>; body: string }>(
      (resolve, reject) => {
        const session = connect(t.base, { rejectUnauthorized: false });
        sessions.push(session);
        session.on('error', reject);
        const req = session.request({ ':path': path });
        let headers: Record<string, unknown> = {};
        let body = '';
        req.on('response', (h) => (headers = h));
        req.setEncoding('utf8');
        req.on('data', (c: string) => (body += c));
        req.on('end', () => {
          session.close();
          resolve({ status: Number(headers[':status']), headers, body });
        });
        req.on('error', reject);
        req.end();
      },
    );

  it('serves the call page over HTTP/2 with its inline boot script allowed by hash', async () => {
    const res = await h2get('/r/some-room');
    expect(res.status).toBe(200);
    expect(res.body).toContain(`<script>${BOOT}</script>`);
    const csp = String(res.headers['content-security-policy']);
    const scriptSrc = /script-src ([^;]*)/.exec(csp)?.[1] ?? '';
    expect(scriptSrc.split(' ')).toEqual(["'self'", "'wasm-unsafe-eval'", sha(BOOT)]);
    // No inline script is allowed wholesale.
    expect(csp).not.toMatch(/script-src[^;]*'unsafe-inline'/);
  });

  it('serves HTTP/1.1 clients on the same port', async () => {
    const res = await t.req('GET', '/r/some-room', { token: '' });
    expect(res.status).toBe(200);
    expect(res.text).toContain(`<script>${BOOT}</script>`);
    expect(String(res.headers['content-security-policy'])).toContain(sha(BOOT));
  });

  it('upgrades WebSockets (socket.io) on the same port and answers the join', async () => {
    const { client, result } = await t.join('h2-room', 'alice');
    expect(result.peers).toEqual([]);
    client.close();
  });

  it('answers an unknown path with the catalogue error over HTTP/2', async () => {
    const res = await h2get('/no/such/page');
    expect(res.status).toBe(404);
    expect(JSON.parse(res.body)).toMatchObject({ error: { code: 'not-found' } });
  });

  it("keeps the client's address for hooks that run once an HTTP/2 request is answered", async () => {
    const seen: Array<string | undefined> = [];
    const other = await startTestPlatform({
      webRoot: web,
      modules: [
        {
          name: 'ip-probe',
          setup(ctx) {
            ctx.app.addHook('onResponse', async (req) => {
              if (req.url === '/r/probe') seen.push(req.ip);
            });
          },
          close() {},
        },
      ],
    });
    try {
      const session = connect(other.base, { rejectUnauthorized: false });
      sessions.push(session);
      await new Promise<void>((resolve, reject) => {
        const req = session.request({ ':path': '/r/probe' });
        req.on('error', reject);
        req.resume();
        req.on('end', () => resolve());
        req.end();
      });
      await new Promise((r) => setTimeout(r, 50));
      expect(seen).toEqual(['127.0.0.1']);
    } finally {
      await other.close();
    }
  });

  it('closes with an HTTP/2 session still open', async () => {
    const other = await startTestPlatform({ webRoot: web });
    const session = connect(other.base, { rejectUnauthorized: false });
    sessions.push(session);
    await new Promise<void>((resolve, reject) => {
      session.once('connect', () => resolve());
      session.once('error', reject);
    });
    const closed = new Promise<void>((resolve) => session.once('close', () => resolve()));
    await other.close();
    await closed;
  });
});
