export {
  createSignallingModule,
  type SignallingModule,
  type SignallingModuleOptions,
} from './module.js';
export { SignallingServer, type SignallingServerOptions } from './server.js';
export type {
  SignallingService,
  LiveRoomSummary,
  LivePeerSummary,
  CreateRoomRequest,
  CreatedRoom,
  IceServerProvider,
} from './service.js';
export { realClock, generateRoomName, type Clock, type Timer } from './room.js';
