/**
 * The composition root: which feature modules run for a given configuration and command.
 * Features are added here as they land (signalling, SIP, widgets).
 */
import {
  adminFromSignalling,
  createApiModule,
  createConsoleModule,
  createGatewayModule,
  createIceModule,
  createLanguageModule,
  createMediaModule,
  createSbcModule,
  createSignallingModule,
  createSipModule,
  createStunModule,
  createWidgetsModule,
  type Config,
  type Logger,
  type PlatformModule,
} from '@tfx/server';
import { VERSION } from './version.js';
import { builtinWidgetsRoot, widgetSdkBundle } from './widget.js';

export interface ModuleChoice {
  /** `start` runs everything; `sip` runs the SIP server with its console, REST and WS, no web app. */
  readonly command: 'start' | 'sip';
}

export function buildModules(
  _config: Config,
  _logger: Logger,
  choice: ModuleChoice,
  webRoot?: string,
  /** Reads the configuration again from the sources `tfx start` used (SBC reloads). */
  readConfig?: () => Config,
): PlatformModule[] {
  const modules: PlatformModule[] = [];
  // Signalling first: the REST API uses its service, set up in module order.
  const signalling = createSignallingModule();
  if (choice.command === 'start') modules.push(signalling);
  // The built-in STUN responder listens only when turn.stun.enabled.
  const stun = createStunModule();
  modules.push(stun);
  if (choice.command === 'start') {
    // Join and resume acks get ICE servers with fresh TURN credentials (turn.*).
    modules.push(createIceModule({ service: () => signalling.service, stun }));
    // The REST API (/api/v1) after signalling, whose service it uses.
    modules.push(createApiModule({ admin: () => adminFromSignalling(signalling.service) }));
    // Translation and captions providers, room opt-ins and agendas (docs/language.md).
    modules.push(
      createLanguageModule({
        peersIn: () => async (room) =>
          (await signalling.service.store.listPeers(room)).map((p) => p.id),
      }),
    );
  }
  // Widgets: the manifest, GET /api/v1/widgets, /widget-sdk/v1.js, /widgets/<id>/ (docs/widgets.md).
  const widgets =
    choice.command === 'start'
      ? createWidgetsModule({ builtinRoot: builtinWidgetsRoot(), sdkBundle: widgetSdkBundle() })
      : undefined;
  if (widgets) modules.push(widgets);
  // The operator console's REST routes, audit log and sampler (docs/console.md).
  modules.push(
    createConsoleModule({
      signalling: choice.command === 'start' ? () => signalling.service : undefined,
      widgets,
      nodeId: () => signalling.nodeId,
      version: VERSION,
    }),
  );
  // The media plane (media.engine: the built-in relay in worker threads by default; rtpengine
  // for scale): GET /api/v1/media/sessions and tfx_media_* metrics (docs/media.md).
  const media = createMediaModule();
  modules.push(media);
  // The SIP server (listeners only when sip.enabled), its REST API and the console at /admin/.
  // Under `tfx sip` the web app is not served, so the module serves the console's assets.
  const sip = createSipModule({ webRoot, serveAssets: choice.command === 'sip' });
  modules.push(sip);
  // The SBC (sbc.zones): a B2BUA on the zones' own listeners, media anchored in the engine above,
  // digest against the SIP server's users; nothing runs without zones (docs/sbc.md). Last, so it
  // closes first.
  // TFX's own registrar (the SIP server's policy and location store) serves REGISTERs in the
  // zones and finds their users before routes.
  // Room dial-out (gateway.roomDialOut): a moderator's short-lived credential for /sip, which the
  // SBC's digest accepts and bills to the account (docs/sdk.md, "Calling phones").
  const gateway =
    choice.command === 'start'
      ? createGatewayModule({
          isModerator: () => (room, token) => signalling.service.store.isModerator(room, token),
        })
      : undefined;
  if (gateway) modules.push(gateway);
  if (choice.command === 'start')
    modules.push(
      createSbcModule({
        engine: () => media.engine,
        users: () => sip.service?.users,
        dialOut: () => gateway?.dialOut,
        ...(readConfig && { readConfig }),
        registrar: () => {
          const s = sip.service;
          return (
            s && {
              domain: s.domain,
              registrar: {
                register: (i) => s.registrar.register(i),
                lookup: (aor, now) => s.location.lookup(aor, now),
              },
            }
          );
        },
      }),
    );
  return modules;
}
