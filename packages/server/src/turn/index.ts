export {
  mintIceServers,
  turnRestCredential,
  describeIce,
  type IceServer,
  type IceConfig,
  type IceOptions,
} from './credentials.js';
export {
  createStunModule,
  answerStun,
  type StunModule,
  type StunAnswer,
  type StunOutcome,
} from './stun-responder.js';
export * as stun from '@tfx/media/stun';
export { createIceModule, type IceModuleOptions } from './ice-module.js';
export { probeTurn, parseTurnUrl, type TurnUrl, type ProbeOutcome } from './probe.js';
