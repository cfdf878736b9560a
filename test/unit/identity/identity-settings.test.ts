// The MESHLET_IDENTITY_* settings: off by default, all three or none (each missing one named), and
// their values are file paths that /env.json and /config.json show — the key path too, never a key.
import { describe, expect, test } from "bun:test";

import { effectiveSettings } from "../../../src/config/effective.ts";
import { ConfigError, parseConfig } from "../../../src/config/env.ts";

const ALL = { MESHLET_IDENTITY_TRUST_ANCHORS: "/id/ca.crt", MESHLET_IDENTITY_CERT: "/id/tls.crt", MESHLET_IDENTITY_KEY: "/id/tls.key" };

function problemsOf(env: Record<string, string>) {
  try {
    parseConfig(env);
    return [];
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
}

describe("MESHLET_IDENTITY_*", () => {
  test("unset: no identity", () => {
    const config = parseConfig({});
    expect([config.identityTrustAnchorsPath, config.identityCertPath, config.identityKeyPath]).toEqual(["", "", ""]);
  });

  test("all three: the paths", () => {
    const config = parseConfig(ALL);
    expect([config.identityTrustAnchorsPath, config.identityCertPath, config.identityKeyPath]).toEqual(["/id/ca.crt", "/id/tls.crt", "/id/tls.key"]);
  });

  test("some but not all: each missing one is a problem naming those that are set", () => {
    expect(problemsOf({ MESHLET_IDENTITY_CERT: "/id/tls.crt", MESHLET_IDENTITY_KEY: " " })).toEqual([
      {
        name: "MESHLET_IDENTITY_TRUST_ANCHORS",
        value: "",
        expected: "a value too: MESHLET_IDENTITY_CERT is set, and MESHLET_IDENTITY_TRUST_ANCHORS, MESHLET_IDENTITY_CERT, MESHLET_IDENTITY_KEY go together (all or none)",
      },
      {
        name: "MESHLET_IDENTITY_KEY",
        value: " ",
        expected: "a value too: MESHLET_IDENTITY_CERT is set, and MESHLET_IDENTITY_TRUST_ANCHORS, MESHLET_IDENTITY_CERT, MESHLET_IDENTITY_KEY go together (all or none)",
      },
    ]);
    expect(problemsOf({ ...ALL, MESHLET_IDENTITY_KEY: "" }).map((p) => [p.name, p.expected])).toEqual([
      ["MESHLET_IDENTITY_KEY", "a value too: MESHLET_IDENTITY_TRUST_ANCHORS and MESHLET_IDENTITY_CERT are set, and MESHLET_IDENTITY_TRUST_ANCHORS, MESHLET_IDENTITY_CERT, MESHLET_IDENTITY_KEY go together (all or none)"],
    ]);
  });

  test("the effective settings show the three paths, the key's included", () => {
    const shown = Object.fromEntries(effectiveSettings(ALL).map((s) => [s.name, s.value]));
    expect([shown.MESHLET_IDENTITY_TRUST_ANCHORS, shown.MESHLET_IDENTITY_CERT, shown.MESHLET_IDENTITY_KEY]).toEqual(["/id/ca.crt", "/id/tls.crt", "/id/tls.key"]);
  });
});
