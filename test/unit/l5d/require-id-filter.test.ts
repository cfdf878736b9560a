// The outbound `l5d-require-id` rule (Linkerd's require_id_header.rs): the header is always dropped;
// the endpoint discovery picks must carry exactly the required identity, else 502 naming what was
// found; a plaintext endpoint, the default route and a proxy without identity never satisfy it; a
// value that is no identity is dropped and enforces nothing, as in Linkerd.
import { describe, expect, test } from "bun:test";

import { discoveryFilter } from "../../../src/discovery/discovery-filter.ts";
import { EndpointTable } from "../../../src/discovery/endpoint-table.ts";
import type { EndpointSliceSpec } from "../../../src/discovery/model.ts";
import * as codes from "../../../src/errors/codes.ts";
import { FilterChain } from "../../../src/http/filter.ts";
import { IdentityRequiredError, NoEndpointError, rescue } from "../../../src/http/proxy-errors.ts";
import { parseRequiredId, requireIdFilter } from "../../../src/l5d/require-id-filter.ts";
import { FakeExchange } from "../../support/fake-exchange.ts";

const WEB_ID = "web.default.serviceaccount.identity.linkerd.cluster.local";
const OTHER_ID = "other.default.serviceaccount.identity.linkerd.cluster.local";

const slice = (service: string, address: string, identity: string | undefined, ready = true): EndpointSliceSpec => ({
  name: `${service}-1`,
  namespace: "default",
  serviceName: service,
  addressType: "IPv4",
  identity,
  endpoints: [{ addresses: [address], ready }],
  ports: [{ name: "", port: undefined }],
});

const table = new EndpointTable(
  [slice("web", "10.0.0.1", WEB_ID), slice("plain", "10.0.0.2", undefined), slice("down", "10.0.0.3", WEB_ID, false)],
  [],
  "cluster.local",
);

function send(authority: string, headers: Record<string, string>, localIdentity = true) {
  const chain = new FilterChain([requireIdFilter({ localIdentity, endpoints: discoveryFilter(table) })]);
  return new FakeExchange(chain, "outbound", "GET", "/", authority, headers).requestHead();
}

describe("l5d-require-id", () => {
  test("the required identity equals the endpoint's: the request goes to it, without the header", () => {
    const ex = send("web.default.svc.cluster.local:8080", { "l5d-require-id": WEB_ID });
    expect(ex.selected).toEqual({ host: "10.0.0.1", port: 8080, identity: WEB_ID });
    expect(ex.requestEdits.dropNames).toEqual(["l5d-require-id"]);
  });

  test("another identity: 502 naming the required and the found identity, connection closed", () => {
    const ex = send("web.default.svc.cluster.local:8080", { "l5d-require-id": OTHER_ID });
    expect(ex.selected).toBeInstanceOf(IdentityRequiredError);
    const answer = rescue(ex.selected);
    expect(answer).toMatchObject({ status: 502, closeConnection: true, code: codes.PXY_ERR_HTTP_IDENTITY_REQUIRED });
    expect(answer.message).toBe(`required id ${OTHER_ID}; found ${WEB_ID}`);
    expect(ex.requestEdits.dropNames).toEqual(["l5d-require-id"]);
  });

  test("a plaintext endpoint (no identity from discovery) never satisfies it", () => {
    const ex = send("plain.default.svc.cluster.local:8080", { "l5d-require-id": WEB_ID });
    expect(rescue(ex.selected).message).toBe(`required id ${WEB_ID}; found none (no_identity: not_provided_by_service_discovery)`);
  });

  test("an authority discovery does not know goes by the default route, without identity: refused", () => {
    const ex = send("example.com:80", { "l5d-require-id": WEB_ID });
    expect(ex.selected).toBeInstanceOf(IdentityRequiredError);
  });

  test("without a local identity nothing is mTLS'd: refused even for the right endpoint", () => {
    const ex = send("web.default.svc.cluster.local:8080", { "l5d-require-id": WEB_ID }, false);
    expect(rescue(ex.selected).message).toBe(`required id ${WEB_ID}; found none (disabled: this proxy has no identity)`);
  });

  test("no ready endpoint stays discovery's 503", () => {
    expect(send("down.default.svc.cluster.local:8080", { "l5d-require-id": WEB_ID }).selected).toBeInstanceOf(NoEndpointError);
  });

  test("without the header the filter only passes discovery's choice on", () => {
    const ex = send("plain.default.svc.cluster.local:8080", {});
    expect(ex.selected).toEqual({ host: "10.0.0.2", port: 8080, identity: undefined });
    expect(ex.requestEdits.dropNames).toBeNull();
    expect(send("example.com", {}).selected).toBeUndefined();
  });

  test("a value that is no identity is dropped and enforces nothing (Linkerd's parse failure)", () => {
    const ex = send("plain.default.svc.cluster.local:8080", { "l5d-require-id": "not an identity" });
    expect(ex.selected).toEqual({ host: "10.0.0.2", port: 8080, identity: undefined });
    expect(ex.requestEdits.dropNames).toEqual(["l5d-require-id"]);
  });

  test("the state is per request: a header on one request does not constrain the next", () => {
    const chain = new FilterChain([requireIdFilter({ localIdentity: true, endpoints: discoveryFilter(table) })]);
    const ex = new FakeExchange(chain, "outbound", "GET", "/", "plain.default.svc.cluster.local:8080", { "l5d-require-id": WEB_ID });
    expect(ex.requestHead().selected).toBeInstanceOf(IdentityRequiredError);
    delete (ex as unknown as { headers: Record<string, string> }).headers["l5d-require-id"];
    expect(ex.requestHead().selected).toEqual({ host: "10.0.0.2", port: 8080, identity: undefined });
  });
});

describe("parseRequiredId", () => {
  test("DNS names in lowercase, URIs as written, anything else is no identity", () => {
    expect(parseRequiredId(` ${WEB_ID.toUpperCase()} `)).toBe(WEB_ID);
    expect(parseRequiredId("spiffe://cluster.local/ns/default/sa/web")).toBe("spiffe://cluster.local/ns/default/sa/web");
    expect(parseRequiredId(`${WEB_ID}.`)).toBeUndefined();
    expect(parseRequiredId("")).toBeUndefined();
    expect(parseRequiredId("two words")).toBeUndefined();
    expect(parseRequiredId("-bad-.example")).toBeUndefined();
  });
});
