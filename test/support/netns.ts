// Helpers for tests that run in a private network namespace (`ip netns exec <ns> ...`).
import { spawnSync } from "bun";

/** Waits (bounded) until the namespace has a listening TCP socket on every "ip:port". */
export async function listeningIn(inNs: readonly string[], addresses: readonly string[], timeoutMs = 10_000): Promise<void> {
  for (let waited = 0; waited < timeoutMs; waited += 50) {
    const listening = spawnSync([...inNs, "ss", "-Hltn"]).stdout.toString();
    if (addresses.every((a) => listening.includes(` ${a} `))) return;
    await Bun.sleep(50);
  }
  throw new Error(`test servers not listening on ${addresses.join(", ")} within ${timeoutMs} ms`);
}
