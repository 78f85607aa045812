// A minimal socket.io relay: the reference TFX is measured against (bench/signalling).
// Rooms and unicast relay, nothing else: no validation, no limits, no store, no metrics.
// Usage: node bare-relay.mjs [--port 0] [--host 127.0.0.1]; prints {"ready":true,"port":N} on stdout.
import { createServer } from 'node:http';
import { Server } from 'socket.io';

const arg = (name, dflt) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : dflt;
};

const http = createServer();
const io = new Server(http, { transports: ['websocket'], serveClient: false });
// --redis URL: the plain scale-out reference — the same relay on @socket.io/redis-adapter (pub/sub),
// where a unicast `io.to(socketId)` is published to every process.
const redisUrl = arg('redis', '');
if (redisUrl) {
  const { default: Redis } = await import('ioredis');
  const { createAdapter } = await import('@socket.io/redis-adapter');
  const pub = new Redis(redisUrl);
  const sub = pub.duplicate();
  pub.on('error', (e) => process.stderr.write(`redis pub: ${e.message}\n`));
  sub.on('error', (e) => process.stderr.write(`redis sub: ${e.message}\n`));
  io.adapter(createAdapter(pub, sub));
}

io.on('connection', (socket) => {
  let room;
  socket.on('join', (req, ack) => {
    room = String(req?.room);
    const peers = [...(io.sockets.adapter.rooms.get(room) ?? [])];
    socket.join(room);
    socket.to(room).emit('peer-joined', { id: socket.id, name: req?.name });
    if (typeof ack === 'function')
      ack({ ok: true, peerId: socket.id, room, peers: peers.map((id) => ({ id })) });
  });
  socket.on('signal', (req) => {
    // Unicast: every socket is in a room named by its id.
    io.to(req.to).emit('signal', { from: socket.id, kind: req.kind, data: req.data });
  });
  socket.on('disconnect', () => {
    if (room) socket.to(room).emit('peer-left', { peerId: socket.id, reason: 'left' });
  });
});

http.listen(Number(arg('port', '0')), arg('host', '127.0.0.1'), () => {
  process.stdout.write(
    `${JSON.stringify({ ready: true, port: http.address().port, pid: process.pid })}\n`,
  );
});
const stop = () => io.close(() => process.exit(0));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
