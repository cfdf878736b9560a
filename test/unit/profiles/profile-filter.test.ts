// The profile and retry filters driven phase by phase with a fake exchange and a FakeClock (no
// sockets): what each phase sets on the context, every budget deposit and withdrawal (§3.2), the
// per-attempt share of the route deadline, inbound behaviour, and reloads.
import { describe, expect, test } from "bun:test";
import { Registry } from "prom-client";

import { FilterChain, chainPerGeneration } from "../../../src/http/filter.ts";
import { ClientClosedError, ConnectRefusedError, RouteTimeoutError } from "../../../src/http/proxy-errors.ts";
import { routeMetrics } from "../../../src/metrics/route.ts";
import type { Profile, ProfileSet } from "../../../src/profiles/model.ts";
import { profileFilter } from "../../../src/profiles/profile-filter.ts";
import { retryFilter } from "../../../src/profiles/retry-filter.ts";
import { WatchCell } from "../../../src/rt/watch.ts";
import { FakeExchange } from "../../support/fake-exchange.ts";
import { FakeClock, metric, profileSetFromYaml } from "../../support/profiles.ts";

const HOST = "books.default.svc.cluster.local:8080";
const NAME = "books.default.svc.cluster.local";

const YAML = (budget = "") => `
apiVersion: linkerd.io/v1alpha2
kind: ServiceProfile
metadata:
  name: ${NAME}
spec:
  routes:
  - name: get
    condition: { method: GET, pathRegex: /books }
    isRetryable: true
    timeout: 100ms
  - name: post
    condition: { method: POST, pathRegex: /books }
    isRetryable: true
  - name: plain
    condition: { pathRegex: /plain }
${budget}`;

function setup(opts: { direction?: "inbound" | "outbound"; budget?: string; inboundProfileName?: string } = {}) {
  const budgetClock = new FakeClock();
  const clock = new FakeClock();
  const registry = new Registry();
  const profiles = profileSetFromYaml(YAML(opts.budget), budgetClock);
  const config = new WatchCell<{ readonly profiles: ProfileSet }>({ profiles });
  const direction = opts.direction ?? "outbound";
  const metrics = routeMetrics(registry);
  // The outbound and inbound chains as src/outbound and src/inbound compose them (profile, then retry).
  const chains = chainPerGeneration(config, (generation) => {
    const profile = profileFilter({
      direction,
      profiles: generation.profiles,
      inboundProfileName: opts.inboundProfileName,
      externalProfiles: false,
      clusterDomain: "cluster.local",
      clock,
      metrics,
    });
    return new FilterChain(direction === "outbound" ? [profile, retryFilter(direction, profile)] : [profile]);
  });
  const budget = (profiles.byName.get(NAME) as Profile).budget;
  const ctx = (method: string, path: string, authority?: string, headers?: Record<string, string>) =>
    new FakeExchange(chains.get(), direction, method, path, authority ?? HOST, headers);
  return { clock, registry, config, budget, ctx, budgetClock };
}

