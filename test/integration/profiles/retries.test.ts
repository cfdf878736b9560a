// ServiceProfile retries end to end over real sockets (linkerd-behavior §3.2): failures on retryable
// routes are re-sent under the profile's budget, counted as effective vs actual; non-retryable routes,
// bodies over 64 KiB and transport errors are never retried. Budgets run on a frozen FakeClock.
import { expect, test } from "bun:test";
import type { Profile } from "../../../src/profiles/model.ts";
import { hasResponses, rawRequest, splitResponses } from "../../support/http-harness.ts";
import { FakeClock, metric, profileSetFromYaml, response, scriptedUpstream, send, startProfiledProxy } from "../../support/profiles.ts";

const HOST = "books.default.svc.cluster.local:8080";
const DST = { direction: "outbound", dst: HOST };

const profileYaml = (budget: string) => `
apiVersion: linkerd.io/v1alpha2
kind: ServiceProfile
metadata:
  name: books.default.svc.cluster.local
spec:
  routes:
  - name: list-books
    condition: { method: GET, pathRegex: /books }
    isRetryable: true
  - name: create-order
    condition: { method: POST, pathRegex: /orders }
  - name: upload
    condition: { method: POST, pathRegex: /upload }
    isRetryable: true
${budget}`;

/** Fails every other request the backend sees (0, 2, 4, ...), whatever the connection. */
const everyOtherFails = () => scriptedUpstream((_req, i) => (i % 2 === 0 ? response(503, "busy") : response(200, "ok")));

test("a backend failing every other GET: effective success 100%, actual 50%, one retry per request", async () => {
  const up = everyOtherFails();
  // Linkerd's default budget: reserve 10/s × 10 s × withdraw 5 = 500 covers the 100 retries below.
  const profiles = profileSetFromYaml(profileYaml(""), new FakeClock());
  const p = startProfiledProxy({ profiles, upstreamPort: up.port });
  try {
    const n = 100;
    const statuses: number[] = [];
    for (let i = 0; i < n; i++) statuses.push((await send(p.port, { path: "/books", host: HOST })).status);

    const route = { ...DST, rt_route: "list-books" };
    const ok = await metric(p.registry, "route_response_total", { ...route, classification: "success" });
    const failed = await metric(p.registry, "route_response_total", { ...route, classification: "failure" });
    const actualOk = await metric(p.registry, "route_actual_response_total", { ...route, classification: "success" });
    const actualFailed = await metric(p.registry, "route_actual_response_total", { ...route, classification: "failure" });

    expect(statuses.filter((s) => s === 200).length / n).toBeGreaterThanOrEqual(0.95);
    expect(ok / (ok + failed)).toBeGreaterThanOrEqual(0.95);
    expect(actualOk / (actualOk + actualFailed)).toBeGreaterThan(0.45);
    expect(actualOk / (actualOk + actualFailed)).toBeLessThan(0.55);
    // Each original is counted once, each attempt once more; the backend saw exactly the attempts.
    expect(await metric(p.registry, "route_request_total", route)).toBe(n);
    expect(await metric(p.registry, "route_actual_request_total", route)).toBe(up.requests.length);
    expect(actualOk + actualFailed).toBe(up.requests.length);
    expect(await metric(p.registry, "route_retryable_total", { ...route, skipped: undefined })).toBe(n);
    expect(await metric(p.registry, "route_retryable_total", { ...route, skipped: "no_budget" })).toBe(0);
    expect(await metric(p.registry, "route_response_latency_ms_count", { ...route, status_code: "200" })).toBe(n);
  } finally {
    p.stop();
    up.stop();
  }
});

test("retries stop when the budget is spent: counts match reserve + deposits × ratio exactly", async () => {
  const up = everyOtherFails();
  const clock = new FakeClock(); // frozen: nothing leaves the ttl window
  const profiles = profileSetFromYaml(
    profileYaml("  retryBudget:\n    retryRatio: 0.2\n    minRetriesPerSecond: 1\n    ttl: 10s\n"),
    clock,
  );
  const budget = (profiles.byName.get("books.default.svc.cluster.local") as Profile).budget;
  // deposit 1, withdraw trunc(1/0.2) = 5, reserve = 1/s × 10 s × 5 = 50 (§3.1).
  expect([budget.depositAmount, budget.withdrawAmount, budget.reserve]).toEqual([1, 5, 50]);
  const p = startProfiledProxy({ profiles, upstreamPort: up.port });
  try {
    const n = 30;
    const statuses: number[] = [];
    for (let i = 0; i < n; i++) statuses.push((await send(p.port, { path: "/books", host: HOST })).status);

    const route = { ...DST, rt_route: "list-books" };
    const retryable = await metric(p.registry, "route_retryable_total", { ...route, skipped: undefined });
    const noBudget = await metric(p.registry, "route_retryable_total", { ...route, skipped: "no_budget" });
    const retries = retryable - noBudget;
    const deposits = n - noBudget; // every final outcome deposits, except those refused for lack of budget

    // Each retried request nets -4 (withdraw 5, then its successful retry deposits 1): requests 1-12
    // are retried (50 → 2). From then on a failure is retried only once 5 deposits have refilled the
    // balance: requests 19 and 28; failures 13, 15, 17, 20, 22, 24, 26, 29 are returned as is.
    expect(retries).toBe(14);
    expect(noBudget).toBe(8);
    expect(retries * budget.withdrawAmount).toBeLessThanOrEqual(budget.reserve + deposits * budget.depositAmount);
    expect(budget.balance()).toBe(budget.reserve + deposits * budget.depositAmount - retries * budget.withdrawAmount);
    expect(budget.balance()).toBe(2);
    expect(statuses.filter((s) => s === 503).length).toBe(noBudget);
    expect(up.requests.length).toBe(n + retries);
    expect(await metric(p.registry, "route_response_total", { ...route, classification: "failure", status_code: "503" })).toBe(noBudget);
  } finally {
    p.stop();
    up.stop();
  }
});

