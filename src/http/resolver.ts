// Resolves upstream hostnames through the system resolver with a short positive and negative cache,
// so authority-routed (http_proxy style) outbound traffic does not hit DNS per request.
import { isIp } from "../config/values.ts";

interface CacheEntry {
  readonly address: string | null;
  readonly error: Error | null;
  readonly expiresMs: number;
}

export interface ResolverOptions {
  /** How long an answer is reused. */
  readonly ttlMs: number;
  /** How long a failure is remembered. */
  readonly negativeTtlMs: number;
  readonly nowMs: () => number;
  /** Injected for tests; defaults to Bun.dns.lookup (getaddrinfo). */
  readonly lookup?: (host: string) => Promise<string>;
}

async function systemLookup(host: string): Promise<string> {
  const answers = await Bun.dns.lookup(host, { backend: "system" });
  const v4 = answers.find((a) => a.family === 4);
  const first = v4 ?? answers[0];
  if (first === undefined) throw new Error(`no address for ${host}`);
  return first.address;
}

export class Resolver {
  private readonly cache = new Map<string, CacheEntry>();
  private readonly inflight = new Map<string, Promise<string>>();
  private readonly lookup: (host: string) => Promise<string>;

  constructor(private readonly opts: ResolverOptions) {
    this.lookup = opts.lookup ?? systemLookup;
  }

  /** IP literals and fresh cache hits return synchronously; otherwise a promise of the address. */
  resolve(host: string): string | Promise<string> {
    if (isIp(host)) return host;
    const now = this.opts.nowMs();
    const hit = this.cache.get(host);
    if (hit !== undefined && hit.expiresMs > now) {
      if (hit.address !== null) return hit.address;
      return Promise.reject(hit.error);
    }
    let p = this.inflight.get(host);
    if (p === undefined) {
      p = this.lookup(host).then(
        (address) => {
          this.inflight.delete(host);
          this.cache.set(host, { address, error: null, expiresMs: this.opts.nowMs() + this.opts.ttlMs });
          return address;
        },
        (err: unknown) => {
          this.inflight.delete(host);
          const error = err instanceof Error ? err : new Error(String(err));
          this.cache.set(host, { address: null, error, expiresMs: this.opts.nowMs() + this.opts.negativeTtlMs });
          throw error;
        },
      );
      this.inflight.set(host, p);
    }
    return p;
  }
}