describe("request head", () => {
  test("an outbound request on a retryable route with a timeout: route, retention, deadline, timeout error", () => {
    const { ctx } = setup();
    const c = ctx("GET", "/books");
    c.requestHead();
    expect(c.route).toBe("get");
    expect(c.retainBodyBytes).toBe(64 * 1024);
    expect(c.responseTimeoutMs).toBe(100);
    const err = c.timeoutError!(37);
    expect(err).toBeInstanceOf(RouteTimeoutError);
    expect(err.message).toBe("response timed out after 100ms"); // the route's timeout, not the attempt's share
  });

  test("a host without a profile is left untouched", async () => {
    const { ctx, registry } = setup();
    const c = ctx("GET", "/books", "authors.default.svc.cluster.local:8080");
    c.requestHead();
    expect([c.route, c.retainBodyBytes, c.responseTimeoutMs, c.timeoutError]).toEqual([undefined, 0, 0, undefined]);
    expect(c.responseHead(503)).toBe(false);
    c.complete();
    expect(await metric(registry, "route_request_total")).toBe(0);
  });

  test("a declared body above 64 KiB gets no retry support: nothing retained", () => {
    const { ctx } = setup();
    const c = ctx("POST", "/books", HOST, { "content-length": String(64 * 1024 + 1) });
    c.requestHead();
    expect(c.route).toBe("post");
    expect(c.retainBodyBytes).toBe(0);
  });

  test("inbound: route and metrics, but no retention and no timeout", async () => {
    const { ctx, registry } = setup({ direction: "inbound" });
    const c = ctx("GET", "/books");
    c.requestHead();
    expect([c.route, c.retainBodyBytes, c.responseTimeoutMs, c.timeoutError]).toEqual(["get", 0, 0, undefined]);
    expect(c.responseHead(503)).toBe(false);
    c.complete();
    expect(await metric(registry, "route_response_total", { direction: "inbound", rt_route: "get", status_code: "503" })).toBe(1);
  });

  test("inbound with MESHLET_INBOUND_PROFILE: that profile whatever the authority, and dst names it", async () => {
    const { ctx, registry } = setup({ direction: "inbound", inboundProfileName: NAME });
    for (const authority of ["10.0.0.9:8080", "anything.example:1", "x"]) {
      const c = ctx("GET", "/books", authority);
      c.requestHead();
      expect(c.route).toBe("get");
    }
    // One series, not one per Host header a client sends.
    expect(await metric(registry, "route_request_total", { direction: "inbound", dst: `${NAME}:80`, rt_route: "get" })).toBe(3);
    expect(await metric(registry, "route_request_total")).toBe(3);
  });
});

