/**
 * The REFER policy of a zone (docs/sbc.md, "Transfer"). A REFER never crosses to the other leg:
 * a foreign Refer-To would tell the far zone about this one (topology hiding) and let a peer make
 * the far side dial anything. Per zone, `refer`:
 *
 *   refuse (default)  403 Forbidden: the transferor keeps its call (RFC 3515 §2.4.2 allows any
 *                     4xx–6xx). An SBC facing carriers and the Internet does not dial on a
 *                     peer's word unless the operator says so (REFER toll fraud).
 *   execute           the SBC accepts the REFER and places the call itself (transfer.ts).
 *
 * Either way a Refer-To with Replaces (attended transfer, RFC 3891) is answered 501: the SBC
 * does not join two of its calls. A REFER the dialog layer could not read (no Refer-To, two of
 * them, an unparseable URI) was answered 400 before this (RFC 3515 §2.4.2).
 */
import type { IncomingRefer, Logger } from '@tfx/sip';
import type { SbcCall } from './call.js';
import { executeRefer, type TransferDeps } from './transfer.js';
import type { ZoneAgent } from './zone.js';

export function onRefer(
  zone: ZoneAgent,
  call: SbcCall | undefined,
  refer: IncomingRefer,
  deps: TransferDeps & { readonly log: Logger },
): void {
  const policy = zone.spec.refer ?? 'refuse';
  const log = { zone: zone.name, call: call?.id, policy };
  if (!call) {
    // A dialog of the zone that is no call's (a leg being torn down): §12.2.2.
    refer.reject(481);
    return;
  }
  if (policy === 'refuse') {
    deps.counters.refused++;
    deps.log.info(log, 'sbc: REFER refused by the zone policy (403)');
    refer.reject(403);
    return;
  }
  if (refer.referTo.replaces) {
    deps.counters.refused++;
    deps.log.info(log, 'sbc: REFER with Replaces (attended transfer) not implemented (501)');
    refer.reject(501);
    return;
  }
  deps.log.info(log, 'sbc: REFER executed');
  executeRefer(call, refer, deps);
}
