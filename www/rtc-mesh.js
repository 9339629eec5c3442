// Direct links to tabs in other browsers or on other machines: WebRTC data channels, set up
// through the relay (protocol version 2, `getlinks`/`links`/`signal`), each carrying the same
// protocol as the relay's WebSocket under the node's own limits and misbehaviour rules. The
// relay only passes the set-up along: once a link is open, blocks and payments flow over it even
// with the relay gone.
//
// While it holds fewer than `RTC_PEERS_MAX` links the tab asks the relay, every
// `ASK_INTERVAL_MS`, for tabs that want links too; the relay picks them. Of two tabs offered to
// each other, the one with the lower id at the relay makes the offer, so a pair sets up one link,
// not two. Offers and answers go whole, with their ICE candidates gathered first (one signal
// each way), and name the sender's tab id (`TabMesh`): a tab of the same browser, already linked
// over `BroadcastChannel`, is declined rather than linked twice. A link that does not open within `SETUP_TIMEOUT_MS` is given up; a tab the node
// dropped is not linked again for `RELINK_WAIT_MS`.

/** Direct links to tabs elsewhere, at most. */
export const RTC_PEERS_MAX = 4;
/** How often a tab with room asks its relay for tabs to link with. */
const ASK_INTERVAL_MS = 10_000;
/** How long an offer may take to become an open link. */
const SETUP_TIMEOUT_MS = 20_000;
/** How long ICE candidates are gathered before the offer or answer goes without the rest. */
const GATHER_TIMEOUT_MS = 3_000;
/** How long a tab the node dropped for misbehaviour (or that declined) stays unlinked; one that
 * was only slow (a stall, a ping timeout, a late hello) waits `RELINK_SLOW_WAIT_MS`. */
const RELINK_WAIT_MS = 10 * 60 * 1000;
const RELINK_SLOW_WAIT_MS = 30 * 1000;
/** How often each link's round trip is read from WebRTC's statistics. */
const RTT_INTERVAL_MS = 5_000;
/** Bytes a link may hold unsent before the peer counts as not reading and the link closes. */
const BUFFERED_BYTES_MAX = 16 * 1024 * 1024;

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Resolves once `pc` has gathered its ICE candidates, or after `GATHER_TIMEOUT_MS`. */
function gathered(pc) {
  if (pc.iceGatheringState === "complete") return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      if (pc.iceGatheringState !== "complete") return;
      pc.removeEventListener("icegatheringstatechange", done);
      resolve();
    };
    pc.addEventListener("icegatheringstatechange", done);
    setTimeout(resolve, GATHER_TIMEOUT_MS);
  });
}

/** One link, from set-up to close. `remote` is the other tab's id at the relay. */
class RtcLink {
  constructor(remote, pc) {
    this.remote = remote;
    /** The other tab's id in its own browser (`TabMesh.tabId`), once its offer or answer told. */
    this.tab = null;
    this.pc = pc;
    this.channel = null;
    /** The node's peer id, once the channel is open. */
    this.peer = null;
    this.since = null;
    this.rttMs = null;
  }
}

export class RtcMesh {
  /**
   * @param {{nextPeerId: () => number, onOpen: (peer: number) => void,
   *   onMessage: (peer: number, bytes: Uint8Array) => void, onClose: (peer: number) => void,
   *   askLinks: () => boolean, signal: (remote: number, payload: Uint8Array) => void,
   *   log: (line: string) => void, frameBytesMax: number, tabId: string,
   *   isLinkedTab: (tabId: string) => boolean}} hooks
   *   `askLinks` asks the relay (false when it is not linked); `signal` sends set-up data through
   *   it; `frameBytesMax` is the protocol's largest message: a longer one closes the link;
   *   `tabId` is this tab's id in its browser, `isLinkedTab` whether one is linked there already
   */
  constructor(hooks) {
    this.hooks = hooks;
    /** @type {RTCConfiguration} */
    this.config = { iceServers: [] };
    /** @type {Map<number, RtcLink>} by the other tab's id at the relay */
    this.byRemote = new Map();
    /** @type {Map<number, RtcLink>} by the node's peer id, once open */
    this.byPeer = new Map();
    /** Remote id → when it may be linked again. */
    this.unlinkedUntil = new Map();
    this.timers = [];
  }

