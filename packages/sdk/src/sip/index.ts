/**
 * `@tfx/sdk/sip` — the SDK's SIP-over-WSS phone, a separate entry so that the call page's bundle
 * does not carry a SIP stack. See docs/sdk.md, "Calling phones".
 */
export {
  SipPhone,
  PhoneCall,
  SipPhoneError,
  type SipPhoneOptions,
  type SipPhoneEvents,
  type PhoneCallEvents,
  type RegistrationState,
} from './phone.js';
export {
  nextCallState,
  FINAL_STATES,
  type CallState,
  type CallEvent,
  type CallSnapshot,
} from './call-state.js';
export {
  parseDialTarget,
  validDtmf,
  validHost,
  failureReason,
  cleanPhrase,
  MAX_TARGET_LENGTH,
  MAX_NUMBER_DIGITS,
  MAX_DTMF,
  type DialTarget,
} from './dial.js';
