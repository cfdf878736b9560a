// parseIdentityName: the DNS names a workload certificate may carry, lowercased; IPs and junk refused.
import { describe, expect, test } from "bun:test";

import { ValueError } from "../../../src/config/values.ts";
import { parseIdentityName } from "../../../src/identity/identity-name.ts";

describe("parseIdentityName", () => {
  test.each([
    ["web.default.serviceaccount.identity.linkerd.cluster.local", "web.default.serviceaccount.identity.linkerd.cluster.local"],
    ["Web.Example.", "web.example"],
    ["localhost", "localhost"],
  ])("%s → %s", (text, name) => {
    expect(parseIdentityName(text)).toBe(name);
  });

  test.each(["", "bad name", "a..b", "-a.b", "10.0.0.1", "::1", `${"a".repeat(64)}.b`, "*.example"])("%j is refused", (text) => {
    expect(() => parseIdentityName(text)).toThrow(ValueError);
  });
});
