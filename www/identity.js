// Which node and wallet this tab is. A reload keeps the tab's identity (`sessionStorage`); a
// new tab adopts the identity of a closed tab if there is one — each open tab holds a Web Lock
// on its identity, so a free lock means nobody uses it — and otherwise makes a new one. So
// closing a tab and opening another never strands the coins of the closed one's wallet.
// Identities (an id naming the chain database, and the wallet key) live in `localStorage`.

const IDENTITIES = "tabchain-identities";
const CURRENT = "tabchain-tab";

const load = () => JSON.parse(localStorage.getItem(IDENTITIES) ?? "[]");
const save = (list) => localStorage.setItem(IDENTITIES, JSON.stringify(list));

function freshSeed() {
  const bytes = crypto.getRandomValues(new Uint8Array(32));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

/** Takes the lock named for `id` if free, and holds it until the page goes away. */
function claim(id) {
  if (!navigator.locks) return Promise.resolve(true);
  return new Promise((resolve) => {
    navigator.locks.request(`tabchain-identity-${id}`, { ifAvailable: true }, (lock) => {
      resolve(lock !== null);
      return lock ? new Promise(() => {}) : undefined;
    });
  });
}

/** This tab's identity `{id, seed, adopted}`, claimed for as long as the tab is open. */
export async function claimIdentity() {
  const list = load();
  const current = sessionStorage.getItem(CURRENT);
  const mine = list.find((entry) => entry.id === current);
  if (mine && (await claim(mine.id))) return { ...mine, adopted: false };
  for (const entry of list) {
    if (entry.id !== current && (await claim(entry.id))) {
      sessionStorage.setItem(CURRENT, entry.id);
      return { ...entry, adopted: true };
    }
  }
  const entry = { id: crypto.randomUUID(), seed: freshSeed() };
  save([...load(), entry]);
  await claim(entry.id);
  sessionStorage.setItem(CURRENT, entry.id);
  return { ...entry, adopted: false };
}

/** Replaces the wallet key of identity `id` (an imported backup); takes effect on reload. */
export function setSeed(id, hex) {
  if (!/^[0-9a-fA-F]{64}$/.test(hex)) throw new Error("a key backup holds 64 hexadecimal digits");
  save(load().map((entry) => (entry.id === id ? { ...entry, seed: hex.toLowerCase() } : entry)));
}
