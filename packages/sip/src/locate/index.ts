export {
  DEFAULT_PORTS,
  locate,
  orderSrv,
  type DnsLookup,
  type LocateInput,
  type LocateOptions,
  type LocateTransport,
  type LocatedTarget,
  type NaptrRecord,
  type SrvRecord,
} from './locate.js';
export { nodeDns, type DnsCounters, type NodeDnsOptions } from './dns.js';
