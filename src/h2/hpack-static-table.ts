// The HPACK static table (RFC 7541 Appendix A): 61 fixed entries, index 1..61, and the lookups the
// encoder uses to find a full (name, value) match or a name match.

// prettier-ignore
export const STATIC_TABLE: ReadonlyArray<readonly [string, string]> = [
  [":authority", ""], [":method", "GET"], [":method", "POST"], [":path", "/"], [":path", "/index.html"],
  [":scheme", "http"], [":scheme", "https"], [":status", "200"], [":status", "204"], [":status", "206"],
  [":status", "304"], [":status", "400"], [":status", "404"], [":status", "500"], ["accept-charset", ""],
  ["accept-encoding", "gzip, deflate"], ["accept-language", ""], ["accept-ranges", ""], ["accept", ""],
  ["access-control-allow-origin", ""], ["age", ""], ["allow", ""], ["authorization", ""], ["cache-control", ""],
  ["content-disposition", ""], ["content-encoding", ""], ["content-language", ""], ["content-length", ""],
  ["content-location", ""], ["content-range", ""], ["content-type", ""], ["cookie", ""], ["date", ""],
  ["etag", ""], ["expect", ""], ["expires", ""], ["from", ""], ["host", ""], ["if-match", ""],
  ["if-modified-since", ""], ["if-none-match", ""], ["if-range", ""], ["if-unmodified-since", ""],
  ["last-modified", ""], ["link", ""], ["location", ""], ["max-forwards", ""], ["proxy-authenticate", ""],
  ["proxy-authorization", ""], ["range", ""], ["referer", ""], ["refresh", ""], ["retry-after", ""],
  ["server", ""], ["set-cookie", ""], ["strict-transport-security", ""], ["transfer-encoding", ""],
  ["user-agent", ""], ["vary", ""], ["via", ""], ["www-authenticate", ""],
];

export const STATIC_ENTRIES = STATIC_TABLE.length;

/** name → its lowest index, and the index of each (name, value) pair the table holds. */
const byName = new Map<string, { nameIndex: number; values: Map<string, number> }>();
STATIC_TABLE.forEach(([name, value], i) => {
  let entry = byName.get(name);
  if (entry === undefined) byName.set(name, (entry = { nameIndex: i + 1, values: new Map() }));
  entry.values.set(value, i + 1);
});

/** The lowest static index with this name, or 0. */
export function staticNameIndex(name: string): number {
  return byName.get(name)?.nameIndex ?? 0;
}

/** The static index of exactly this (name, value), or 0. */
export function staticFieldIndex(name: string, value: string): number {
  return byName.get(name)?.values.get(value) ?? 0;
}
