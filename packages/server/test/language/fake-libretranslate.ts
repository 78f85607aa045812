/**
 * A small LibreTranslate on loopback for tests: its real routes and answer shapes
 * (`GET /languages`, `POST /translate`, `POST /detect`), a fixed dictionary, and switches that
 * make it misbehave like a real server can: hang, answer garbage, 500, 429, wrong shape.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export type FakeMode = 'ok' | 'hang' | 'garbage' | 'error500' | 'error429' | 'wrong-shape' | 'html';

const DICT: Record<string, Record<string, string>> = {
  'en>es': { hello: 'hola', 'good morning': 'buenos días', 'thank you': 'gracias' },
  'es>en': { hola: 'hello', gracias: 'thank you' },
  'en>de': { hello: 'hallo' },
};

export interface FakeLibreTranslate {
  readonly url: string;
  mode: FakeMode;
  apiKey?: string;
  /** Every /translate body received, in order. */
  readonly translateCalls: { q: string; source: string; target: string }[];
  close(): Promise<void>;
}

function send(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

export async function startFakeLibreTranslate(): Promise<FakeLibreTranslate> {
  const hanging = new Set<ServerResponse>();
  const state: FakeLibreTranslate = {
    url: '',
    mode: 'ok',
    translateCalls: [],
    close: async () => {
      for (const r of hanging) r.destroy();
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
  const server: Server = createServer((req, res) => {
    void (async () => {
      const body = await readBody(req);
      const path = (req.url ?? '').split('?', 1)[0];
      if (state.mode === 'hang') {
        hanging.add(res);
        return;
      }
      if (state.mode === 'garbage') {
        res.writeHead(200, { 'content-type': 'application/json' });
        return res.end('{"translatedText": "hol');
      }
      if (state.mode === 'html') {
        res.writeHead(502, { 'content-type': 'text/html' });
        return res.end('<html><body>Bad Gateway</body></html>');
      }
      if (state.mode === 'error500') return send(res, 500, { error: 'Internal Server Error' });
      if (state.mode === 'error429')
        return send(res, 429, { error: 'Too many request limits violations' });
      if (req.method === 'GET' && path === '/languages') {
        return send(res, 200, [
          { code: 'en', name: 'English', targets: ['es', 'de'] },
          { code: 'es', name: 'Spanish', targets: ['en'] },
          { code: 'de', name: 'German', targets: [] },
        ]);
      }
      let json: Record<string, string>;
      try {
        json = JSON.parse(body) as Record<string, string>;
      } catch {
        return send(res, 400, { error: 'Invalid request: missing q parameter' });
      }
      if (state.apiKey !== undefined && json.api_key !== state.apiKey)
        return send(res, 403, { error: 'Invalid API key' });
      if (req.method === 'POST' && path === '/translate') {
        const q = String(json.q ?? '');
        let source = String(json.source ?? '');
        const target = String(json.target ?? '');
        state.translateCalls.push({ q, source, target });
        if (state.mode === 'wrong-shape') return send(res, 200, { translation: q });
        let detected: { confidence: number; language: string } | undefined;
        if (source === 'auto') {
          source = /^(hola|gracias)/i.test(q) ? 'es' : 'en';
          detected = { confidence: 90, language: source };
        }
        const dict = source === target ? {} : DICT[`${source}>${target}`];
        if (!dict) return send(res, 400, { error: `${target} is not supported` });
        const out = q
          .split(/([.!?] *)/)
          .map((part) => dict[part.toLowerCase()] ?? part)
          .join('');
        return send(
          res,
          200,
          detected ? { translatedText: out, detectedLanguage: detected } : { translatedText: out },
        );
      }
      send(res, 404, { error: 'Not Found' });
    })();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.address() as AddressInfo).port;
  return Object.assign(state, { url: `http://127.0.0.1:${port}` });
}
