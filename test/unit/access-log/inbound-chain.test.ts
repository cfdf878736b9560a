// Where the access log sits in the inbound pipeline: first, before authorize (Linkerd's access log is the
// outermost layer of its inbound HTTP server, so denied requests are logged), when MESHLET_ACCESS_LOG is
// on, and not in the chain at all when it is off.
import { expect, test } from "bun:test";

import { accessLogFilter } from "../../../src/access-log/access-log-filter.ts";
import { writeJsonLine } from "../../../src/access-log/access-log-format.ts";
import type { PolicyObjects } from "../../../src/authz/compile.ts";
import { parseConfig } from "../../../src/config/env.ts";
import { inboundChain } from "../../../src/inbound/filters.ts";
import { monotonicClock } from "../../../src/rt/clock.ts";
import { profileSetFromYaml } from "../../support/profiles.ts";

const NO_POLICY: PolicyObjects = {
  servers: [],
  serverAuthorizations: [],
  authorizationPolicies: [],
  meshTlsAuthentications: [],
  networkAuthentications: [],
  policyHttpRoutes: [],
  gatewayHttpRoutes: [],
};

const PROFILE = `apiVersion: linkerd.io/v1alpha2
kind: ServiceProfile
metadata: {name: web.default.svc.cluster.local}
spec:
  routes: [{name: books, condition: {pathRegex: /books}}]
`;

test("on: access-log → l5d-client-id → authorize → profile; off: no access-log filter", () => {
  const config = parseConfig({});
  const generation = { ...NO_POLICY, profiles: profileSetFromYaml(PROFILE) };
  const generations = { get: () => generation };
  const accessLog = accessLogFilter({ sink: { push: () => true, reuse: () => undefined } });
  const on = inboundChain(config, generations, monotonicClock, { accessLog }).get();
  const off = inboundChain(config, generations, monotonicClock).get();
  expect(on.names[0]).toBe("access-log");
  expect(on.names.indexOf("authorize")).toBeGreaterThan(on.names.indexOf("l5d-client-id"));
  expect(on.names.at(-1)).toBe("profile");
  expect(on.names.filter((n) => n !== "access-log")).toEqual(off.names);
  expect(off.names).toContain("authorize");
  expect(off.names).not.toContain("access-log");
});
