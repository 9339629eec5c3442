// The tab's chain on disk, in IndexedDB: a checkpoint of the node (its records, about 1 MiB
// each: headers, the kept blocks with undo data, the coins, the tip, the wallet's old history)
// and a journal of the change sets the node handed out since, in order. Each `append` (one or
// more change sets) and each `replaceCheckpoint` (new records, and the journal it covers
// deleted) is one `readwrite` transaction with strict durability, so a tab closed mid-write
// reloads to a state wholly before or wholly after it.
//
// Schema: version 1 held only the journal ("changes", every set since genesis). Version 2 adds
// the "checkpoint" store and keeps that journal: a version-1 store resumes once by replaying it
// from genesis (trusting its stored undo data, as for any journal), and the driver's first
// checkpoint, due at once since such a journal is long, then replaces it.

const DB_VERSION = 2;
const JOURNAL = "changes";
const CHECKPOINT = "checkpoint";

function request(req) {
  return new Promise((resolve, reject) => {
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });
}

/** Copies the bytes of a `Uint8Array` view into an `ArrayBuffer` of their own, as stored. */
const ownBuffer = (bytes) => bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);

export class ChainStore {
  constructor(db, name) {
    this.db = db;
    this.name = name;
  }

  static async open(name) {
    const open = indexedDB.open(name, DB_VERSION);
    open.onupgradeneeded = (event) => {
      const db = open.result;
      if (event.oldVersion < 1) db.createObjectStore(JOURNAL, { autoIncrement: true });
      if (event.oldVersion < 2) db.createObjectStore(CHECKPOINT); // keys: 0, 1, … in order
    };
    const db = await request(open);
    // Let `destroy` (rebuild from peers) delete the database instead of waiting on this tab.
    db.onversionchange = () => db.close();
    return new ChainStore(db, name);
  }

  /** How many checkpoint records are stored. */
  async checkpointLength() {
    return request(this.db.transaction(CHECKPOINT, "readonly").objectStore(CHECKPOINT).count());
  }

  /**
   * Checkpoint record `index` (0-based), read on its own so that only one record at a time is
   * in memory while the page resumes from them.
   */
  async checkpointRecord(index) {
    const buffer = await request(this.db.transaction(CHECKPOINT, "readonly").objectStore(CHECKPOINT).get(index));
    if (buffer === undefined) throw new Error(`checkpoint record ${index} is missing`);
    return new Uint8Array(buffer);
  }

  /** Every change set stored after the checkpoint, oldest first. */
  async loadJournal() {
    const tx = this.db.transaction(JOURNAL, "readonly");
    return (await request(tx.objectStore(JOURNAL).getAll())).map((buffer) => new Uint8Array(buffer));
  }

  /**
   * Runs `fill(tx, fail)` in one strict readwrite transaction; resolves once it is durably
   * committed. `fill`, or a request callback it set, calls `fail(error)` to abort the whole
   * transaction with that error; once the transaction is committing, `fail` changes nothing and
   * it resolves as stored.
   */
  #write(stores, fill) {
    return new Promise((resolve, reject) => {
      const tx = this.db.transaction(stores, "readwrite", { durability: "strict" });
      const fail = (error) => {
        try {
          tx.abort(); // none of it, rather than some
        } catch {
          return; // committing or done: it stands, and says so itself
        }
        reject(error); // before the abort's own error, which then changes nothing
      };
      tx.oncomplete = () => resolve();
      tx.onerror = () => reject(tx.error);
      tx.onabort = () => reject(tx.error ?? new Error("storage transaction aborted"));
      try {
        fill(tx, fail);
      } catch (error) {
        fail(error);
      }
    });
  }

  /** Appends change sets (`Uint8Array`s, in order); resolves once all are durably committed. */
  append(sets) {
    return this.#write([JOURNAL], (tx) => {
      for (const bytes of sets) tx.objectStore(JOURNAL).add(ownBuffer(bytes));
    });
  }

  /**
   * Replaces the checkpoint with the records `nextRecord` gives (each a fresh `Uint8Array` made by
   * the wasm node when asked for, `undefined` after the last: see `TabNode.checkpoint_record`)
   * and deletes the whole journal, which it covers: the driver takes a checkpoint only between
   * writes, with every set handed out so far either written or dropped from its queue. Each
   * record is made once the one before is stored, in that request's callback: one record per
   * task, so that a checkpoint of tens of megabytes never blocks the page, and the transaction
   * stays open throughout (a pending request keeps it so). The driver holds the node's inputs
   * meanwhile. Rejects with what `nextRecord` threw, or with the reason `signal` is aborted
   * for, having stored nothing; resolves with the bytes stored.
   */
  async replaceCheckpoint(nextRecord, signal) {
    let bytes = 0;
    await this.#write([CHECKPOINT, JOURNAL], (tx, fail) => {
      signal?.addEventListener("abort", () => fail(signal.reason), { once: true });
      const records = tx.objectStore(CHECKPOINT);
      records.clear();
      tx.objectStore(JOURNAL).clear();
      const putFrom = (index) => {
        let record;
        try {
          record = nextRecord();
        } catch (error) {
          fail(error);
          return;
        }
        if (record === undefined) return;
        bytes += record.byteLength;
        records.put(record.buffer, index).onsuccess = () => putFrom(index + 1); // a fresh array of its own, from wasm
      };
      putFrom(0);
    });
    return bytes;
  }

  /** Deletes the whole store (to rebuild from peers). */
  static destroy(name) {
    return request(indexedDB.deleteDatabase(name));
  }
}
