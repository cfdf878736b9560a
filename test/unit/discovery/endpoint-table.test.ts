// The endpoint table: authorities from the service-name label and namespace, port mapping (one port
// serves all; several need a Service), slices merged, not-ready endpoints kept out of the rotation,
// round-robin per port, identities per slice, and the /endpoints.json view of it.
import { describe, expect, test } from "bun:test";

import { EndpointTable } from "../../../src/discovery/endpoint-table.ts";
import { endpointsView } from "../../../src/discovery/endpoints-view.ts";
import type { EndpointSliceSpec, ServiceSpec, SlicePort } from "../../../src/discovery/model.ts";
import { slicePortFor } from "../../../src/discovery/port-mapping.ts";

const slice = (name: string, over: Partial<EndpointSliceSpec> = {}): EndpointSliceSpec => ({
  name,
  namespace: "default",
  serviceName: "web",
  addressType: "IPv4",
  identity: undefined,
  endpoints: [{ addresses: ["10.0.0.1"], ready: true }],
  ports: [{ name: "", port: 8080 }],
  ...over,
});
const service = (ports: ServiceSpec["ports"], name = "web"): ServiceSpec => ({ name, namespace: "default", ports });
const HOST = "web.default.svc.cluster.local";
const table = (slices: EndpointSliceSpec[], services: ServiceSpec[] = [], domain = "cluster.local") => new EndpointTable(slices, services, domain);
/** `address:port` of the next `n` choices. */
const picks = (t: EndpointTable, host: string, port: number, n: number) =>
  Array.from({ length: n }, () => {
    const c = t.choose(host, port);
    return c?.endpoint !== undefined ? `${c.endpoint.address}:${c.endpoint.port}` : String(c?.none);
  });

describe("authorities", () => {
  test("`<service>.<namespace>.svc.<cluster domain>` from the label and namespace; other names are not in the table", () => {
    const t = table([slice("a", { namespace: "shop", serviceName: "cart" })], [], "corp.example");
    expect(t.has("cart.shop.svc.corp.example")).toBe(true);
    expect(t.choose("cart.shop.svc.corp.example", 80)?.endpoint?.address).toBe("10.0.0.1");
    expect(t.choose("cart.shop.svc.cluster.local", 80)).toBeUndefined();
    expect(t.choose("cart", 80)).toBeUndefined();
  });

  test("a slice without the service-name label gives no authority", () => {
    expect(table([slice("a", { serviceName: undefined })]).size).toBe(0);
  });
});

describe("ports", () => {
  test("a slice with one port serves every port of the authority, on its own port", () => {
    const t = table([slice("a")]);
    expect(picks(t, HOST, 80, 1)).toEqual(["10.0.0.1:8080"]);
    expect(picks(t, HOST, 9999, 1)).toEqual(["10.0.0.1:8080"]);
  });

  test("a slice port without a number (all ports) serves the requested port", () => {
    const t = table([slice("a", { ports: [{ name: "", port: undefined }] })]);
    expect(picks(t, HOST, 7000, 1)).toEqual(["10.0.0.1:7000"]);
  });

  test("several ports without a Service: no endpoint, and the reason says why", () => {
    const t = table([slice("a", { ports: [{ name: "http", port: 8080 }, { name: "admin", port: 9990 }] })]);
    expect(t.choose(HOST, 80)).toEqual({ none: "default/a: the slice has 2 ports and no Service document maps service port 80 to one of them" });
  });

  test("a Service maps its port to the slice port of the same name, else by targetPort number or name", () => {
    const ports: SlicePort[] = [{ name: "http", port: 8080 }, { name: "admin", port: 9990 }, { name: "grpc", port: 9000 }];
    const svc = service([
      { name: "http", port: 80, targetPort: "web" },
      { name: "metrics", port: 9100, targetPort: 9990 },
      { name: "rpc", port: 50051, targetPort: "grpc" },
      { name: "gone", port: 81, targetPort: 1234 },
    ]);
    expect(slicePortFor(ports, 80, svc)).toEqual({ port: 8080 });
    expect(slicePortFor(ports, 9100, svc)).toEqual({ port: 9990 });
    expect(slicePortFor(ports, 50051, svc)).toEqual({ port: 9000 });
    expect(slicePortFor(ports, 81, svc)).toEqual({ none: "no port of the slice matches service port 81 (gone) by name or targetPort" });
    expect(slicePortFor(ports, 443, svc)).toEqual({ none: "Service default/web has no TCP port 443" });
    // Kubernetes' single unnamed port: the names ("") match.
    expect(slicePortFor([{ name: "", port: 8080 }], 80, service([{ name: "", port: 80, targetPort: undefined }]))).toEqual({ port: 8080 });
    expect(slicePortFor([], 80, undefined)).toEqual({ none: "the slice defines no TCP port" });
  });

  test("with a Service, the table maps each service port; a port it does not declare has no endpoint", () => {
    const t = table(
      [slice("a", { ports: [{ name: "http", port: 8080 }, { name: "admin", port: 9990 }] })],
      [service([{ name: "http", port: 80, targetPort: 8080 }, { name: "admin", port: 9990, targetPort: "admin" }])],
    );
    expect(picks(t, HOST, 80, 1)).toEqual(["10.0.0.1:8080"]);
    expect(picks(t, HOST, 9990, 1)).toEqual(["10.0.0.1:9990"]);
    expect(t.choose(HOST, 443)?.none).toBe("default/a: Service default/web has no TCP port 443");
  });

  test("a Service of another namespace does not map this service's ports", () => {
    const t = table([slice("a", { ports: [{ name: "http", port: 8080 }, { name: "x", port: 1 }] })], [{ name: "web", namespace: "other", ports: [{ name: "http", port: 80, targetPort: undefined }] }]);
    expect(t.choose(HOST, 80)?.none).toContain("no Service document maps service port 80");
  });
});