describe("retries and the budget", () => {
  test("a failure is retried with a withdrawal; the success that follows deposits", async () => {
    const { ctx, budget, registry } = setup();
    const start = budget.balance();
    const c = ctx("GET", "/books");
    c.requestHead();
    expect(c.responseHead(503)).toBe(true);
    expect(budget.balance()).toBe(start - budget.withdrawAmount);
    expect(c.responseHead(200, 35)).toBe(false);
    expect(budget.balance()).toBe(start - budget.withdrawAmount + budget.depositAmount);
    c.complete();
    const route = { rt_route: "get" };
    expect(await metric(registry, "route_request_total", route)).toBe(1);
    expect(await metric(registry, "route_actual_request_total", route)).toBe(2);
    expect(await metric(registry, "route_actual_response_total", { ...route, status_code: "503" })).toBe(1);
    expect(await metric(registry, "route_actual_response_total", { ...route, status_code: "200" })).toBe(1);
    expect(await metric(registry, "route_response_total", { ...route, status_code: "200", classification: "success" })).toBe(1);
    expect(await metric(registry, "route_response_total", { ...route, status_code: "503" })).toBe(0);
    expect(await metric(registry, "route_retryable_total", route)).toBe(1);
    // Latency runs from the original request to the final head: 35 - 10 ms, in the 30 ms bucket.
    expect(await metric(registry, "route_response_latency_ms_sum", route)).toBe(25);
  });

  test("each retry gets only what is left of the route deadline", () => {
    const { ctx, clock } = setup();
    const c = ctx("GET", "/books");
    c.requestHead();
    expect(c.responseTimeoutMs).toBe(100);
    clock.advance(70);
    expect(c.responseHead(503)).toBe(true);
    expect(c.responseTimeoutMs).toBe(30);
    clock.advance(40); // past the deadline: the next attempt times out at once, as Linkerd's outer timer would
    expect(c.responseHead(503)).toBe(true);
    expect(c.responseTimeoutMs).toBe(1);
  });

  test("no budget: the failed response is returned, counted as skipped, and nothing is deposited", async () => {
    // ratio 1 → withdraw 1; minRetriesPerSecond 0 → no reserve: a retry needs an earlier deposit.
    const { ctx, budget, registry } = setup({ budget: "  retryBudget: { retryRatio: 1, minRetriesPerSecond: 0, ttl: 10s }\n" });
    expect(budget.balance()).toBe(0);
    const c = ctx("GET", "/books");
    c.requestHead();
    expect(c.responseHead(503)).toBe(false);
    c.complete();
    expect(budget.balance()).toBe(0);
    expect(await metric(registry, "route_retryable_total", { rt_route: "get", skipped: undefined })).toBe(1);
    expect(await metric(registry, "route_retryable_total", { rt_route: "get", skipped: "no_budget" })).toBe(1);
    expect(await metric(registry, "route_response_total", { rt_route: "get", status_code: "503", classification: "failure" })).toBe(1);

    // One success deposits 1, which pays for the next request's retry.
    const ok = ctx("GET", "/books");
    ok.requestHead();
    ok.responseHead(200);
    ok.complete();
    expect(budget.balance()).toBe(1);
    const again = ctx("GET", "/books");
    again.requestHead();
    expect(again.responseHead(503)).toBe(true);
    expect(budget.balance()).toBe(0);
  });

  test("a failure whose request cannot be replayed (capped or still streaming) is final and deposits", async () => {
    const { ctx, budget, registry } = setup();
    const start = budget.balance();
    const c = ctx("POST", "/books");
    c.requestHead();
    c.replayable = false;
    expect(c.responseHead(503)).toBe(false);
    c.complete();
    expect(budget.balance()).toBe(start + budget.depositAmount);
    expect(await metric(registry, "route_retryable_total")).toBe(0);
  });

  test("errors are never retried; a final error deposits and is counted without a status", async () => {
    const { ctx, budget, registry } = setup();
    const start = budget.balance();
    const c = ctx("GET", "/books");
    c.requestHead();
    const err = new RouteTimeoutError(100);
    expect(c.attemptError(err)).toBe(false);
    c.complete(err, 504);
    expect(budget.balance()).toBe(start + budget.depositAmount);
    expect(await metric(registry, "route_response_total", { rt_route: "get", error: "timeout", status_code: undefined })).toBe(1);
    expect(await metric(registry, "route_response_latency_ms_count")).toBe(0);

    const r = ctx("GET", "/books");
    r.requestHead();
    r.responseHead(503); // retried
    r.complete(new ConnectRefusedError("127.0.0.1:1"), 502); // the retry fails to connect
    expect(budget.balance()).toBe(start + 2 * budget.depositAmount - budget.withdrawAmount);
    expect(await metric(registry, "route_actual_response_total", { rt_route: "get", error: "unclassified" })).toBe(1);
  });

  test("a client that leaves before any response: no response counted, no deposit", async () => {
    const { ctx, budget, registry } = setup();
    const start = budget.balance();
    const c = ctx("GET", "/books");
    c.requestHead();
    c.complete(new ClientClosedError("client closed the connection"));
    expect(budget.balance()).toBe(start);
    expect(await metric(registry, "route_request_total")).toBe(1);
    expect(await metric(registry, "route_response_total")).toBe(0);
  });

  test("a route that is not retryable never touches the budget", () => {
    const { ctx, budget } = setup();
    const start = budget.balance();
    const c = ctx("GET", "/plain");
    c.requestHead();
    expect(c.retainBodyBytes).toBe(0);
    expect(c.responseHead(503)).toBe(false);
    c.complete();
    expect(budget.balance()).toBe(start);
  });
});

test("a reload applies to the next request; a request in flight keeps the route it started with", async () => {
  const { ctx, config, registry, budgetClock } = setup();
  const inFlight = ctx("GET", "/plain");
  inFlight.requestHead();
  config.set({
    profiles: profileSetFromYaml(YAML().replace("name: plain", "name: renamed"), budgetClock, config.get().profiles),
  });
  const next = ctx("GET", "/plain");
  next.requestHead();
  expect([inFlight.route, next.route]).toEqual(["plain", "renamed"]);
  inFlight.responseHead(200);
  inFlight.complete();
  expect(await metric(registry, "route_response_total", { rt_route: "plain" })).toBe(1);
});
