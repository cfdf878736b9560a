// The discovery filter on the outbound pipeline, and the table it reads per generation: a service
// authority goes to its endpoints (port from the authority, else the connection's destination, else 80),
// other authorities pass to the default route, no ready endpoint is a 503 naming the cause, and a
// reload (the config watch publishing a new generation) changes where the next request goes.
import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Registry } from "prom-client";

import { resourceKinds } from "../../../src/app/resource-kinds.ts";
import { parseConfig } from "../../../src/config/env.ts";
import { discoveryFilter } from "../../../src/discovery/discovery-filter.ts";
import { EndpointTable } from "../../../src/discovery/endpoint-table.ts";
import { endpointTableOf, endpointTables } from "../../../src/discovery/generation-table.ts";
import type { EndpointSliceSpec } from "../../../src/discovery/model.ts";
import { FilterChain } from "../../../src/http/filter.ts";
import { NoEndpointError, rescue } from "../../../src/http/proxy-errors.ts";
import type { UpstreamTarget } from "../../../src/http/request-ctx.ts";
import { loadConfigDir } from "../../../src/resources/config-dir.ts";
import { watchConfigDir } from "../../../src/resources/watch.ts";
import { FakeExchange } from "../../support/fake-exchange.ts";

const slice = (addresses: string[], ready = true): EndpointSliceSpec => ({
  name: "web-1",
  namespace: "default",
  serviceName: "web",
  addressType: "IPv4",
  identity: undefined,
  endpoints: [{ addresses, ready }],
  ports: [{ name: "", port: undefined }],
});

function select(table: EndpointTable, authority: string | undefined, opts: { method?: string; dst?: { host: string; port: number } } = {}) {
  const chain = new FilterChain([discoveryFilter(table)]);
  return new FakeExchange(chain, "outbound", opts.method ?? "GET", "/", authority, {}, { dst: opts.dst ?? null }).requestHead().selected;
}

describe("selectUpstream", () => {
  const table = new EndpointTable([slice(["10.0.0.1", "10.0.0.2"])], [], "cluster.local");

  test("an authority of the table goes to its endpoints in turn, whatever its case or trailing dot", () => {
    expect(select(table, "web.default.svc.cluster.local:8080")).toEqual({ host: "10.0.0.1", port: 8080, identity: undefined } as UpstreamTarget);
    expect(select(table, "WEB.default.svc.cluster.local.:8080")).toEqual({ host: "10.0.0.2", port: 8080, identity: undefined } as UpstreamTarget);
  });

  test("without a port in the authority: the connection's destination port, else 80", () => {
    expect(select(table, "web.default.svc.cluster.local", { dst: { host: "10.96.0.10", port: 9000 } })).toMatchObject({ port: 9000 });
    expect(select(table, "web.default.svc.cluster.local")).toMatchObject({ port: 80 });
  });

  test("other authorities, and requests without one, pass to the default route", () => {
    expect(select(table, "web.other.svc.cluster.local:8080")).toBeUndefined();
    expect(select(table, "example.com")).toBeUndefined();
    expect(select(table, undefined)).toBeUndefined();
  });

  test("CONNECT to a service is tunnelled by the proxy to an endpoint", () => {
    expect(select(table, "web.default.svc.cluster.local:443", { method: "CONNECT" })).toMatchObject({ port: 443, terminateConnect: true });
  });

  test("no ready endpoint: 503 Service Unavailable, l5d-proxy-error naming the authority and why", () => {
    const down = new EndpointTable([slice(["10.0.0.1"], false)], [], "cluster.local");
    const err = select(down, "web.default.svc.cluster.local:8080");
    expect(err).toBeInstanceOf(NoEndpointError);
    expect(rescue(err)).toMatchObject({ status: 503, closeConnection: true, code: "PXY_ERR_HTTP_NO_ENDPOINT", message: "no endpoint for web.default.svc.cluster.local:8080: none of its 1 endpoint is ready" });
  });
});

describe("one table per generation", () => {
  const root = mkdtempSync(join(tmpdir(), "meshlet-discovery-reload-"));
  afterAll(() => rmSync(root, { recursive: true, force: true }));
  const kinds = resourceKinds(parseConfig({}), { nowMs: () => 0 });
  const yaml = (ip: string) =>
    `apiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\nmetadata: {name: web-1, labels: {kubernetes.io/service-name: web}}\naddressType: IPv4\nendpoints: [{addresses: [${ip}]}]\nports: [{port: 8080}]\n`;

  test("every reader of a generation gets the same table; a reload builds a new one, an invalid change keeps it", () => {
    writeFileSync(join(root, "web.yaml"), yaml("10.0.0.1"));
    const initial = loadConfigDir(root, { kinds });
    if (!initial.ok) throw new Error("initial load failed");
    const log = { error() {}, warn() {}, info() {} };
    const watch = watchConfigDir({ dir: root, initial: initial.snapshot, kinds, wallClock: { nowMs: () => 0 }, log, registry: new Registry(), pollIntervalMs: 60_000, debounceMs: 60_000 });
    try {
      const tables = endpointTables(watch.config, "cluster.local");
      const first = tables.get();
      expect(endpointTableOf(watch.config.get(), "cluster.local")).toBe(first);
      expect(first.choose("web.default.svc.cluster.local", 80)?.endpoint?.address).toBe("10.0.0.1");

      writeFileSync(join(root, "web.yaml"), yaml("10.0.0.9"));
      expect(watch.reload().ok).toBe(true);
      expect(tables.get()).not.toBe(first);
      expect(tables.get().choose("web.default.svc.cluster.local", 80)?.endpoint?.address).toBe("10.0.0.9");

      const good = tables.get();
      writeFileSync(join(root, "web.yaml"), yaml("10.0.0.300"));
      expect(watch.reload().ok).toBe(false);
      expect(tables.get()).toBe(good);
    } finally {
      watch.close();
    }
  });
});
