// The page's miner: a pool of module workers, each given its own slice of the nonce space for
// the current header. A new job (new tip or template) replaces the old one at once; workers
// drop stale work within one batch (~50 ms). When every slice is exhausted the pool asks the
// caller for a fresh header (new extra nonce or timestamp), so no worker runs dry.
//
// Workers taken off (fewer workers, or a pause) are kept idle rather than ended: a worker loads
// its code from the relay that served the page, and when the relay is unreachable (the tab still
// mines with the tabs it links to directly) a new one could not start. A worker that cannot
// load is dropped and reported.

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
    /** Workers that ran and were taken off: started again before any new one. */
    this.idle = [];
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
    while (this.workers.length > n) {
      const worker = this.workers.pop();
      worker.postMessage({ type: "stop" });
      this.idle.push(worker);
    }
    while (this.workers.length < n && this.idle.length > 0) this.workers.push(this.idle.pop());
    const starting = [];
    while (this.workers.length + starting.length < n) starting.push(this.#spawn());
    const results = await Promise.all(starting);
    for (const { worker, simd, error } of results) {
      if (error) this.handlers.onError?.(`a mining worker could not start (${error}); is the relay that served this page reachable?`);
      else {
        this.workers.push(worker);
        this.simd = this.simd === null ? simd : this.simd && simd;
      }
    }
    if (this.job) this.start(this.job);
  }

  /** A new worker once it has loaded, or why it could not. */
  #spawn() {
    const worker = new Worker(new URL("./miner-worker.js", import.meta.url), { type: "module" });
    return new Promise((resolve) => {
      const failed = (error) => {
        worker.terminate();
        resolve({ worker, error });
      };
      worker.onerror = (event) => failed(event.message || "its code did not load");
      worker.onmessage = (event) => {
        if (event.data.type === "ready") {
          worker.onerror = null;
          worker.onmessage = (message) => this.#onMessage(message.data);
          resolve({ worker, simd: event.data.simd });
        } else if (event.data.type === "error") {
          failed(event.data.message);
        }
      };
      worker.postMessage({ type: "init", base: new URL(".", import.meta.url).href });
    });
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
