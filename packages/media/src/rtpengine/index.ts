/** The rtpengine backend: ng client, instance sets, the MediaEngine on rtpengine. */
export { BencodeError, decode, decodeDict, encode, type BDict, type BValue } from './bencode.js';
export {
  NgClient,
  NgError,
  parseNgUrl,
  formatNgUrl,
  type NgAddress,
  type NgClientOptions,
  type NgErrorReason,
} from './ng-client.js';
export {
  RtpengineSet,
  type RtpengineInstanceConfig,
  type RtpengineSetOptions,
  type InstanceState,
} from './instance-set.js';
export { RtpengineEngine, createRtpengineEngine, type RtpengineEngineOptions } from './engine.js';
export { offerKeys, answerKeys, rejectUnwantedSavp } from './flags.js';
export { callStatsOf } from './stats.js';
export { parseDtmfLog, type DtmfLogResult } from './dtmf-log.js';
