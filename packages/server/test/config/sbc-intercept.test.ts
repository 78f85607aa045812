/**
 * `sbc.intercept` (issue #19 item 3): no delivery by default, a UDP mirror ADDRESS:PORT and/or
 * PCAP files, hostile values refused naming the key.
 */
import { describe, expect, it } from 'vitest';
import { TfxError } from '@tfx/protocol';
import { loadConfig } from '../../src/config/index.js';

function messageOf(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    if (err instanceof TfxError) return err.message;
    throw err;
  }
  throw new Error('expected a TfxError');
}

describe('sbc.intercept configuration', () => {
  it('copies nothing by default (no mirror, no files), media copies on 127.0.0.1', () => {
    expect(loadConfig({}).sbc.intercept).toEqual({ files: false, mediaAddress: '127.0.0.1' });
  });

  it('takes a mirror address (IPv4 or bracketed IPv6), files and a media address', () => {
    const c = loadConfig({
      flags: {
        'sbc.intercept.udp': '[::1]:9000',
        'sbc.intercept.files': true,
        'sbc.intercept.mediaAddress': '127.0.44.31',
      },
    });
    expect(c.sbc.intercept).toEqual({
      udp: '[::1]:9000',
      files: true,
      mediaAddress: '127.0.44.31',
    });
  });

  it.each([
    ['sbc.intercept.udp', 'example.org:9000'],
    ['sbc.intercept.udp', '127.0.0.1'],
    ['sbc.intercept.udp', '127.0.0.1:0'],
    ['sbc.intercept.udp', '127.0.0.1:70000'],
    ['sbc.intercept.mediaAddress', 'localhost'],
    ['sbc.intercept.warrant', 'x'],
  ])('refuses %s = %s naming the key', (key, value) => {
    expect(messageOf(() => loadConfig({ flags: { [key]: value } }))).toContain('sbc.intercept');
  });
});
