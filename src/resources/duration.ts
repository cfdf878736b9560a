// Go `time.ParseDuration` syntax ("250ms", "1.5s", "1m30s", "-2h"), as Linkerd's controller parses
// `timeout` and `ttl`. Integer arithmetic in nanoseconds (BigInt) so results match Go exactly.

const UNIT_NS: ReadonlyMap<string, bigint> = new Map([
  ["ns", 1n],
  ["us", 1_000n],
  ["\u00b5s", 1_000n], // U+00B5 micro sign
  ["\u03bcs", 1_000n], // U+03BC Greek small letter mu
  ["ms", 1_000_000n],
  ["s", 1_000_000_000n],
  ["m", 60_000_000_000n],
  ["h", 3_600_000_000_000n],
]);

const MAX_NS = (1n << 63n) - 1n;
const OVERFLOW = 1n << 63n;

export type DurationResult =
  | { readonly ok: true; readonly ns: bigint; readonly ms: number }
  | { readonly ok: false; readonly error: string };

const isDigit = (c: string | undefined): boolean => c !== undefined && c >= "0" && c <= "9";

/**
 * Parses a Go duration string. Returns nanoseconds (exact) and milliseconds (a float: "1500us" is 1.5).
 * Errors read like Go's, without the `time:` prefix.
 */
export function parseGoDuration(input: string): DurationResult {
  const invalid = (): DurationResult => ({ ok: false, error: `invalid duration ${JSON.stringify(input)}` });
  let s = input;
  let neg = false;
  if (s !== "" && (s[0] === "-" || s[0] === "+")) {
    neg = s[0] === "-";
    s = s.slice(1);
  }
  if (s === "0") return { ok: true, ns: 0n, ms: 0 };
  if (s === "") return invalid();

  let total = 0n;
  while (s !== "") {
    if (!(s[0] === "." || isDigit(s[0]))) return invalid();
    // Integer part.
    let i = 0;
    let v = 0n;
    while (isDigit(s[i])) {
      v = v * 10n + BigInt(s.charCodeAt(i) - 48);
      if (v > OVERFLOW) return invalid();
      i++;
    }
    const pre = i > 0;
    s = s.slice(i);
    // Fraction: Go keeps at most what fits in an int64 and scales it as a float64.
    let f = 0n;
    let scale = 1;
    let post = false;
    if (s[0] === ".") {
      s = s.slice(1);
      let j = 0;
      let overflowed = false;
      while (isDigit(s[j])) {
        if (!overflowed) {
          const next = f * 10n + BigInt(s.charCodeAt(j) - 48);
          if (next > OVERFLOW) overflowed = true;
          else {
            f = next;
            scale *= 10;
          }
        }
        j++;
      }
      post = j > 0;
      s = s.slice(j);
    }
    if (!pre && !post) return invalid();
    // Unit.
    let u = 0;
    while (u < s.length && s[u] !== "." && !isDigit(s[u])) u++;
    if (u === 0) return { ok: false, error: `missing unit in duration ${JSON.stringify(input)}` };
    const unitName = s.slice(0, u);
    s = s.slice(u);
    const unit = UNIT_NS.get(unitName);
    if (unit === undefined) {
      return { ok: false, error: `unknown unit ${JSON.stringify(unitName)} in duration ${JSON.stringify(input)}` };
    }
    if (v > OVERFLOW / unit) return invalid();
    v *= unit;
    if (f > 0n) {
      v += BigInt(Math.trunc(Number(f) * (Number(unit) / scale)));
      if (v > OVERFLOW) return invalid();
    }
    total += v;
    if (total > OVERFLOW) return invalid();
  }
  if (!neg && total > MAX_NS) return invalid();
  const ns = neg ? -total : total;
  return { ok: true, ns, ms: Number(ns) / 1e6 };
}