  /** Starts asking for links; `iceServers` are the relay's `--ice-server` URLs. */
  start(iceServers = []) {
    if (typeof RTCPeerConnection === "undefined") return;
    this.config = { iceServers: iceServers.length ? [{ urls: iceServers }] : [] };
    this.timers = [setInterval(() => this.#askIfRoom(), ASK_INTERVAL_MS), setInterval(() => this.#measure(), RTT_INTERVAL_MS)];
  }

  stop() {
    for (const timer of this.timers) clearInterval(timer);
    for (const link of [...this.byRemote.values()]) this.#end(link);
  }

  /** Asks the relay now (when its link opens). */
  relayReady() {
    this.#askIfRoom();
  }

  has(peer) {
    return this.byPeer.has(peer);
  }

  send(peer, bytes) {
    const link = this.byPeer.get(peer);
    if (!link || link.channel?.readyState !== "open") return;
    if (link.channel.bufferedAmount > BUFFERED_BYTES_MAX) {
      this.hooks.log(`direct peer ${peer} does not read: link closed`);
      this.#end(link);
      return;
    }
    link.channel.send(bytes);
  }

  /** Closes the link to `peer` (the node dropped it, for `misbehaviour` or slowness); that tab
   * is not linked again soon. */
  close(peer, misbehaviour = true) {
    const link = this.byPeer.get(peer);
    if (!link) return;
    this.unlinkedUntil.set(link.remote, Date.now() + (misbehaviour ? RELINK_WAIT_MS : RELINK_SLOW_WAIT_MS));
    this.#end(link);
  }

  /** The open links, for the page: `{peer, since, rttMs}`. */
  links() {
    return [...this.byPeer.values()].map(({ peer, since, rttMs }) => ({ peer, since, rttMs }));
  }

  /** The relay offered `peers` (tabs that want links); `you` is this tab's id there. */
  onOffer(you, peers) {
    for (const remote of peers) {
      if (this.byRemote.size >= RTC_PEERS_MAX) return;
      if (remote === you || remote < you || !this.#mayLink(remote)) continue;
      this.#offer(remote).catch((error) => this.hooks.log(`direct link to tab ${remote} failed: ${error?.message ?? error}`));
    }
  }

  /** Set-up data from `remote`, passed on by the relay. */
  onSignal(remote, payload) {
    let message;
    try {
      message = JSON.parse(decoder.decode(payload));
    } catch {
      return; // not ours to answer: the relay bounds what a tab can send
    }
    const sameBrowser = typeof message?.tab === "string" && this.hooks.isLinkedTab(message.tab);
    if (message?.type === "offer" && typeof message.sdp === "string") {
      if (sameBrowser) return this.#signal(remote, { type: "decline" });
      if (this.byRemote.size >= RTC_PEERS_MAX || !this.#mayLink(remote)) return;
      this.#answer(remote, message.sdp, message.tab).catch((error) => this.hooks.log(`direct link from tab ${remote} failed: ${error?.message ?? error}`));
    } else if (message?.type === "answer" && typeof message.sdp === "string") {
      const link = this.byRemote.get(remote);
      if (link?.pc.signalingState !== "have-local-offer") return;
      if (sameBrowser) return this.#decline(link);
      link.tab = typeof message.tab === "string" ? message.tab : null;
      link.pc.setRemoteDescription({ type: "answer", sdp: message.sdp }).catch(() => this.#end(link));
    } else if (message?.type === "decline") {
      const link = this.byRemote.get(remote);
      if (link?.pc.signalingState === "have-local-offer") this.#decline(link);
    }
  }

  /** Drops the WebRTC link to the tab `tabId` of this browser, now linked over `BroadcastChannel`. */
  closeTab(tabId) {
    for (const link of [...this.byRemote.values()]) if (link.tab === tabId) this.#decline(link);
  }

  /** Gives up `link` for good while it lasts: the other end is better reached another way. */
  #decline(link) {
    this.unlinkedUntil.set(link.remote, Date.now() + RELINK_WAIT_MS);
    this.#end(link);
  }

  #askIfRoom() {
    if (this.byRemote.size < RTC_PEERS_MAX) this.hooks.askLinks();
  }

  #mayLink(remote) {
    return !this.byRemote.has(remote) && (this.unlinkedUntil.get(remote) ?? 0) <= Date.now();
  }

  #newLink(remote) {
    const link = new RtcLink(remote, new RTCPeerConnection(this.config));
    this.byRemote.set(remote, link);
    link.pc.onconnectionstatechange = () => {
      if (["failed", "closed"].includes(link.pc.connectionState)) this.#end(link);
    };
    setTimeout(() => {
      if (link.peer === null) this.#end(link);
    }, SETUP_TIMEOUT_MS);
    return link;
  }

  async #offer(remote) {
    const link = this.#newLink(remote);
    this.#attach(link, link.pc.createDataChannel("tabchain", { ordered: true }));
    await link.pc.setLocalDescription(await link.pc.createOffer());
    await gathered(link.pc);
    this.#signal(remote, { type: "offer", sdp: link.pc.localDescription.sdp, tab: this.hooks.tabId });
  }

