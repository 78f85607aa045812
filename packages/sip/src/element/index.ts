// Element helpers (RFC 3261 §16): what a proxy or a B2BUA writes into requests it forwards.
export {
  BRANCH_PREFIX,
  hasLooped,
  loopHash,
  newBranch,
  statelessBranch,
  statelessTag,
} from './branch.js';
export { copyRequest, recordRouteValue, viaValue, withUri, type SentBy } from './headers.js';
export { hopOf, isSipUri, uriTransport, type Hop } from './hop.js';
