// Direct links between the tabs of this browser (one origin, one profile): every tab is a peer
// of the others, up to `TAB_PEERS_MAX`, over one `BroadcastChannel` per network. Each link
// carries the same protocol as the relay's WebSocket — handshake, headers-first sync, inv and
// getdata, under the node's own limits and misbehaviour rules — so blocks and transactions keep
// flowing between the tabs while the relay is down. Frames are addressed by tab id (a
// `BroadcastChannel` cannot hand out a private port); a tab reads only those sent to it.
//
// Links come and go with the tabs: a tab says `hello` when it starts and every
// `ANNOUNCE_INTERVAL_MS` after (so tabs opened later, or that dropped a link, find it), and
// `bye` when it goes. A tab that neither answers nor says goodbye (frozen, crashed) is dropped by
// the node's ping timeout. A tab the node dropped is not linked again for `RELINK_WAIT_MS`.
// Linked tabs also ping each other on the channel, for the round trip the page shows.

/** Direct links to other tabs of this browser, at most. */
export const TAB_PEERS_MAX = 8;
/** How often a tab says it is there. */
const ANNOUNCE_INTERVAL_MS = 5000;
/** How long a tab the node dropped for misbehaviour stays unlinked; one that was only slow (a
 * stall, a ping timeout, a late hello) waits `RELINK_SLOW_WAIT_MS`. */
const RELINK_WAIT_MS = 10 * 60 * 1000;
const RELINK_SLOW_WAIT_MS = 30 * 1000;

const freshTabId = () => Array.from(crypto.getRandomValues(new Uint8Array(8)), (b) => b.toString(16).padStart(2, "0")).join("");

/** The link to one other tab. */
class TabLink {
  constructor(peer, tabId) {
    this.peer = peer;
    this.tabId = tabId;
    this.since = Date.now();
    /** The last ping's round trip over the channel, in ms; null before the first answer. */
    this.rttMs = null;
  }
}

export class TabMesh {
  /**
   * @param {string} network the network's name: tabs of different networks never link
   * @param {{nextPeerId: () => number, onOpen: (peer: number) => void,
   *   onMessage: (peer: number, bytes: Uint8Array) => void, onClose: (peer: number) => void,
   *   frameBytesMax: number, onTab?: (tabId: string) => void}} hooks
   *   `nextPeerId` names a new peer for the node; the others carry the link's life to it;
   *   `frameBytesMax` is the protocol's largest message: a longer frame closes the link;
   *   `onTab` hears of each tab linked (so a second link to it elsewhere can go)
   */
  constructor(network, hooks) {
    this.name = `tabchain-mesh-${network}`;
    this.hooks = hooks;
    this.tabId = freshTabId();
    /** @type {Map<string, TabLink>} by the other tab's id */
    this.byTab = new Map();
    /** @type {Map<number, TabLink>} by the node's peer id */
    this.byPeer = new Map();
    /** Tab id → when it may be linked again. */
    this.unlinkedUntil = new Map();
    this.channel = null;
    this.timer = null;
  }

  /** Joins the channel and says hello; `bye` goes out when the page goes away. */
  start() {
    if (typeof BroadcastChannel === "undefined") return;
    this.channel = new BroadcastChannel(this.name);
    this.channel.onmessage = (event) => this.#receive(event.data);
    this.#post({ kind: "hello" });
    this.timer = setInterval(() => {
      this.#post({ kind: "hello" });
      for (const link of this.byPeer.values()) this.#post({ kind: "ping", to: link.tabId, t: performance.now() });
    }, ANNOUNCE_INTERVAL_MS);
    addEventListener("pagehide", () => this.stop());
  }

  /** Leaves the channel, telling every linked tab. */
  stop() {
    if (!this.channel) return;
    clearInterval(this.timer);
    this.#post({ kind: "bye" });
    for (const link of [...this.byPeer.values()]) this.#unlink(link);
    this.channel.close();
    this.channel = null;
  }

  /** Whether `peer` is a tab of this browser. */
  has(peer) {
    return this.byPeer.has(peer);
  }

  /** Whether the tab `tabId` of this browser is linked. */
  hasTab(tabId) {
    return this.byTab.has(tabId);
  }

  /** Sends one protocol message to the tab behind `peer`. */
  send(peer, bytes) {
    const link = this.byPeer.get(peer);
    if (link) this.#post({ kind: "frame", to: link.tabId, bytes });
  }

  /** Drops the link to `peer` (the node dropped it, for `misbehaviour` or slowness) and does
   * not link that tab again soon. */
  close(peer, misbehaviour = true) {
    const link = this.byPeer.get(peer);
    if (!link) return;
    this.#post({ kind: "bye", to: link.tabId });
    this.unlinkedUntil.set(link.tabId, Date.now() + (misbehaviour ? RELINK_WAIT_MS : RELINK_SLOW_WAIT_MS));
    this.#unlink(link);
  }

  /** The links, for the page: `{peer, since, rttMs}` (`since` in ms since the epoch). */
  links() {
    return [...this.byPeer.values()].map(({ peer, since, rttMs }) => ({ peer, since, rttMs }));
  }

  #post(message) {
    this.channel?.postMessage({ ...message, from: this.tabId });
  }

  #receive(message) {
    if (typeof message !== "object" || message === null || typeof message.from !== "string") return;
    if (message.to !== undefined && message.to !== this.tabId) return;
    const { kind, from } = message;
    if (kind === "bye") {
      const link = this.byTab.get(from);
      if (link) this.#unlink(link);
      return;
    }
    if (kind === "ping" || kind === "pong") {
      const link = this.byTab.get(from);
      if (!link || typeof message.t !== "number") return;
      if (kind === "ping") this.#post({ kind: "pong", to: from, t: message.t });
      else link.rttMs = Math.max(0, performance.now() - message.t);
      return;
    }
    const link = this.byTab.get(from) ?? this.#link(from, kind === "hello" && message.to === undefined);
    if (!link) return;
    if (kind !== "frame" || !(message.bytes instanceof Uint8Array)) return;
    if (message.bytes.byteLength > this.hooks.frameBytesMax) return this.close(link.peer);
    this.hooks.onMessage(link.peer, message.bytes);
  }

  /** A link to tab `tabId`, if there is room and it is not waiting out a drop. */
  #link(tabId, answer) {
    if (this.byTab.size >= TAB_PEERS_MAX || (this.unlinkedUntil.get(tabId) ?? 0) > Date.now()) return null;
    this.unlinkedUntil.delete(tabId);
    const link = new TabLink(this.hooks.nextPeerId(), tabId);
    this.byTab.set(tabId, link);
    this.byPeer.set(link.peer, link);
    // A new tab's broadcast hello is answered directly, so that it links back at once.
    if (answer) this.#post({ kind: "hello", to: tabId });
    this.hooks.onOpen(link.peer);
    this.hooks.onTab?.(tabId);
    return link;
  }

  #unlink(link) {
    this.byTab.delete(link.tabId);
    this.byPeer.delete(link.peer);
    this.hooks.onClose(link.peer);
  }
}
