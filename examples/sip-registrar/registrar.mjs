// A SIP registrar (RFC 3261 §10.3) on @tfx/sip alone: no server package, no config file.
//   node examples/sip-registrar/registrar.mjs [port]       (npm run build first)
// It binds UDP and TCP on 127.0.0.1, stores bindings in memory, answers REGISTER with the
// contacts bound, OPTIONS with 200, and anything else with 405. Prints `listening <port>`.
import { SipStack, formatUri } from '@tfx/sip';

const port = Number(process.argv[2] ?? 0);
/** AOR → Map(contact URI → expiry time in ms). */
const bindings = new Map();

function register(request, now) {
  const to = request.headers.to();
  if (!to || to.uri.kind !== 'sip') return { status: 400, reason: 'Bad To' };
  const aor = `sip:${to.uri.user ?? ''}@${to.uri.host}`;
  const bound = bindings.get(aor) ?? new Map();
  const defaultExpires = request.headers.expires() ?? 3600;
  for (const c of request.headers.contact()) {
    // §10.3 step 6: "*" removes every binding (only with Expires: 0).
    if (c.star) bound.clear();
    else {
      const seconds = Math.min(c.expires ?? defaultExpires, 3600);
      if (seconds === 0) bound.delete(formatUri(c.uri));
      else bound.set(formatUri(c.uri), now + seconds * 1000);
    }
  }
  bindings.set(aor, bound);
  // §10.3 step 8: the 200 lists every current binding with its remaining time.
  const headers = [];
  for (const [uri, until] of bound) {
    if (until > now)
      headers.push(['Contact', `<${uri}>;expires=${Math.ceil((until - now) / 1000)}`]);
  }
  return { status: 200, headers };
}

const stack = new SipStack({
  domain: '127.0.0.1',
  serverHeader: 'tfx-example-registrar',
  tu: {
    onRequest({ request, transaction }) {
      if (!transaction) return; // an ACK for a 2xx: nothing to answer
      let answer = { status: 405, headers: [['Allow', 'REGISTER, OPTIONS']] };
      if (request.method === 'REGISTER') answer = register(request, stack.clock.now());
      else if (request.method === 'OPTIONS') answer = { status: 200 };
      const response = stack.response(request, answer.status, answer.reason, answer.headers);
      transaction.respond(response);
    },
  },
});

const listeners = await stack.start([
  { transport: 'udp', address: '127.0.0.1', port },
  { transport: 'tcp', address: '127.0.0.1', port },
]);
process.stdout.write(`listening ${listeners[0].port}\n`);

for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => void stack.close().then(() => process.exit(0)));
}
