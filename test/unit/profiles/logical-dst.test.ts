// The dst label as a table: the authority as Linkerd's logical `name:port`, lowercased, with the
// connection's destination port (else 80) when the authority names none.
import { expect, test } from "bun:test";

import { logicalDst } from "../../../src/profiles/logical-dst.ts";

const conn = (host: string, port: number) => ({ host, port });

test.each<[string, string | undefined, { host: string; port: number } | null, string]>([
  ["name with port", "books.default.svc.cluster.local:8080", null, "books.default.svc.cluster.local:8080"],
  ["no port, no connection destination: 80", "books.default.svc.cluster.local", null, "books.default.svc.cluster.local:80"],
  ["no port: the connection's destination port", "books", conn("10.0.0.7", 8080), "books:8080"],
  ["the authority's port wins over the connection's", "books:9090", conn("10.0.0.7", 8080), "books:9090"],
  ["lowercased, trailing dot dropped", "Books.Default.SVC.cluster.local.:80", null, "books.default.svc.cluster.local:80"],
  ["IPv6 keeps its brackets", "[::1]:8080", null, "[::1]:8080"],
  ["IPv4", "127.0.0.1:4140", null, "127.0.0.1:4140"],
  ["no authority: the connection's destination", undefined, conn("127.0.0.1", 8080), "127.0.0.1:8080"],
  ["unparseable authority: the connection's destination", "a b:1", conn("app", 8080), "app:8080"],
  ["IPv6 connection destination", undefined, conn("::1", 8080), "[::1]:8080"],
  ["nothing at all", undefined, null, ""],
  ["a profile name with a port keeps it", "localhost:8080", conn("127.0.0.1", 4143), "localhost:8080"],
  ["a profile name without one takes the connection's", "books.default.svc.cluster.local", conn("127.0.0.1", 8080), "books.default.svc.cluster.local:8080"],
])("%s", (_name, authority, connDst, want) => {
  expect(logicalDst(authority, connDst)).toBe(want);
});
