// The meshed endpoints of a table: every IP and numbered port of an annotated slice with its identity;
// unannotated and FQDN slices and port-less slice ports left out; IPv6 matched in the front door's
// canonical form; the first slice listing an address:port wins; one object per table.
import { expect, test } from "bun:test";

import { EndpointTable } from "../../../src/discovery/endpoint-table.ts";
import { MeshedEndpoints, meshedEndpointsOf } from "../../../src/discovery/meshed-endpoints.ts";
import type { EndpointSliceSpec } from "../../../src/discovery/model.ts";

const WEB = "web.default.serviceaccount.identity.linkerd.cluster.local";
const DB = "db.default.serviceaccount.identity.linkerd.cluster.local";
const slice = (name: string, over: Partial<EndpointSliceSpec> = {}): EndpointSliceSpec => ({
  name,
  namespace: "default",
  serviceName: name,
  addressType: "IPv4",
  identity: undefined,
  endpoints: [{ addresses: ["10.0.0.1"], ready: true }],
  ports: [{ name: "", port: 8080 }],
  ...over,
});

const table = new EndpointTable(
  [
    slice("web", { identity: WEB, endpoints: [{ addresses: ["10.0.0.1", "10.0.0.2"], ready: true }, { addresses: ["10.0.0.3"], ready: false }], ports: [{ name: "http", port: 8080 }, { name: "admin", port: 9990 }] }),
    slice("plain", { endpoints: [{ addresses: ["10.0.0.9"], ready: true }] }),
    slice("ext", { identity: WEB, addressType: "FQDN", endpoints: [{ addresses: ["db.example.com"], ready: true }] }),
    slice("anyport", { identity: WEB, endpoints: [{ addresses: ["10.0.0.8"], ready: true }], ports: [{ name: "", port: undefined }] }),
    slice("db6", { identity: DB, addressType: "IPv6", endpoints: [{ addresses: ["FD00:0:0::5"], ready: true }], ports: [{ name: "", port: 5432 }] }),
    slice("again", { identity: DB, endpoints: [{ addresses: ["10.0.0.1"], ready: true }] }), // 10.0.0.1:8080 is web's already
  ],
  [],
  "cluster.local",
);

test("annotated IP endpoints on numbered ports, ready or not, with their identity", () => {
  const meshed = new MeshedEndpoints(table);
  expect(meshed.list().map((e) => `${e.ip}:${e.port}=${e.identity.split(".")[0]}`).sort()).toEqual(
    ["10.0.0.1:8080=web", "10.0.0.1:9990=web", "10.0.0.2:8080=web", "10.0.0.2:9990=web", "10.0.0.3:8080=web", "10.0.0.3:9990=web", "FD00:0:0::5:5432=db"].sort(),
  );
  expect(meshed.identityOf("10.0.0.2", 9990)).toBe(WEB);
  expect(meshed.identityOf("10.0.0.2", 9991)).toBeUndefined();
  expect(meshed.identityOf("10.0.0.9", 8080)).toBeUndefined(); // not annotated
  expect(meshed.identityOf("10.0.0.8", 8080)).toBeUndefined(); // a slice port without a number
  expect(meshed.identityOf("fd00::5", 5432)).toBe(DB); // as the front door prints it
});

test("one object per table", () => {
  expect(meshedEndpointsOf(table)).toBe(meshedEndpointsOf(table));
});
