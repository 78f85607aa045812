/** How the call page frames a widget (sandbox, allow, origin), from its manifest entry. */
import { describe, expect, it } from 'vitest';
import type { WidgetManifestEntry } from '@tfx/protocol';
import { planFrame } from '../src/widgets/policy.js';

const host = 'https://tfx.example:8443';
const base: WidgetManifestEntry = {
  plugintype: 'chat',
  id: 'messaging',
  type: 'chat',
  title: 'Messages',
  icon: 'chat',
  url: '/widgets/messaging/',
};

describe('framing a widget', () => {
  it('gives a widget served by the platform scripts and forms only, and an opaque origin', () => {
    expect(planFrame(base, host)).toEqual({
      ok: true,
      plan: {
        src: `${host}/widgets/messaging/`,
        sandbox: 'allow-scripts allow-forms',
        allow: '',
        messageOrigin: 'null',
        allowedOrigin: host,
      },
    });
  });

  it('adds allow-same-origin only for another origin, and only the granted permissions', () => {
    const r = planFrame(
      {
        ...base,
        url: 'https://w.example/x/',
        origin: 'https://w.example',
        permissions: { downloads: true, popups: true, camera: true, microphone: false },
      },
      host,
    );
    expect(r).toMatchObject({
      ok: true,
      plan: {
        sandbox: 'allow-scripts allow-forms allow-downloads allow-popups allow-same-origin',
        allow: 'camera',
        messageOrigin: 'https://w.example',
      },
    });
  });

  it('never grants allow-same-origin to a page on the platform’s own origin', () => {
    const r = planFrame({ ...base, url: `${host}/widgets/x/`, origin: host }, host);
    expect(r).toMatchObject({ ok: true, plan: { sandbox: 'allow-scripts allow-forms' } });
  });

  it.each([
    [{ url: 'https://evil.example/x/', origin: 'https://w.example' }, 'https://evil.example'],
    [{ url: 'https://w.example/x/' }, 'https://w.example'],
    [{ url: 'http://w.example/x/', origin: 'https://w.example' }, 'http://w.example'],
  ])('blocks an entry whose url lies outside its origin: %j', (over, blocked) => {
    expect(planFrame({ ...base, ...over }, host)).toEqual({ ok: false, blockedOrigin: blocked });
  });
});
