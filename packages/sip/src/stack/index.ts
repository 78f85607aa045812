export {
  SipStack,
  type Binder,
  type GateDrop,
  type ListenPlan,
  type MessageTap,
  type RestartPlan,
  type SipStackOptions,
  type SipStackUser,
  type StackHop,
  type StackRequest,
} from './stack.js';
export type { ReceiveContext } from '../transport/index.js';
