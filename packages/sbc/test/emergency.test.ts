/** The emergency matcher and helpers (emergency.ts): pure, no sockets. */
import { describe, expect, it } from 'vitest';
import { NEXT } from '@tfx/sip';
import {
  RESOURCE_PRIORITY,
  emergencyStage,
  emergencyTrunks,
  isEmergency,
  withResourcePriority,
  type EmergencySpec,
} from '../src/emergency.js';
import type { TrunkSpec } from '../src/index.js';

const SPEC: EmergencySpec = { numbers: ['112', '911'], trunks: ['sos2', 'sos1'] };
const TRUNKS: TrunkSpec[] = [
  { name: 'pbx', zone: 'core', uri: 'sip:127.0.0.11' },
  { name: 'sos1', zone: 'core', uri: 'sip:127.0.0.12' },
  { name: 'sos2', zone: 'core', uri: 'sip:127.0.0.13' },
];

describe('emergency numbers', () => {
  it('matches the normalized user exactly', () => {
    expect(isEmergency(SPEC, '112')).toBe(true);
    expect(isEmergency(SPEC, '911')).toBe(true);
    expect(isEmergency(SPEC, '1120')).toBe(false);
    expect(isEmergency(SPEC, '0112')).toBe(false);
    expect(isEmergency(SPEC, '')).toBe(false);
    expect(isEmergency(SPEC, undefined)).toBe(false);
  });

  it('is off without a spec or with no numbers', () => {
    expect(isEmergency(undefined, '112')).toBe(false);
    expect(isEmergency({ numbers: [], trunks: ['sos1'] }, '112')).toBe(false);
  });

  it('takes the emergency trunks in their own order, skipping unknown names', () => {
    expect(emergencyTrunks(SPEC, TRUNKS).map((t) => t.name)).toEqual(['sos2', 'sos1']);
    expect(emergencyTrunks({ numbers: ['112'], trunks: ['gone', 'sos1'] }, TRUNKS)).toEqual([
      TRUNKS[1],
    ]);
  });

  it('adds one Resource-Priority (RFC 4412), replacing a caller’s own', () => {
    const h: Array<[string, string]> = [
      ['Subject', 'x'],
      ['resource-priority', 'dsn.flash'],
    ];
    expect(withResourcePriority(h, 'esnet.1')).toEqual([
      ['Subject', 'x'],
      ['Resource-Priority', 'esnet.1'],
    ]);
    expect(withResourcePriority(h, undefined)).toEqual(h);
  });

  it('accepts RFC 4412 r-values only', () => {
    for (const ok of ['esnet.1', 'ets.0', 'dsn.flash-override'])
      expect(ok).toMatch(RESOURCE_PRIORITY);
    for (const bad of ['esnet', '.1', 'esnet.', 'esnet.1, ets.0', 'es net.1', 'esnet.1\r\nX: y'])
      expect(bad).not.toMatch(RESOURCE_PRIORITY);
  });

  it('the stage marks an emergency call and gives it the emergency trunks', () => {
    const seen: string[] = [];
    const stage = emergencyStage(
      () => SPEC,
      () => TRUNKS,
      (c) => seen.push(c.user ?? ''),
    );
    const call = {
      user: '112',
      trunks: [] as TrunkSpec[],
      emergency: undefined as boolean | undefined,
    };
    expect(stage(call)).toBe(NEXT);
    expect(call.emergency).toBe(true);
    expect(call.trunks.map((t) => t.name)).toEqual(['sos2', 'sos1']);
    const other = {
      user: '4420',
      trunks: [] as TrunkSpec[],
      emergency: undefined as boolean | undefined,
    };
    expect(stage(other)).toBe(NEXT);
    expect(other.emergency).toBeUndefined();
    expect(other.trunks).toEqual([]);
    expect(seen).toEqual(['112']);
  });
});
