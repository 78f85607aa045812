import { describe, expect, it } from 'vitest';
import { TfxError } from '@tfx/protocol';
import { computeHa1, nodeDigestHash } from '@tfx/sip';
import { loadConfig } from '../../src/config/index.js';
import { DIAL_OUT_TTL_MS, RoomDialOut, dialOutKey } from '../../src/gateway/index.js';

const REALM = 'tfx.test';

function configError(values: Record<string, unknown>): string {
  try {
    loadConfig({ overrides: { label: 'test', values } });
    return 'ok';
  } catch (err) {
    return err instanceof TfxError ? `${err.code}: ${err.message}` : String(err);
  }
}

describe('room dial-out credentials (gateway.roomDialOut)', () => {
  let t = 1_800_000_000_000;
  const now = (): number => t;
  const dial = new RoomDialOut('acme', dialOutKey('admin-token-1'), now);

  it('a minted credential answers digest as the account: its HA1 is MD5(username:realm:password) (RFC 2617 §3.2.2.2)', () => {
    const c = dial.mint();
    expect(c.username).toMatch(/^acme~room~\d+~[A-Za-z0-9_-]{16}$/);
    expect(c.account).toBe('acme');
    expect(c.expiresAt).toBe(t + DIAL_OUT_TTL_MS);
    expect(dial.ha1(c.username, REALM, 'MD5')).toBe(
      computeHa1(nodeDigestHash, 'MD5', c.username, REALM, c.password),
    );
    expect(dial.ha1(c.username, REALM, 'SHA-256')).toBe(
      computeHa1(nodeDigestHash, 'SHA-256', c.username, REALM, c.password),
    );
    expect(dial.accountOf(c.username)).toBe('acme');
  });

  it('every credential is new, and none is valid once it expired', () => {
    const a = dial.mint();
    const b = dial.mint();
    expect(a.username).not.toBe(b.username);
    expect(a.password).not.toBe(b.password);
    t += DIAL_OUT_TTL_MS;
    expect(dial.ha1(a.username, REALM, 'MD5')).toBeUndefined();
    t -= DIAL_OUT_TTL_MS;
  });

  it('a changed username (later expiry, another nonce) does not take the password of the one minted', () => {
    const c = dial.mint();
    const later = c.username.replace(
      /~room~(\d+)~/,
      (_m, s: string) => `~room~${Number(s) + 9999}~`,
    );
    const forged = dial.ha1(later, REALM, 'MD5');
    expect(forged).toBeDefined();
    expect(forged).not.toBe(computeHa1(nodeDigestHash, 'MD5', later, REALM, c.password));
  });

  it('the key follows the admin token: another deployment’s credential does not fit', () => {
    const other = new RoomDialOut('acme', dialOutKey('admin-token-2'), now);
    const c = other.mint();
    expect(dial.ha1(c.username, REALM, 'MD5')).not.toBe(
      computeHa1(nodeDigestHash, 'MD5', c.username, REALM, c.password),
    );
  });

  it.each([
    ['another account', 'bob~room~9999999999~AAAAAAAAAAAAAAAA'],
    ['the plain account', 'acme'],
    ['no nonce', 'acme~room~9999999999~'],
    ['a short nonce', 'acme~room~9999999999~AAAA'],
    ['a huge name', `acme~room~9999999999~${'A'.repeat(100_000)}`],
    ['a regex-hostile name', `${'acme~room~'.repeat(5_000)}1~AAAAAAAAAAAAAAAA`],
    ['control characters', 'acme~room~9999999999~AAAAAAAA\r\nAAAAAAA'],
    ['empty', ''],
  ])('%s is no room dial-out user (undefined HA1, bills itself)', (_what, username) => {
    expect(dial.ha1(username, REALM, 'MD5')).toBeUndefined();
    expect(dial.accountOf(username)).toBe(username);
  });
});

describe('gateway.roomDialOut configuration', () => {
  const users = [{ username: 'acme', password: 'acme-secret-1' }];

  it('is unset by default: nobody dials out from a room without their own SIP account', () => {
    expect(loadConfig({}).gateway).toEqual({});
  });

  it('names one of sip.users', () => {
    expect(configError({ sip: { users }, gateway: { roomDialOut: 'acme' } })).toBe('ok');
    expect(configError({ sip: { users }, gateway: { roomDialOut: 'bob' } })).toMatch(
      /^config-invalid: .*gateway\.roomDialOut.*bob, which is not one of sip\.users/,
    );
  });

  it('refuses a name that is no SIP username, and unknown keys', () => {
    expect(configError({ sip: { users }, gateway: { roomDialOut: 'ac me' } })).toMatch(
      /^config-invalid: .*gateway\.roomDialOut/,
    );
    expect(configError({ gateway: { dialOut: true } })).toMatch(/dialOut/);
  });
});
