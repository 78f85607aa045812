/**
 * The dialog state of RFC 3261 §12: its id, route set, local and remote CSeq and remote target,
 * built from the request and response that create it (§12.1.1 UAS, §12.1.2 UAC) and used to
 * build every request inside it (§12.2.1.1) and to check every request that arrives in it
 * (§12.2.2). Pure: no timers and no sending here (the dialog layer owns those).
 */
import { TfxError } from '@tfx/protocol';
import {
  createRequest,
  formatNameAddr,
  formatUri,
  generateBranch,
  type NameAddr,
  type SipRequest,
  type SipResponse,
  type Uri,
} from '../syntax/index.js';

/** §12: "A dialog is identified at each UA with a dialog ID, which consists of a Call-ID value,
 * a local tag and a remote tag." */
export interface DialogId {
  readonly callId: string;
  readonly localTag: string;
  readonly remoteTag: string;
}

export type DialogState = 'early' | 'confirmed' | 'terminated';

export function dialogKey(id: DialogId): string {
  return `${id.callId}\n${id.localTag}\n${id.remoteTag}`;
}

/** The dialog id a request names at the UA that receives it (§12.2.2: To tag is ours). */
export function incomingDialogId(request: SipRequest): DialogId | undefined {
  const callId = request.headers.callId();
  const localTag = request.headers.to()?.tag;
  const remoteTag = request.headers.from()?.tag;
  if (callId === undefined || localTag === undefined || remoteTag === undefined) return undefined;
  return { callId, localTag, remoteTag };
}

/** Where this UA sends from: the Via sent-by and the Contact of the requests it builds. */
export interface LocalParty {
  readonly via: { readonly transport: string; readonly host: string; readonly port?: number };
  readonly contact: string;
}

function withTag(na: NameAddr, tag: string | undefined): NameAddr {
  const params = new Map([...na.params].filter(([k]) => k !== 'tag'));
  if (tag !== undefined) params.set('tag', tag);
  const { tag: _old, ...rest } = na;
  return tag === undefined ? { ...rest, params } : { ...rest, params, tag };
}

function contactUri(message: SipRequest | SipResponse): Uri | undefined {
  const c = message.headers.contact()[0];
  return c !== undefined && !c.star ? c.uri : undefined;
}

/** What `Dialog.createRequest` may add. */
export interface InDialogRequestOptions {
  readonly headers?: ReadonlyArray<readonly [string, string]>;
  readonly body?: Uint8Array | string;
  readonly contentType?: string;
  /** ACK and CANCEL reuse a CSeq (§13.2.2.4); anything else takes the next local one. */
  readonly cseq?: number;
}

export class Dialog {
  readonly id: DialogId;
  readonly key: string;
  /** 'uac': this UA sent the request that created the dialog. */
  readonly role: 'uac' | 'uas';
  readonly localUri: NameAddr;
  readonly remoteUri: NameAddr;
  /** §12.1.1/§12.1.2: the route set, in the order requests carry it; never changes once confirmed. */
  #routeSet: NameAddr[];
  #remoteTarget: Uri;
  /** undefined is the RFC's "empty". */
  #localSeq: number | undefined;
  #remoteSeq: number | undefined;
  #state: DialogState;
  readonly secure: boolean;

  private constructor(init: {
    id: DialogId;
    role: 'uac' | 'uas';
    localUri: NameAddr;
    remoteUri: NameAddr;
    routeSet: NameAddr[];
    remoteTarget: Uri;
    localSeq: number | undefined;
    remoteSeq: number | undefined;
    state: DialogState;
    secure: boolean;
  }) {
    this.id = init.id;
    this.key = dialogKey(init.id);
    this.role = init.role;
    this.localUri = init.localUri;
    this.remoteUri = init.remoteUri;
    this.#routeSet = init.routeSet;
    this.#remoteTarget = init.remoteTarget;
    this.#localSeq = init.localSeq;
    this.#remoteSeq = init.remoteSeq;
    this.#state = init.state;
    this.secure = init.secure;
  }