describe("endpoints", () => {
  test("several slices of one service merge; an address:port listed twice is one endpoint", () => {
    const t = table([
      slice("a", { endpoints: [{ addresses: ["10.0.0.1", "10.0.0.2"], ready: true }] }),
      slice("b", { endpoints: [{ addresses: ["10.0.0.2"], ready: true }, { addresses: ["10.0.0.3"], ready: true }] }),
    ]);
    expect(t.endpointsFor(HOST, 80)!.endpoints.map((e) => `${e.address} ${e.slice}`)).toEqual(["10.0.0.1 default/a", "10.0.0.2 default/a", "10.0.0.3 default/b"]);
  });

  test("not-ready endpoints are listed but never chosen; round-robin goes over the ready ones", () => {
    const t = table([
      slice("a", {
        endpoints: [
          { addresses: ["10.0.0.1"], ready: true },
          { addresses: ["10.0.0.2"], ready: false },
          { addresses: ["10.0.0.3"], ready: true },
        ],
      }),
    ]);
    expect(t.endpointsFor(HOST, 80)!.endpoints).toHaveLength(3);
    expect(picks(t, HOST, 80, 4)).toEqual(["10.0.0.1:8080", "10.0.0.3:8080", "10.0.0.1:8080", "10.0.0.3:8080"]);
  });

  test("each port keeps its own rotation, so interleaved ports still spread over every endpoint", () => {
    const t = table([slice("a", { endpoints: [{ addresses: ["10.0.0.1", "10.0.0.2"], ready: true }] })]);
    const seen = [t.choose(HOST, 80), t.choose(HOST, 81), t.choose(HOST, 80), t.choose(HOST, 81)].map((c) => c?.endpoint?.address);
    expect(seen).toEqual(["10.0.0.1", "10.0.0.1", "10.0.0.2", "10.0.0.2"]);
  });

  test("ports beyond the per-service cache still rotate (over one cursor of the service)", () => {
    const t = table([slice("a", { endpoints: [{ addresses: ["10.0.0.1", "10.0.0.2"], ready: true }] })]);
    for (let p = 1; p <= 1100; p++) t.choose(HOST, p);
    expect([t.choose(HOST, 2000), t.choose(HOST, 2000)].map((c) => c?.endpoint?.address).sort()).toEqual(["10.0.0.1", "10.0.0.2"]);
  });

  test("no ready endpoint: the reason counts the others; none listed says so", () => {
    expect(table([slice("a", { endpoints: [{ addresses: ["10.0.0.1", "10.0.0.2"], ready: false }] })]).choose(HOST, 80)).toEqual({ none: "none of its 2 endpoints is ready" });
    expect(table([slice("a", { endpoints: [] })]).choose(HOST, 80)).toEqual({ none: "its EndpointSlices list no endpoint" });
  });

  test("the identity annotation of a slice marks its endpoints; the chosen target carries it for the TLS side", () => {
    const t = table([
      slice("meshed", { identity: "web.default.serviceaccount.identity.linkerd.cluster.local", endpoints: [{ addresses: ["10.0.0.1"], ready: true }] }),
      slice("plain", { endpoints: [{ addresses: ["10.0.0.2"], ready: true }] }),
    ]);
    const [first, second] = [t.choose(HOST, 80)!.endpoint!, t.choose(HOST, 80)!.endpoint!];
    expect(first.target).toEqual({ host: "10.0.0.1", port: 8080, identity: "web.default.serviceaccount.identity.linkerd.cluster.local" });
    expect(second.target).toEqual({ host: "10.0.0.2", port: 8080, identity: undefined });
    // The same target object every time: choosing allocates nothing.
    t.choose(HOST, 80);
    expect(t.choose(HOST, 80)!.endpoint!.target).toBe(second.target);
  });

  test("FQDN endpoints are names, dialed through the DNS cache", () => {
    const t = table([slice("a", { addressType: "FQDN", endpoints: [{ addresses: ["api.example.com"], ready: true }], ports: [{ name: "", port: 443 }] })]);
    expect(t.choose(HOST, 443)!.endpoint!.target).toEqual({ host: "api.example.com", port: 443, identity: undefined });
  });
});

test("the view for /endpoints.json lists each service, its slices and, per service port, the endpoints", () => {
  const t = table(
    [
      slice("a", { identity: "web.id", endpoints: [{ addresses: ["10.0.0.1"], ready: true }, { addresses: ["10.0.0.2"], ready: false }] }),
      slice("b", { serviceName: "api", ports: [{ name: "", port: undefined }] }),
    ],
    [service([{ name: "http", port: 80, targetPort: 8080 }])],
  );
  expect(endpointsView(t)).toEqual({
    clusterDomain: "cluster.local",
    services: [
      {
        authority: HOST,
        service: "default/web",
        serviceDocument: true,
        slices: ["default/a"],
        ports: [
          {
            port: 80,
            name: "http",
            endpoints: [
              { address: "10.0.0.1", port: 8080, identity: "web.id", ready: true, slice: "default/a" },
              { address: "10.0.0.2", port: 8080, identity: "web.id", ready: false, slice: "default/a" },
            ],
          },
        ],
      },
      {
        authority: "api.default.svc.cluster.local",
        service: "default/api",
        serviceDocument: false,
        slices: ["default/b"],
        ports: [{ port: "*", endpoints: [{ address: "10.0.0.1", port: null, identity: null, ready: true, slice: "default/b" }] }],
      },
    ],
  });
});
