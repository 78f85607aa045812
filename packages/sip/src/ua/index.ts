// A minimal user-agent core on SipStack and the dialog layer.
export { UserAgentCore, type UserAgentCoreOptions } from './core.js';
