/**
 * JsSIP's RTCSession drives a browser's RTCPeerConnection for offer/answer. These tests are
 * about SIP signalling, so Node gets a minimal stand-in (installed only for the test, then
 * removed): it hands out a fixed SDP as its offer or answer, reports ICE gathering complete, and
 * records the remote descriptions it was given. No media flows.
 */
import { sdp } from './harness.js';

interface Description {
  readonly type: 'offer' | 'answer' | 'pranswer' | 'rollback';
  readonly sdp: string;
}

export class StaticPeerConnection extends EventTarget {
  static remoteDescriptions: string[] = [];
  static version = 20;
  localDescription: Description | null = null;
  remoteDescription: Description | null = null;
  signalingState = 'stable';
  iceGatheringState = 'complete';
  iceConnectionState = 'connected';
  connectionState = 'connected';

  createOffer(): Promise<Description> {
    return Promise.resolve({ type: 'offer', sdp: sdp(++StaticPeerConnection.version) });
  }
  createAnswer(): Promise<Description> {
    return Promise.resolve({ type: 'answer', sdp: sdp(++StaticPeerConnection.version) });
  }
  setLocalDescription(d: Description): Promise<void> {
    this.localDescription = d;
    this.signalingState = d.type === 'offer' ? 'have-local-offer' : 'stable';
    return Promise.resolve();
  }
  setRemoteDescription(d: Description): Promise<void> {
    this.remoteDescription = d;
    StaticPeerConnection.remoteDescriptions.push(d.sdp);
    this.signalingState = d.type === 'offer' ? 'have-remote-offer' : 'stable';
    return Promise.resolve();
  }
  getSenders(): unknown[] {
    return [];
  }
  getReceivers(): unknown[] {
    return [];
  }
  getLocalStreams(): unknown[] {
    return [];
  }
  getRemoteStreams(): unknown[] {
    return [];
  }
  addTrack(): void {}
  close(): void {
    this.signalingState = 'closed';
  }
}

/** Installs `window.RTCPeerConnection` and `RTCSessionDescription`; returns the restore function. */
export function installStaticWebRtc(): () => void {
  const g = globalThis as Record<string, unknown>;
  const saved = {
    window: g.window,
    RTCPeerConnection: g.RTCPeerConnection,
    RTCSessionDescription: g.RTCSessionDescription,
  };
  g.RTCPeerConnection = StaticPeerConnection;
  g.RTCSessionDescription = class {
    readonly type: string;
    readonly sdp: string;
    constructor(init: { type: string; sdp: string }) {
      this.type = init.type;
      this.sdp = init.sdp;
    }
  };
  g.window = g.window ?? globalThis;
  return () => {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete g[k];
      else g[k] = v;
    }
  };
}
