// Loop prevention by address: every spelling of an IP canonicalizes to one form, and a dial target is
// "own" exactly when one of the registered listeners would accept a connection to it.
import { describe, expect, test } from "bun:test";
import { networkInterfaces } from "node:os";

import { OwnListeners, canonicalIp } from "../../../src/http/own-listeners.ts";

describe("canonicalIp", () => {
  const cases: Array<[string, string | null]> = [
    ["127.0.0.1", "127.0.0.1"],
    ["127.1", "127.0.0.1"],
    ["2130706433", "127.0.0.1"],
    ["0x7f000001", "127.0.0.1"],
    ["0x7F.1", "127.0.0.1"],
    ["0177.0.0.1", "127.0.0.1"],
    ["127.000.000.001", "127.0.0.1"],
    ["::ffff:127.0.0.1", "127.0.0.1"],
    ["[::FFFF:7F00:1]", "127.0.0.1"],
    ["0:0:0:0:0:ffff:7f00:1", "127.0.0.1"],
    ["0.0.0.0", "127.0.0.1"], // Linux routes a connect to the unspecified address to loopback
    ["0", "127.0.0.1"],
    ["::", "::1"],
    ["[0:0:0:0:0:0:0:1]", "::1"],
    ["FE80::1%eth0", "fe80::1"],
    ["localhost", null],
    ["example.com", null],
    ["256.0.0.1", null],
    ["1.2.3.4.5", null],
    ["", null],
  ];
  for (const [spelling, canonical] of cases) {
    test(`${JSON.stringify(spelling)} → ${canonical}`, () => expect(canonicalIp(spelling)).toBe(canonical));
  }
});

describe("OwnListeners", () => {
  test("a listener on 127.0.0.1 owns that address and port only", () => {
    const own = new OwnListeners();
    own.add("127.0.0.1", 4140);
    expect(own.accepts("127.0.0.1", 4140)).toBe(true);
    expect(own.accepts("127.0.0.1", 4141)).toBe(false);
    expect(own.accepts("127.0.0.2", 4140)).toBe(false); // nothing listens there: refused, not a loop
    expect(own.accepts("::1", 4140)).toBe(false);
  });

  test("spellings and localhost names are own before any lookup; other names are left to the pool", () => {
    const own = new OwnListeners();
    own.add("127.0.0.1", 4140);
    for (const host of ["127.1", "2130706433", "0x7f000001", "[::ffff:127.0.0.1]", "0.0.0.0", "LOCALHOST", "localhost.", "app.localhost"]) {
      expect(own.isOwn(host, 4140)).toBe(true);
    }
    expect(own.isOwn("127.1", 8080)).toBe(false);
    expect(own.isOwn("example.com", 4140)).toBe(false);
  });

  test("a wildcard IPv4 listener owns all of 127/8 and every local interface address", () => {
    const own = new OwnListeners();
    own.add("0.0.0.0", 4143);
    expect(own.accepts("127.0.0.1", 4143)).toBe(true);
    expect(own.accepts("127.3.2.1", 4143)).toBe(true);
    for (const addresses of Object.values(networkInterfaces())) {
      for (const a of addresses ?? []) if (a.family === "IPv4") expect(own.accepts(a.address, 4143)).toBe(true);
    }
    expect(own.accepts("192.0.2.1", 4143)).toBe(false); // TEST-NET-1: never local
    expect(own.accepts("::1", 4143)).toBe(false);
  });

  test("a wildcard IPv6 listener is dual-stack: it owns local IPv6 and IPv4 addresses", () => {
    const own = new OwnListeners();
    own.add("::", 4143);
    expect(own.accepts("::1", 4143)).toBe(true);
    expect(own.accepts("127.0.0.1", 4143)).toBe(true);
    expect(own.accepts("2001:db8::1", 4143)).toBe(false);
  });

  test("the listener a request arrived on is own even when nothing was registered", () => {
    const own = new OwnListeners();
    const local = { localAddress: "127.0.0.1", localPort: 5555 };
    expect(own.isOwn("127.1", 5555, local)).toBe(true);
    expect(own.isOwn("localhost", 5555, local)).toBe(true);
    expect(own.isOwn("127.0.0.1", 5556, local)).toBe(false);
  });
});
