// Reading a peer's identity from the subjectaltname string node:tls and Bun print: the first DNS or URI
// name is the client identity, a server carries an identity only by exact match, malformed input is a
// located error.
import { expect, test } from "bun:test";
import { SubjectAltNameError, carriesIdentity, peerIdentity, subjectAltNames } from "../../../src/tls/peer-identity.ts";

const ID = "web.default.serviceaccount.identity.linkerd.cluster.local";

test("the client identity is the first DNS or URI name, other kinds and a bare * skipped", () => {
  expect(peerIdentity(`DNS:${ID}, DNS:other.example`)).toEqual({ kind: "dns", name: ID });
  expect(peerIdentity("IP Address:10.0.0.1, email:a@b.c, DNS:*, URI:spiffe://td/ns/default/sa/web, DNS:x.example")).toEqual({ kind: "uri", name: "spiffe://td/ns/default/sa/web" });
  expect(subjectAltNames(`DNS:${ID}, IP Address:10.0.0.1, URI:spiffe://td/x`)).toEqual([{ kind: "dns", name: ID }, { kind: "uri", name: "spiffe://td/x" }]);
});

test("no certificate, no names, or only other kinds: no identity", () => {
  expect(peerIdentity(undefined)).toBeUndefined();
  expect(peerIdentity("")).toBeUndefined();
  expect(peerIdentity("IP Address:127.0.0.1, email:ops@example.com")).toBeUndefined();
});

test("JSON-quoted values (a comma or quote inside) are read whole", () => {
  expect(subjectAltNames('URI:"spiffe://td/a,b", DNS:x.example')).toEqual([{ kind: "uri", name: "spiffe://td/a,b" }, { kind: "dns", name: "x.example" }]);
  expect(peerIdentity('DNS:"we\\"ird"')).toEqual({ kind: "dns", name: 'we"ird' });
});

test("a server carries an identity only by exact name: case-insensitive DNS, no wildcard, exact URI", () => {
  expect(carriesIdentity(`DNS:other.example, DNS:${ID}`, ID)).toBe(true);
  expect(carriesIdentity(`DNS:${ID.toUpperCase()}`, ID)).toBe(true);
  expect(carriesIdentity("DNS:*.default.serviceaccount.identity.linkerd.cluster.local", ID)).toBe(false);
  expect(carriesIdentity(`DNS:${ID}.evil.example`, ID)).toBe(false);
  expect(carriesIdentity(`URI:spiffe://td/${ID}`, ID)).toBe(false);
  expect(carriesIdentity("URI:spiffe://td/ns/default/sa/web", "spiffe://td/ns/default/sa/web")).toBe(true);
  expect(carriesIdentity("URI:spiffe://td/ns/default/sa/WEB", "spiffe://td/ns/default/sa/web")).toBe(false);
  expect(carriesIdentity(undefined, ID)).toBe(false);
});

test("malformed strings are errors that say where", () => {
  const cases: Array<[string, number]> = [["DNS", 0], ['URI:"unterminated', 4], ["DNS:a, nocolon", 7], ['DNS:"a"x', 7]];
  for (const [input, offset] of cases) {
    let err: unknown;
    try {
      subjectAltNames(input);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(SubjectAltNameError);
    expect((err as SubjectAltNameError).code).toBe("MESHLET_ERR_TLS_SUBJECT_ALT_NAME");
    expect((err as SubjectAltNameError).offset).toBe(offset);
  }
});
