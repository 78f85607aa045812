/**
 * The relay's own SRTP for RTP (src/webrtc/srtp-fast.ts) against an implementation it does not
 * share code with: werift's SrtpSession (node:crypto's AES-CTR, AES-GCM and HMAC per packet). The
 * same keys must give byte-identical SRTP both ways, across a sequence wrap, with CSRCs, a header
 * extension and padding; a flipped bit anywhere is refused and leaves the rollover state alone.
 */
import { createCipheriv, createHmac, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  ProtectionProfileAeadAes128Gcm,
  ProtectionProfileAes128CmHmacSha1_80,
  RtpPacket,
  SrtpSession,
} from 'werift';
import {
  Ghash,
  HmacSha1,
  REPLAY_WINDOW,
  SrtpAuthError,
  SrtpReplayError,
  SrtpRtpContext,
  type SrtpProfileName,
} from '../../src/webrtc/srtp-fast.js';

const PROFILES: [SrtpProfileName, number, number][] = [
  ['aes-cm-hmac-sha1-80', ProtectionProfileAes128CmHmacSha1_80, 14],
  ['aead-aes-128-gcm', ProtectionProfileAeadAes128Gcm, 12],
];

function pair(profile: number, saltLen: number): { a: SrtpSession; b: SrtpSession } {
  const k1 = randomBytes(16);
  const s1 = randomBytes(saltLen);
  const k2 = randomBytes(16);
  const s2 = randomBytes(saltLen);
  const keys = (lk: Buffer, ls: Buffer, rk: Buffer, rs: Buffer): SrtpSession =>
    new SrtpSession({
      keys: { localMasterKey: lk, localMasterSalt: ls, remoteMasterKey: rk, remoteMasterSalt: rs },
      profile: profile as never,
    });
  return { a: keys(k1, s1, k2, s2), b: keys(k2, s2, k1, s1) };
}

function contextOf(
  s: SrtpSession,
  side: 'local' | 'remote',
  name: SrtpProfileName,
): SrtpRtpContext {
  const c = side === 'local' ? s.localContext : s.remoteContext;
  return new SrtpRtpContext(name, {
    key: c.srtpSessionKey,
    salt: c.srtpSessionSalt,
    authKey: c.srtpSessionAuthTag,
  });
}

function rtp(seq: number, opts: { csrc?: number; ext?: number; payload?: number } = {}): Buffer {
  const cc = opts.csrc ?? 0;
  const ext = opts.ext;
  const hl = 12 + 4 * cc + (ext !== undefined ? 4 + 4 * ext : 0);
  const b = randomBytes(hl + (opts.payload ?? 160));
  b[0] = 0x80 | cc | (ext !== undefined ? 0x10 : 0);
  b[1] = 0;
  b.writeUInt16BE(seq & 0xffff, 2);
  b.writeUInt32BE(0xcafe0001, 8);
  if (ext !== undefined) {
    // RFC 8285 §4.2 one-byte elements (id 1, 2 bytes), then zero padding: werift re-serialises
    // the extension it parsed, so it must be well formed to compare bytes.
    const o = 12 + 4 * cc;
    b.writeUInt16BE(0xbede, o);
    b.writeUInt16BE(ext, o + 2);
    b.fill(0, o + 4, o + 4 + 4 * ext);
    b[o + 4] = 0x11;
    b[o + 5] = 0xab;
    b[o + 6] = 0xcd;
  }
  return b;
}

const wEncrypt = (s: SrtpSession, plain: Buffer): Buffer => {
  const p = RtpPacket.deSerialize(plain);
  return s.encrypt(p.payload, p.header);
};

