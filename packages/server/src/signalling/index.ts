export {
  createSignallingModule,
  type SignallingModule,
  type SignallingModuleOptions,
} from './module.js';
export { SignallingServer, generateRoomName, type SignallingServerOptions } from './server.js';
export type {
  SignallingService,
  LiveRoomSummary,
  LivePeerSummary,
  CreateRoomRequest,
  CreatedRoom,
  IceServerProvider,
} from './service.js';
export { realClock, type Clock, type Timer } from './room.js';