  /**
   * §12.1.2 UAC: "The route set MUST be set to the list of URIs in the Record-Route header field
   * from the response, taken in reverse order [...]. The remote target MUST be set to the URI
   * from the Contact header field of the response. The local sequence number MUST be set to the
   * value of the sequence number in the CSeq header field of the request. The remote sequence
   * number MUST be empty [...]. The remote tag MUST be set to the value of the tag parameter in
   * the To header field of the response [...]. The remote URI MUST be set to the URI in the To
   * header field, and the local URI MUST be set to the URI in the From header field."
   */
  static uac(request: SipRequest, response: SipResponse): Dialog {
    const callId = request.headers.callId();
    const from = request.headers.from();
    const to = response.headers.to();
    const cseq = request.headers.cseq();
    const target = contactUri(response);
    if (!callId || !from?.tag || !to?.tag || !cseq || !target) {
      throw new TfxError('bad-request', 'response cannot create a dialog (§12.1.2)');
    }
    return new Dialog({
      id: { callId, localTag: from.tag, remoteTag: to.tag },
      role: 'uac',
      localUri: from,
      remoteUri: to,
      routeSet: [...response.headers.recordRoute()].reverse(),
      remoteTarget: target,
      localSeq: cseq.seq,
      remoteSeq: undefined,
      state: response.status < 200 ? 'early' : 'confirmed',
      secure: request.uri.kind === 'sip' && request.uri.scheme === 'sips',
    });
  }

  /**
   * §12.1.1 UAS: "The route set MUST be set to the list of URIs in the Record-Route header field
   * from the request, taken in order [...]. The remote target MUST be set to the URI from the
   * Contact header field of the request. The remote sequence number MUST be set to the value of
   * the sequence number in the CSeq header field of the request. The local sequence number MUST
   * be empty. [...] The remote tag MUST be set to the value of the tag parameter in the From
   * header field of the request, and the local tag MUST be set to the value of the To tag in the
   * response to the request."
   */
  static uas(request: SipRequest, localTag: string, status: number): Dialog {
    const callId = request.headers.callId();
    const from = request.headers.from();
    const to = request.headers.to();
    const cseq = request.headers.cseq();
    const target = contactUri(request);
    if (!callId || !from?.tag || !to || !cseq || !target) {
      throw new TfxError('bad-request', 'request cannot create a dialog (§12.1.1)');
    }
    return new Dialog({
      id: { callId, localTag, remoteTag: from.tag },
      role: 'uas',
      localUri: withTag(to, localTag),
      remoteUri: from,
      routeSet: [...request.headers.recordRoute()],
      remoteTarget: target,
      localSeq: undefined,
      remoteSeq: cseq.seq,
      state: status < 200 ? 'early' : 'confirmed',
      secure: request.uri.kind === 'sip' && request.uri.scheme === 'sips',
    });
  }

  /**
   * RFC 6665 §4.1.2.4: "If the initial NOTIFY request is received before the final response to
   * the SUBSCRIBE [...] the subscriber [...] creates a dialog" from the NOTIFY: remote tag from
   * its From tag, remote target from its Contact, route set from its Record-Route in order
   * (§12.1.1, it is a request we receive), local side from our SUBSCRIBE.
   */
  static fromNotify(subscribe: SipRequest, notify: SipRequest): Dialog {
    const callId = subscribe.headers.callId();
    const from = subscribe.headers.from();
    const remote = notify.headers.from();
    const cseq = subscribe.headers.cseq();
    const target = contactUri(notify);
    if (!callId || !from?.tag || !remote?.tag || !cseq || !target) {
      throw new TfxError('bad-request', 'NOTIFY cannot create a dialog (RFC 6665 §4.1.2.4)');
    }
    return new Dialog({
      id: { callId, localTag: from.tag, remoteTag: remote.tag },
      role: 'uac',
      localUri: from,
      remoteUri: withTag(subscribe.headers.to() ?? remote, remote.tag),
      routeSet: [...notify.headers.recordRoute()],
      remoteTarget: target,
      localSeq: cseq.seq,
      remoteSeq: undefined,
      state: 'confirmed',
      secure: subscribe.uri.kind === 'sip' && subscribe.uri.scheme === 'sips',
    });
  }

  get state(): DialogState {
    return this.#state;
  }
  get routeSet(): readonly NameAddr[] {
    return this.#routeSet;
  }
  get remoteTarget(): Uri {
    return this.#remoteTarget;
  }
  get localSeq(): number | undefined {
    return this.#localSeq;
  }
  get remoteSeq(): number | undefined {
    return this.#remoteSeq;
  }

