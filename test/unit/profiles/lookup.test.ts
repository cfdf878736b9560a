// Profile selection by authority: Kubernetes FQDNs with or without a port, host:port and bare host
// outside Kubernetes (only with external profiles on), and the pinned inbound profile.
import { describe, expect, test } from "bun:test";

import { parseAuthority } from "../../../src/http/authority.ts";
import { isClusterName, lookupProfile, type LookupOptions } from "../../../src/profiles/lookup.ts";
import type { ProfileSet } from "../../../src/profiles/model.ts";
import { buildProfileSet } from "../../../src/profiles/set.ts";
import { decodeYaml } from "./yaml-profile.ts";

const NAMES = [
  "books.default.svc.cluster.local",
  "books.default.svc.cluster.local:9090",
  "authors.default.svc.example.org",
  "localhost",
  "localhost:8080",
  "api.example.com",
  "127.0.0.1",
  "web.default.svc.cluster.local",
];

const set: ProfileSet = buildProfileSet(
  NAMES.map((name) => {
    const { specs } = decodeYaml(`apiVersion: linkerd.io/v1alpha2\nkind: ServiceProfile\nmetadata: {name: "${name}"}\nspec: {}\n`);
    return specs[0]!;
  }),
  { clock: { nowMs: () => 0 } },
);

const base = { direction: "outbound", externalProfiles: false, clusterDomain: "cluster.local" } as const;
const find = (authority: string, opts: Partial<LookupOptions> = {}) =>
  lookupProfile(set, authority, { ...base, ...opts })?.name;

describe("inside the cluster domain (external profiles off, the default)", () => {
  test.each<[string, string | undefined]>([
    ["books.default.svc.cluster.local", "books.default.svc.cluster.local"],
    ["books.default.svc.cluster.local:8080", "books.default.svc.cluster.local"], // any port
    ["books.default.svc.cluster.local:9090", "books.default.svc.cluster.local:9090"], // host:port first
    ["BOOKS.Default.svc.cluster.local:80", "books.default.svc.cluster.local"], // case-insensitive
    ["books.default.svc.cluster.local.:80", "books.default.svc.cluster.local"], // trailing dot (FQDN)
    ["unknown.default.svc.cluster.local", undefined],
    ["books.default", undefined], // short names are not expanded (no DNS search path)
    // Outside svc.cluster.local nothing gets a profile, even with a profile of exactly that name:
    ["localhost", undefined],
    ["localhost:8080", undefined],
    ["api.example.com:443", undefined],
    ["127.0.0.1:80", undefined],
    ["authors.default.svc.example.org", undefined], // another cluster domain
  ])("%s → %p", (authority, want) => {
    expect(find(authority)).toBe(want as string);
  });

  test("the cluster domain is configurable", () => {
    expect(find("authors.default.svc.example.org:80", { clusterDomain: "example.org" })).toBe(
      "authors.default.svc.example.org",
    );
    expect(find("books.default.svc.cluster.local", { clusterDomain: "example.org" })).toBeUndefined();
  });
});

describe("external profiles on", () => {
  const ext = { externalProfiles: true };
  test.each<[string, string | undefined]>([
    ["localhost:8080", "localhost:8080"], // host:port beats host
    ["localhost:3000", "localhost"], // a bare-host profile applies to every port
    ["localhost", "localhost"],
    ["LocalHost:3000", "localhost"],
    ["api.example.com:443", "api.example.com"],
    ["127.0.0.1:80", "127.0.0.1"],
    ["books.default.svc.cluster.local:1", "books.default.svc.cluster.local"],
    ["other.example.com", undefined],
    ["[::1]:8080", undefined],
    ["", undefined],
    ["bad host:80", undefined],
  ])("%s → %p", (authority, want) => {
    expect(find(authority, ext)).toBe(want as string);
  });
});

describe("inbound", () => {
  test("MESHLET_INBOUND_PROFILE pins the profile whatever the authority (and the domain rule)", () => {
    expect(find("10.0.0.7:8080", { direction: "inbound", inboundProfileName: "localhost" })).toBe("localhost");
  });
  test("a pinned name that does not exist means no profile, not a fallback", () => {
    expect(find("books.default.svc.cluster.local", { direction: "inbound", inboundProfileName: "nope" })).toBeUndefined();
  });
  test("without a pinned name inbound uses the authority", () => {
    expect(find("web.default.svc.cluster.local:8080", { direction: "inbound" })).toBe("web.default.svc.cluster.local");
  });
  test("the pinned name only applies inbound", () => {
    expect(find("localhost:1", { direction: "outbound", inboundProfileName: "localhost" })).toBeUndefined();
  });
});

describe("helpers", () => {
  test.each<[string, ReturnType<typeof parseAuthority>]>([
    ["a.b:80", { host: "a.b", port: 80 }],
    ["A.B.", { host: "a.b", port: undefined }],
    ["[::1]:443", { host: "::1", port: 443 }],
    ["[::1]", { host: "::1", port: undefined }],
    ["::1", undefined],
    ["a:", undefined],
    ["a:99999", undefined],
    ["a:x", undefined],
    ["user@a", undefined],
  ])("parseAuthority(%p)", (authority, want) => {
    expect(parseAuthority(authority)).toEqual(want);
  });

  test.each<[string, string, boolean]>([
    ["books.default.svc.cluster.local", "cluster.local", true],
    ["svc.cluster.local", "cluster.local", false],
    ["books.default.cluster.local", "cluster.local", false],
    ["x.svc.cluster.local", ".cluster.local.", true],
  ])("isClusterName(%p, %p) = %p", (host, domain, want) => {
    expect(isClusterName(host, domain)).toBe(want);
  });
});
