export {
  createApiModule,
  toRestSession,
  generateRoomName,
  type ApiModuleOptions,
} from './module.js';
export type { SessionAdmin, CreateRoomRequest } from './admin.js';
