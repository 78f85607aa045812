export {
  createApiModule,
  toRestSession,
  generateRoomName,
  type ApiModuleOptions,
} from './module.js';
export { adminFromSignalling, type SessionAdmin, type CreateRoomRequest } from './admin.js';