  async #answer(remote, sdp, tab) {
    const link = this.#newLink(remote);
    link.tab = typeof tab === "string" ? tab : null;
    link.pc.ondatachannel = (event) => this.#attach(link, event.channel);
    await link.pc.setRemoteDescription({ type: "offer", sdp });
    await link.pc.setLocalDescription(await link.pc.createAnswer());
    await gathered(link.pc);
    this.#signal(remote, { type: "answer", sdp: link.pc.localDescription.sdp, tab: this.hooks.tabId });
  }

  #signal(remote, message) {
    this.hooks.signal(remote, encoder.encode(JSON.stringify(message)));
  }

  #attach(link, channel) {
    link.channel = channel;
    channel.binaryType = "arraybuffer";
    channel.onopen = () => {
      if (this.byRemote.get(link.remote) !== link) return channel.close();
      link.peer = this.hooks.nextPeerId();
      link.since = Date.now();
      this.byPeer.set(link.peer, link);
      this.hooks.onOpen(link.peer);
    };
    channel.onmessage = (event) => {
      if (link.peer === null || !(event.data instanceof ArrayBuffer)) return;
      if (event.data.byteLength > this.hooks.frameBytesMax) return this.close(link.peer);
      this.hooks.onMessage(link.peer, new Uint8Array(event.data));
    };
    channel.onclose = () => this.#end(link);
  }

  #end(link) {
    if (this.byRemote.get(link.remote) === link) this.byRemote.delete(link.remote);
    link.channel?.close();
    link.pc.close();
    if (link.peer !== null && this.byPeer.get(link.peer) === link) {
      this.byPeer.delete(link.peer);
      this.hooks.onClose(link.peer);
    }
  }

  /** The round trip of each open link, from WebRTC's own statistics. */
  async #measure() {
    for (const link of this.byPeer.values()) {
      try {
        const stats = await link.pc.getStats();
        stats.forEach((report) => {
          if (report.type === "candidate-pair" && report.nominated && report.currentRoundTripTime !== undefined) {
            link.rttMs = report.currentRoundTripTime * 1000;
          }
        });
      } catch {
        // A link closing meanwhile has no statistics.
      }
    }
  }
}