test("a POST on a route that is not retryable is never retried, and never touches the budget", async () => {
  const up = scriptedUpstream(() => response(503, "down"));
  const profiles = profileSetFromYaml(profileYaml(""), new FakeClock());
  const budget = (profiles.byName.get("books.default.svc.cluster.local") as Profile).budget;
  const before = budget.balance();
  const p = startProfiledProxy({ profiles, upstreamPort: up.port });
  try {
    for (let i = 0; i < 5; i++) {
      const res = await send(p.port, { method: "POST", path: "/orders", host: HOST, body: "{}" });
      expect(res.status).toBe(503);
    }
    expect(up.requests.length).toBe(5);
    const route = { ...DST, rt_route: "create-order" };
    expect(await metric(p.registry, "route_actual_request_total", route)).toBe(5);
    expect(await metric(p.registry, "route_retryable_total", route)).toBe(0);
    expect(await metric(p.registry, "route_response_total", { ...route, classification: "failure", status_code: "503" })).toBe(5);
    expect(budget.balance()).toBe(before);
  } finally {
    p.stop();
    up.stop();
  }
});

test("request bodies: 1 KiB is replayed byte for byte; 100 KiB (Content-Length, chunked at once or trickled) is not retried", async () => {
  // Fails the first attempt of each distinct body, then succeeds.
  const seen = new Set<string>();
  const up = scriptedUpstream((req) => {
    const key = req.body.toString("latin1");
    if (seen.has(key)) return response(200, "ok");
    seen.add(key);
    return response(503, "busy");
  });
  const profiles = profileSetFromYaml(profileYaml(""), new FakeClock());
  const p = startProfiledProxy({ profiles, upstreamPort: up.port });
  try {
    const small = Buffer.alloc(1024, "s");
    expect((await send(p.port, { method: "POST", path: "/upload", host: HOST, body: small })).status).toBe(200);
    expect(up.requests.map((r) => r.body.equals(small))).toEqual([true, true]);

    const large = Buffer.alloc(100 * 1024, "L");
    expect((await send(p.port, { method: "POST", path: "/upload", host: HOST, body: large })).status).toBe(503);
    expect(up.requests.length).toBe(3);
    expect(up.requests[2]!.body.equals(large)).toBe(true);

    // No Content-Length: the cap is found while streaming (the whole body may arrive with the head).
    const chunked = Buffer.alloc(100 * 1024, "C");
    expect((await send(p.port, { method: "POST", path: "/upload", host: HOST, body: chunked, chunked: true })).status).toBe(503);
    expect(up.requests.length).toBe(4);
    expect(up.requests[3]!.body.equals(chunked)).toBe(true);

    // The same, with the body trickled in after the head (capped while streaming, chunk by chunk).
    const trickled = Buffer.alloc(100 * 1024, "T");
    const head = `POST /upload HTTP/1.1\r\nhost: ${HOST}\r\ntransfer-encoding: chunked\r\n\r\n`;
    const parts = [head, ...[0, 1, 2, 3].map((i) => {
      const piece = trickled.subarray(i * 25 * 1024, (i + 1) * 25 * 1024);
      return Buffer.concat([Buffer.from(`${piece.length.toString(16)}\r\n`), piece, Buffer.from("\r\n")]);
    }), "0\r\n\r\n"];
    const r = await rawRequest(p.port, parts, { until: hasResponses(1) });
    expect(splitResponses(r.data)[0]!.status).toBe(503);
    expect(up.requests.length).toBe(5);
    expect(up.requests[4]!.body.equals(trickled)).toBe(true);

    const route = { ...DST, rt_route: "upload" };
    expect(await metric(p.registry, "route_retryable_total", route)).toBe(1); // only the 1 KiB body
    expect(await metric(p.registry, "route_actual_request_total", route)).toBe(5);
  } finally {
    p.stop();
    up.stop();
  }
});

test("a transport error is never retried: the connection closes without a response → 502 once", async () => {
  // The upstream reads each request head and closes the connection without answering.
  let requests = 0;
  const dropper = Bun.listen({
    hostname: "127.0.0.1",
    port: 0,
    socket: {
      data(socket, chunk) {
        if (chunk.includes("\r\n\r\n")) {
          requests++;
          socket.end();
        }
      },
    },
  });
  const profiles = profileSetFromYaml(profileYaml(""), new FakeClock());
  const budget = (profiles.byName.get("books.default.svc.cluster.local") as Profile).budget;
  const before = budget.balance();
  const p = startProfiledProxy({ profiles, upstreamPort: dropper.port });
  try {
    const res = await send(p.port, { path: "/books", host: HOST });
    expect(res.status).toBe(502);
    expect(requests).toBe(1);
    const route = { ...DST, rt_route: "list-books" };
    expect(await metric(p.registry, "route_retryable_total", route)).toBe(0);
    expect(
      await metric(p.registry, "route_response_total", { ...route, classification: "failure", error: "unclassified", status_code: undefined }),
    ).toBe(1);
    expect(budget.balance()).toBe(before + budget.depositAmount); // Err is final: it deposits
  } finally {
    p.stop();
    dropper.stop(true);
  }
});
