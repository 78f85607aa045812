export {
  ProxyCore,
  type ProxyCoreOptions,
  type ProxyHooks,
  type ProxyRequest,
  type ProxyStack,
} from './core.js';
export {
  BranchState,
  ContextState,
  ResponseContext,
  SERIAL_GROUP_MS,
  TIMER_C_MS,
  CANCEL_WAIT_MS,
  type Branch,
  type ContextEnv,
  type Final,
  type Target,
} from './context.js';
