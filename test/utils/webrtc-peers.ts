import type { Socket } from 'socket.io-client';
import { RTCPeerConnection, type RTCIceServer } from 'werift';
import { request } from './clients';

/** One side of a call: its Parley socket and device, and the ICE servers Parley gave it. */
export interface CallSide {
  socket: Socket;
  deviceId: string;
  iceServers: RTCIceServer[];
}

type Signal =
  | { type: 'offer' | 'answer'; sdp: string }
  | {
      type: 'candidate';
      candidate: { candidate: string; sdpMid?: string; sdpMLineIndex?: number };
    };

interface SignalEvent {
  callId: string;
  fromDeviceId: string;
  data: Signal;
}

export interface RelayedExchange {
  /** What the callee answered to the caller's ping, through the data channel. */
  reply: string;
  /** The candidate types each side offered (all `relay` under iceTransportPolicy 'relay'). */
  candidateTypes: string[];
}

/**
 * Two real WebRTC peers (werift) that negotiate through Parley's `call:signal` and open a
 * data channel with `iceTransportPolicy: 'relay'`, so the only way their bytes can travel
 * is through the TURN server with the credentials they were given. The caller sends "ping";
 * the callee answers "pong". Rejects if no channel opens within the timeout.
 */
export async function pingThroughRelay(
  callId: string,
  caller: CallSide,
  callee: CallSide,
  timeoutMs = 15_000,
): Promise<RelayedExchange> {
  const candidateTypes: string[] = [];
  const peers: RTCPeerConnection[] = [];
  const listeners: Array<() => void> = [];

  // Signals still in flight when the test closes its sockets are of no interest.
  const send = (from: CallSide, to: CallSide, data: Signal) =>
    void request(from.socket, 'call:signal', { callId, toDeviceId: to.deviceId, data }).catch(
      () => undefined,
    );

  const wire = (self: CallSide, other: CallSide): RTCPeerConnection => {
    const pc = new RTCPeerConnection({ iceServers: self.iceServers, iceTransportPolicy: 'relay' });
    peers.push(pc);
    // Signals still in flight when the test closes its sockets are of no interest.
    const signal = (data: Signal) => send(self, other, data);
    pc.onIceCandidate.subscribe((candidate) => {
      if (!candidate) return;
      const json = candidate.toJSON();
      const type = / typ (\w+)/.exec(json.candidate)?.[1];
      if (type) candidateTypes.push(type);
      signal({ type: 'candidate', candidate: json });
    });
    const onSignal = (event: SignalEvent) => {
      if (event.callId !== callId || event.fromDeviceId !== other.deviceId) return;
      void (async () => {
        const data = event.data;
        if (data.type === 'candidate') {
          await pc.addIceCandidate(data.candidate);
        } else if (data.type === 'offer') {
          await pc.setRemoteDescription({ type: 'offer', sdp: data.sdp });
          const answer = await pc.createAnswer();
          await pc.setLocalDescription(answer);
          signal({ type: 'answer', sdp: pc.localDescription!.sdp });
        } else {
          await pc.setRemoteDescription({ type: 'answer', sdp: data.sdp });
        }
      })().catch(() => undefined);
    };
    self.socket.on('call:signal', onSignal);
    listeners.push(() => self.socket.off('call:signal', onSignal));
    return pc;
  };

  const callerPc = wire(caller, callee);
  const calleePc = wire(callee, caller);
  calleePc.onDataChannel.subscribe((channel) => {
    channel.onMessage.subscribe((message) => {
      if (message.toString() === 'ping') channel.send('pong');
    });
  });

  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error('no data channel through the relay')), timeoutMs);
  });
  const exchange = async (): Promise<string> => {
    const channel = callerPc.createDataChannel('parley');
    const reply = new Promise<string>((resolve) => {
      channel.stateChanged.subscribe((state) => {
        if (state === 'open') channel.send('ping');
      });
      channel.onMessage.subscribe((message) => resolve(message.toString()));
    });
    // With refused credentials, gathering may never finish: the timeout covers every step.
    const offer = await callerPc.createOffer();
    await callerPc.setLocalDescription(offer);
    send(caller, callee, { type: 'offer', sdp: callerPc.localDescription!.sdp });
    return reply;
  };
  try {
    return { reply: await Promise.race([exchange(), timeout]), candidateTypes };
  } finally {
    clearTimeout(timer);
    for (const stop of listeners) stop();
    // A peer stuck on a refused allocation may not close promptly; do not wait for it long.
    const closing = Promise.all(peers.map((pc) => pc.close().catch(() => undefined)));
    await Promise.race([closing, new Promise((r) => setTimeout(r, 1000))]);
  }
}
