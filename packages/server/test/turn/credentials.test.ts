import { describe, expect, it } from 'vitest';
import { createHmac } from 'node:crypto';
import { describeIce, mintIceServers, type IceConfig } from '../../src/turn/credentials.js';

const base = (turn: Partial<IceConfig['turn']> = {}, publicUrl?: string): IceConfig => ({
  turn: { secret: undefined, urls: [], ttl: 86_400, stun: { enabled: false, port: 3478 }, ...turn },
  server: { publicUrl },
});
const NOW = Date.UTC(2030, 0, 1, 12, 0, 0);

describe('mintIceServers', () => {
  it('returns no ICE servers when nothing is configured (LAN only)', () => {
    expect(mintIceServers(base(), 'p1', NOW)).toEqual([]);
    expect(describeIce(base())).toMatch(/LAN only/);
  });

  it('points at the built-in STUN responder on the public host when it is enabled', () => {
    const cfg = base({ stun: { enabled: true, port: 3479 } }, 'https://call.example.com:8443');
    expect(mintIceServers(cfg, 'p1', NOW)).toEqual([{ urls: ['stun:call.example.com:3479'] }]);
    expect(
      mintIceServers(cfg, 'p1', NOW, { publicUrl: 'https://[::1]:1', stunPort: 4000 }),
    ).toEqual([{ urls: ['stun:[::1]:4000'] }]);
  });

  it('mints TURN REST credentials: username "<unix expiry>:<peerId>", base64 HMAC-SHA1 credential, expiry now + ttl', () => {
    const cfg = base({
      secret: 's3cret-s3cret',
      ttl: 600,
      urls: [
        'stun:stun.example.com:3478',
        'turn:turn.example.com:3478?transport=udp',
        'turns:turn.example.com:443?transport=tcp',
      ],
    });
    const servers = mintIceServers(cfg, 'peer-42', NOW);
    const expiry = NOW / 1000 + 600;
    expect(servers).toEqual([
      { urls: ['stun:stun.example.com:3478'] },
      {
        urls: [
          'turn:turn.example.com:3478?transport=udp',
          'turns:turn.example.com:443?transport=tcp',
        ],
        username: `${expiry}:peer-42`,
        credential: createHmac('sha1', 's3cret-s3cret')
          .update(`${expiry}:peer-42`)
          .digest('base64'),
      },
    ]);
  });

  it('gives each peer and each moment its own credentials', () => {
    const cfg = base({ secret: 's3cret-s3cret', urls: ['turn:t.example.com'] });
    const a = mintIceServers(cfg, 'a', NOW)[0]!;
    const b = mintIceServers(cfg, 'b', NOW)[0]!;
    const a2 = mintIceServers(cfg, 'a', NOW + 5000)[0]!;
    expect(a.credential).not.toBe(b.credential);
    expect(a.username).not.toBe(a2.username);
  });

  it('hands out TURN URLs without credentials when no secret is set', () => {
    expect(mintIceServers(base({ urls: ['turn:t.example.com'] }), 'p', NOW)).toEqual([
      { urls: ['turn:t.example.com'] },
    ]);
  });
});