describe('SRTP for RTP without a crypto object per packet (RFC 3711, RFC 7714)', () => {
  it('HMAC-SHA1 and GHASH match node:crypto on random inputs of every length up to 300 bytes', () => {
    const key = randomBytes(20);
    const h = new HmacSha1(key);
    const out = Buffer.alloc(20);
    for (let n = 0; n <= 300; n += 7) {
      const d = randomBytes(n);
      const roc = Math.floor(Math.random() * 2 ** 32);
      const r = Buffer.alloc(4);
      r.writeUInt32BE(roc);
      h.sign(d, 0, n, roc, out, 0, 20);
      expect(out.toString('hex')).toBe(createHmac('sha1', key).update(d).update(r).digest('hex'));
    }
    // GHASH through GCM's tag: E(K, J0) ⊕ GHASH(A, C), compared with node:crypto's AES-GCM.
    const k = randomBytes(16);
    const ecb = createCipheriv('aes-128-ecb', k, null).setAutoPadding(false);
    const g = new Ghash(ecb.update(Buffer.alloc(16)));
    for (const [an, cn] of [
      [12, 160],
      [20, 33],
      [0, 16],
      [16, 0],
      [28, 1],
    ] as const) {
      const iv = randomBytes(12);
      const a = randomBytes(an);
      const p = randomBytes(cn);
      const c = createCipheriv('aes-128-gcm', k, iv).setAAD(a);
      const ct = c.update(p);
      c.final();
      g.reset();
      g.update(a, 0, an);
      g.update(ct, 0, cn);
      g.lengths(an, cn);
      const j0 = ecb.update(Buffer.concat([iv, Buffer.from([0, 0, 0, 1])]));
      const tag = Buffer.alloc(16);
      for (let w = 0; w < 4; w++) tag.writeInt32BE((g.y[w]! ^ j0.readInt32BE(4 * w)) | 0, 4 * w);
      expect(tag.toString('hex')).toBe(c.getAuthTag().toString('hex'));
    }
  });

  for (const [name, profile, saltLen] of PROFILES) {
    it(`${name}: byte-identical to werift both ways, across a sequence wrap, with CSRCs and an extension`, () => {
      const { a, b } = pair(profile, saltLen);
      const mineOut = contextOf(a, 'local', name);
      const mineIn = contextOf(b, 'remote', name);
      let checked = 0;
      for (let i = 0; i < 400; i++) {
        const seq = 65400 + i; // wraps at 65536: the rollover counter moves to 1
        const opts = i % 3 === 0 ? { csrc: 2 } : i % 3 === 1 ? { ext: 1, payload: 33 } : {};
        const plain = rtp(seq, opts);
        const theirs = wEncrypt(a, plain);
        const ours = mineOut.protect(plain);
        expect(ours.toString('hex')).toBe(theirs.toString('hex'));
        expect(mineIn.unprotect(ours).toString('hex')).toBe(plain.toString('hex'));
        // werift decrypts what we made (its own receiving context keeps its own state).
        expect(b.decrypt(ours).toString('hex')).toBe(plain.toString('hex'));
        checked++;
      }
      expect(checked).toBe(400);
    });

    it(`${name}: a flipped bit in header, payload or tag is refused and leaves the context usable`, () => {
      const { a } = pair(profile, saltLen);
      const out = contextOf(a, 'local', name);
      const inn = new SrtpRtpContext(name, {
        key: a.localContext.srtpSessionKey,
        salt: a.localContext.srtpSessionSalt,
        authKey: a.localContext.srtpSessionAuthTag,
      });
      for (let seq = 1; seq < 40; seq++) {
        const plain = rtp(seq);
        const enc = out.protect(plain);
        for (const at of [1, 5, 11, 20, enc.length - 1]) {
          const bad = Buffer.from(enc);
          bad[at]! ^= 0x04;
          expect(() => inn.unprotect(bad)).toThrow(SrtpAuthError);
        }
        expect(() => inn.unprotect(enc.subarray(0, 11))).toThrow(SrtpAuthError);
        expect(inn.unprotect(enc).equals(plain)).toBe(true);
      }
    });

    it(`${name}: padding is encrypted with the payload and checked after authentication`, () => {
      const { a, b } = pair(profile, saltLen);
      const out = contextOf(a, 'local', name);
      const inn = contextOf(b, 'remote', name);
      const plain = rtp(7, { payload: 164 });
      plain[0]! |= 0x20;
      plain[plain.length - 1] = 4;
      expect(inn.unprotect(out.protect(plain)).equals(plain)).toBe(true);
      const wrong = rtp(8, { payload: 10 });
      wrong[0]! |= 0x20;
      wrong[wrong.length - 1] = 200; // more padding than payload
      expect(() => inn.unprotect(out.protect(wrong))).toThrow(SrtpAuthError);
    });

    it(`${name}: a replayed packet, or one older than the replay window, is refused (RFC 3711 §3.3.2)`, () => {
      const { a, b } = pair(profile, saltLen);
      const out = contextOf(a, 'local', name);
      const inn = contextOf(b, 'remote', name);
      const sent = new Map<number, Buffer>();
      // 200 packets across a sequence wrap, delivered out of order within the window.
      const seqs = Array.from({ length: 200 }, (_, i) => (65_436 + i) % 65_536);
      for (const seq of seqs) sent.set(seq, out.protect(rtp(seq)));
      const order = [...seqs];
      for (let i = 0; i + 1 < order.length; i += 7)
        [order[i], order[i + 1]] = [order[i + 1]!, order[i]!];
      for (const seq of order) expect(inn.unprotect(sent.get(seq)!).length).toBeGreaterThan(12);
      // Every one of them again: each a replay (the last 64) or too old (the rest); none relayed.
      let replays = 0;
      for (const seq of order) {
        expect(() => inn.unprotect(sent.get(seq)!)).toThrow(SrtpReplayError);
        try {
          inn.unprotect(sent.get(seq)!);
        } catch (e) {
          if ((e as Error).message.includes('replayed')) replays++;
        }
      }
      expect(replays).toBe(REPLAY_WINDOW);
      // A forged copy of a fresh packet is an authentication failure, and does not burn its index:
      // the genuine packet still goes through once, then is a replay.
      const fresh = out.protect(rtp(seqs.at(-1)! + 1));
      const forged = Buffer.from(fresh);
      forged[forged.length - 1]! ^= 1;
      expect(() => inn.unprotect(forged)).toThrow(SrtpAuthError);
      expect(() => inn.unprotect(forged)).not.toThrow(SrtpReplayError);
      expect(inn.unprotect(fresh).length).toBeGreaterThan(12);
      expect(() => inn.unprotect(fresh)).toThrow(SrtpReplayError);
      // A packet skipped inside the window is still accepted late.
      const skip = seqs.at(-1)! + 3;
      const later = out.protect(rtp(skip + 1));
      const skipped = out.protect(rtp(skip));
      expect(inn.unprotect(later).length).toBeGreaterThan(12);
      expect(inn.unprotect(skipped).length).toBeGreaterThan(12);
    });
  }
});
