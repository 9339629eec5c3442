// The page's miner: a pool of module workers, each given its own slice of the nonce space for
// the current header. A new job (new tip or template) replaces the old one at once; workers
// drop stale work within one batch (~50 ms). When every slice is exhausted the pool asks the
// caller for a fresh header (new extra nonce or timestamp), so no worker runs dry.

const NONCE_SPACE = 2 ** 32;

export class MinerPool {
  /**
   * @param {number} n workers to start
   * @param {{onFound?: (nonce:number, jobId:number) => void, onRate?: (hps:number) => void,
   *          onExhausted?: () => void, onError?: (message:string) => void}} handlers
   */
  constructor(n, handlers = {}) {
    this.handlers = handlers;
    this.workers = [];
    this.jobId = 0;
    this.job = null;
    this.exhausted = 0;
    this.hashes = 0;
    this.windowStart = performance.now();
    this.simd = null;
    this.ready = this.resize(n);
  }

  /** Sets the number of workers (0 pauses mining). */
  async resize(n) {
    while (this.workers.length > n) this.workers.pop().terminate();
    const starting = [];
    while (this.workers.length < n) {
      const worker = new Worker(new URL("./miner-worker.js", import.meta.url), { type: "module" });
      worker.onmessage = (event) => this.#onMessage(event.data);
      starting.push(new Promise((resolve) => {
        worker.addEventListener("message", function ready(event) {
          if (event.data.type === "ready" || event.data.type === "error") {
            worker.removeEventListener("message", ready);
            resolve(event.data);
          }
        });
      }));
      worker.postMessage({ type: "init", base: new URL(".", import.meta.url).href });
      this.workers.push(worker);
    }
    const results = await Promise.all(starting);
    if (results.length) this.simd = results.every((r) => r.simd);
    if (this.job) this.start(this.job);
  }

  /**
   * Mines `job` = {headerHex, targetHex?, mode?, nonceCount?} on every worker, replacing any
   * older job; `nonceCount` (default all 2^32) is split evenly. Returns the job's id.
   */
  start(job) {
    this.job = job;
    this.jobId += 1;
    this.exhausted = 0;
    const n = this.workers.length;
    const space = job.nonceCount ?? NONCE_SPACE;
    const slice = Math.floor(space / Math.max(n, 1));
    this.workers.forEach((worker, i) => {
      const count = i === n - 1 ? space - slice * i : slice;
      const { nonceCount: _, ...fields } = job;
      worker.postMessage({ type: "job", id: this.jobId, ...fields, start: slice * i, count });
    });
    return this.jobId;
  }

  stop() {
    this.job = null;
    this.jobId += 1;
    for (const worker of this.workers) worker.postMessage({ type: "stop" });
  }

  /** Hashes per second since the last call. */
  takeRate() {
    const now = performance.now();
    const rate = (this.hashes * 1000) / Math.max(now - this.windowStart, 1);
    this.hashes = 0;
    this.windowStart = now;
    return rate;
  }

  #onMessage(msg) {
    if (msg.type === "error") return this.handlers.onError?.(msg.message);
    if (msg.id !== this.jobId) return; // stale work from a replaced job
    if (msg.type === "progress") this.hashes += msg.hashes;
    if (msg.type === "found") {
      this.handlers.onFound?.(msg.nonce, msg.id);
    }
    if (msg.type === "exhausted" && ++this.exhausted === this.workers.length) {
      this.handlers.onExhausted?.();
    }
  }
}
