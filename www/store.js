// The tab's chain on disk: every change set the node asks to persist, appended in order to
// IndexedDB; each `append` (one or more change sets) is one `readwrite` transaction with strict
// durability, so a tab closed mid-write reloads to a state wholly before or wholly after it.

const STORE = "changes";

function request(req) {
  return new Promise((resolve, reject) => {
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });
}

export class ChainStore {
  constructor(db, name) {
    this.db = db;
    this.name = name;
  }

  static async open(name) {
    const open = indexedDB.open(name, 1);
    open.onupgradeneeded = () => open.result.createObjectStore(STORE, { autoIncrement: true });
    const db = await request(open);
    // Let `destroy` (rebuild from peers) delete the database instead of waiting on this tab.
    db.onversionchange = () => db.close();
    return new ChainStore(db, name);
  }

  /** Every stored change set, oldest first. */
  async loadAll() {
    const tx = this.db.transaction(STORE, "readonly");
    return (await request(tx.objectStore(STORE).getAll())).map((buffer) => new Uint8Array(buffer));
  }

  /** Appends change sets (`Uint8Array`s, in order); resolves once all are durably committed. */
  append(sets) {
    return new Promise((resolve, reject) => {
      const tx = this.db.transaction(STORE, "readwrite", { durability: "strict" });
      tx.oncomplete = () => resolve();
      tx.onerror = () => reject(tx.error);
      tx.onabort = () => reject(tx.error ?? new Error("storage transaction aborted"));
      try {
        for (const bytes of sets) {
          tx.objectStore(STORE).add(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
        }
      } catch (error) {
        tx.abort(); // none of them, rather than some
        reject(error);
      }
    });
  }

  /** Deletes the whole store (to rebuild from peers). */
  static destroy(name) {
    return request(indexedDB.deleteDatabase(name));
  }
}
