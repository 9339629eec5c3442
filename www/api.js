// The relay's HTTP API as the page asks it: JSON answers, with the relay's refusals for load
// (429, its per-address request rate; 503, its cap on requests answered at once) waited out,
// and every other failure thrown as an `ApiError` in words.

/** Times one request waits out a 429 or 503 before it gives up. */
const API_RETRIES_MAX = 30;
/** The wait after a 429 or 503 that names none (`Retry-After`). */
const API_RETRY_DEFAULT_S = 1;

/** An API request that failed: `status` is the HTTP status, or 0 when the relay was not reached. */
export class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.name = "ApiError";
    this.status = status;
  }
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** The JSON answer of the relay's API at `path` (a GET, never cached). */
export async function apiJson(path) {
  for (let retries = 0; ; retries += 1) {
    let response;
    try {
      response = await fetch(path, { cache: "no-store" });
    } catch {
      throw new ApiError(0, "the relay cannot be reached");
    }
    const busy = response.status === 429 || response.status === 503;
    if (busy && retries < API_RETRIES_MAX) {
      const waitS = Number(response.headers.get("retry-after")) || API_RETRY_DEFAULT_S;
      await sleep(waitS * 1000);
      continue;
    }
    const body = await response.json().catch(() => null);
    if (!response.ok) throw new ApiError(response.status, body?.error ?? `the relay answered HTTP ${response.status}`);
    if (body === null) throw new ApiError(response.status, "the relay's answer is not JSON");
    return body;
  }
}
