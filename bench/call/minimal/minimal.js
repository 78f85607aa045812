/* global document, window, location, RTCPeerConnection, MediaStream */
// A minimal hand-written call page for bench/call: the same TFX signalling protocol, no SDK, no
// UI — getUserMedia, join, one RTCPeerConnection per peer (the newcomer offers), trickle ICE.
// The bench copies this folder (and socket.io's ESM build) into the served web root.
import { io } from './socket.io.esm.min.js';

performance.mark('tfx:script');

const PROTOCOL = Number(document.documentElement.dataset.protocol || '1');
const q = new URLSearchParams(location.search);
const room = q.get('room');
const [w, h, fps] = (q.get('cam') || '320x240@15').split(/[x@]/).map(Number);
const stream = await navigator.mediaDevices.getUserMedia({
  audio: true,
  video: { width: { ideal: w }, height: { ideal: h }, frameRate: { ideal: fps, max: fps } },
});
performance.mark('tfx:media');
const socket = io({ path: '/socket.io', transports: ['websocket'], auth: { protocol: PROTOCOL } });
const pcs = new Map();
window.__pcs = pcs; // for inspection
let iceServers = [];

function peer(id) {
  let pc = pcs.get(id);
  if (pc) return pc;
  pc = new RTCPeerConnection({ iceServers });
  pcs.set(id, pc);
  for (const t of stream.getTracks()) pc.addTrack(t, stream);
  pc.onicecandidate = (e) => {
    if (e.candidate)
      socket.emit('signal', { to: id, kind: 'candidate', data: e.candidate.toJSON() });
  };
  pc.ontrack = (e) => {
    if (e.track.kind !== 'video') return;
    performance.mark('tfx:track');
    const v = document.createElement('video');
    v.autoplay = v.playsInline = v.muted = true;
    v.width = 320;
    v.srcObject = new MediaStream([e.track]);
    document.getElementById('videos').append(v);
  };
  return pc;
}

socket.on('signal', async ({ from, kind, data }) => {
  const pc = peer(from);
  if (kind === 'offer') {
    await pc.setRemoteDescription(data);
    await pc.setLocalDescription();
    socket.emit('signal', {
      to: from,
      kind: 'answer',
      data: { type: 'answer', sdp: pc.localDescription.sdp },
    });
  } else if (kind === 'answer') {
    await pc.setRemoteDescription(data);
  } else if (data) {
    await pc.addIceCandidate(data).catch(() => undefined);
  }
});
socket.on('peer-left', ({ peerId }) => {
  pcs.get(peerId)?.close();
  pcs.delete(peerId);
});

socket.emit(
  'join',
  { room, name: q.get('name') || 'bench', state: { audio: true, video: true } },
  async (ack) => {
    if (!ack.ok) throw new Error(ack.error.code);
    iceServers = ack.iceServers;
    performance.mark('tfx:joined');
    window.__joined = true;
    for (const p of ack.peers) {
      const pc = peer(p.id);
      await pc.setLocalDescription();
      socket.emit('signal', {
        to: p.id,
        kind: 'offer',
        data: { type: 'offer', sdp: pc.localDescription.sdp },
      });
    }
  },
);