  /**
   * §13.2.2.4 / §12.1.2: a 2xx for the dialog's INVITE confirms an early dialog. "If the dialog
   * is in the early state, [...] the route set MUST be recomputed based on the 2xx response"
   * (§12.2.1.2), and the remote target is the 2xx's Contact.
   */
  confirm(response?: SipResponse): void {
    if (this.#state === 'terminated') return;
    if (this.#state === 'early' && response !== undefined) {
      const rr = response.headers.recordRoute();
      this.#routeSet = this.role === 'uac' ? [...rr].reverse() : this.#routeSet;
      const target = contactUri(response);
      if (target) this.#remoteTarget = target;
    }
    this.#state = 'confirmed';
  }

  terminate(): void {
    this.#state = 'terminated';
  }

  /**
   * §12.2.1.2: "When a UAC receives a 2xx response to a target refresh request, it MUST replace
   * the dialog's remote target URI with the URI from the Contact header field in that response,
   * if present." §12.2.2 says the same of a UAS accepting a target refresh request.
   */
  refreshTarget(message: SipRequest | SipResponse): void {
    const target = contactUri(message);
    if (target) this.#remoteTarget = target;
  }

  /**
   * §12.2.2: "If the remote sequence number is empty, it MUST be set to the value of the sequence
   * number in the CSeq header field value in the request. If the remote sequence number was not
   * empty, but the sequence number of the request is lower than the remote sequence number, the
   * request is out of order and MUST be rejected with a 500 (Server Internal Error) response. If
   * the remote sequence number was not empty, and the sequence number of the request is greater
   * than the remote sequence number, the request is in order." Returns false for out of order.
   * ACK and CANCEL carry the CSeq of the request they belong to and are not counted.
   */
  acceptRemoteSeq(request: SipRequest): boolean {
    const seq = request.headers.cseq()?.seq;
    if (seq === undefined) return false;
    if (request.method === 'ACK' || request.method === 'CANCEL') return true;
    if (this.#remoteSeq !== undefined && seq <= this.#remoteSeq) return false;
    this.#remoteSeq = seq;
    return true;
  }

  /**
   * §12.2.1.1: builds a request inside the dialog. "The URI in the To field of the request MUST
   * be set to the remote URI from the dialog state. The tag in the To header field of the
   * request MUST be set to the remote tag of the dialog ID. The From URI of the request MUST be
   * set to the local URI from the dialog state. The tag in the From header field of the request
   * MUST be set to the local tag of the dialog ID." "The CSeq header field value [...] MUST be
   * strictly monotonically increasing and contiguous within a dialog." "If the route set is
   * empty, the UAC MUST place the remote target URI into the Request-URI. [...] If the route set
   * is not empty, and the first URI in the route set contains the lr parameter, the UAC MUST
   * place the remote target URI into the Request-URI and MUST include a Route header field
   * containing the route set values in order [...]. If the route set is not empty, and its first
   * URI does not contain the lr parameter, the UAC MUST place the first URI from the route set
   * into the Request-URI, stripping any parameters that are not allowed in a Request-URI. The
   * UAC MUST add a Route header field containing the remainder of the route set values in order,
   * including all parameters. The UAC MUST then place the remote target URI into the Route
   * header field as the last value."
   */
  createRequest(method: string, local: LocalParty, o: InDialogRequestOptions = {}): SipRequest {
    if (this.#state === 'terminated') {
      throw new TfxError('bad-request', `the dialog is terminated; cannot send ${method}`);
    }
    let seq: number;
    if (o.cseq !== undefined) seq = o.cseq;
    else {
      // §12.2.1.1: if the local sequence number is empty, an initial value per §8.1.1.5.
      seq = (this.#localSeq ?? 0) + 1;
      this.#localSeq = seq;
    }
    const routes = this.#routeSet;
    let uri: Uri = this.#remoteTarget;
    let routeValues = routes.map(formatNameAddr);
    const first = routes[0];
    if (first !== undefined && first.uri.kind === 'sip' && !first.uri.params.has('lr')) {
      const strict = first.uri;
      // §19.1.1 Table 1: method and header parameters are not allowed in a Request-URI.
      const params = new Map([...strict.params].filter(([k]) => k !== 'method'));
      uri = { ...strict, params, headers: [] };
      routeValues = [...routes.slice(1).map(formatNameAddr), `<${formatUri(this.#remoteTarget)}>`];
    }
    const extra: Array<readonly [string, string]> = routeValues.map((r) => ['Route', r] as const);
    extra.push(...(o.headers ?? []));
    return createRequest({
      method,
      uri,
      from: withTag(this.localUri, this.id.localTag),
      to: withTag(this.remoteUri, this.id.remoteTag),
      callId: this.id.callId,
      cseq: seq,
      via: { ...local.via, branch: generateBranch() },
      contact: method === 'BYE' || method === 'CANCEL' ? undefined : local.contact,
      headers: extra,
      ...(o.body !== undefined && { body: o.body }),
      ...(o.contentType !== undefined && { contentType: o.contentType }),
    } as Parameters<typeof createRequest>[0]);
  }

  /** §8.1.2 / §12.2.1.1: the URI the request goes to next: its first Route, else its Request-URI. */
  static nextHopUri(request: SipRequest): Uri {
    return request.headers.route()[0]?.uri ?? request.uri;
  }
}
