// ServiceProfile route timeouts end to end (linkerd-behavior §4.1): one deadline over every attempt
// until the response head, 504 with l5d-proxy-error, the upstream request cancelled, counted as
// error="timeout" without a status_code. Inbound applies no route timeout and never retries.
import { expect, test } from "bun:test";
import { blackholePort, eventually } from "../../support/http-harness.ts";
import { FakeClock, metric, profileSetFromYaml, response, scriptedUpstream, send, startProfiledProxy } from "../../support/profiles.ts";

const HOST = "books.default.svc.cluster.local:8080";

const profiles = () =>
  profileSetFromYaml(
    `
apiVersion: linkerd.io/v1alpha2
kind: ServiceProfile
metadata:
  name: books.default.svc.cluster.local
spec:
  routes:
  - name: slow
    condition: { pathRegex: /slow }
    timeout: 100ms
  - name: retry-then-hang
    condition: { pathRegex: /flaky }
    isRetryable: true
    timeout: 1000ms
`,
    new FakeClock(),
  );

test("a timeout route answers 504 with l5d-proxy-error and cancels the upstream request", async () => {
  const up = scriptedUpstream(() => null); // never answers
  const p = startProfiledProxy({ profiles: profiles(), upstreamPort: up.port });
  try {
    const res = await send(p.port, { path: "/slow", host: HOST });
    expect(res.status).toBe(504);
    expect(res.headers.get("l5d-proxy-error")).toBe("response timed out after 100ms");
    expect(res.headers.get("connection")).toBe("close");
    expect(up.requests.map((r) => r.path)).toEqual(["/slow"]);
    await eventually(() => up.closes() === 1, 5000, "upstream request cancelled");

    const route = { direction: "outbound", dst: HOST, rt_route: "slow" };
    const timeout = { ...route, classification: "failure", error: "timeout", status_code: undefined };
    expect(await metric(p.registry, "route_response_total", timeout)).toBe(1);
    expect(await metric(p.registry, "route_actual_response_total", timeout)).toBe(1);
    expect(await metric(p.registry, "route_response_latency_ms_count", route)).toBe(0); // no response, no latency
  } finally {
    p.stop();
    up.stop();
  }
});

// The deadline leaves the first attempt and the retry ample time to reach the upstream on a loaded box
// (at 150 ms a slow first attempt once left no time for the retry); the retry then hangs until it.
test("the route timeout covers retries: a retried request whose retry hangs gets 504 at the route deadline", async () => {
  const up = scriptedUpstream((_req, i) => (i === 0 ? response(503, "busy") : null));
  const p = startProfiledProxy({ profiles: profiles(), upstreamPort: up.port });
  try {
    const res = await send(p.port, { path: "/flaky", host: HOST });
    expect(res.status).toBe(504);
    expect(res.headers.get("l5d-proxy-error")).toBe("response timed out after 1000ms");
    expect(up.requests.length).toBe(2);
    // The first attempt's connection is closed when its 503 is discarded, the retry's on timeout.
    await eventually(() => up.closes() === 2, 5000, "both upstream attempts closed");

    const route = { direction: "outbound", dst: HOST, rt_route: "retry-then-hang" };
    expect(await metric(p.registry, "route_retryable_total", route)).toBe(1);
    expect(await metric(p.registry, "route_actual_request_total", route)).toBe(2);
    expect(await metric(p.registry, "route_actual_response_total", { ...route, status_code: "503", classification: "failure" })).toBe(1);
    expect(await metric(p.registry, "route_actual_response_total", { ...route, error: "timeout" })).toBe(1);
    expect(await metric(p.registry, "route_request_total", route)).toBe(1);
    expect(await metric(p.registry, "route_response_total", route)).toBe(1);
    expect(await metric(p.registry, "route_response_total", { ...route, error: "timeout" })).toBe(1);
  } finally {
    p.stop();
    up.stop();
  }
});

test("the route deadline also covers connecting: a blackholed upstream gets the route's 504, not the connect timeout", async () => {
  const hole = await blackholePort();
  const p = startProfiledProxy({ profiles: profiles(), upstreamPort: hole.port });
  try {
    // The connect timeout (1 s default) is far longer than the route's 100 ms.
    const res = await send(p.port, { path: "/slow", host: HOST });
    expect(res.status).toBe(504);
    expect(res.headers.get("l5d-proxy-error")).toBe("response timed out after 100ms");
    expect(await metric(p.registry, "route_response_total", { rt_route: "slow", error: "timeout" })).toBe(1);
  } finally {
    p.stop();
    hole.stop();
  }
});

test("inbound: route metrics with direction=inbound, but no route timeout and no retries", async () => {
  const up = scriptedUpstream((req, _i, reply) => {
    if (req.path === "/flaky") return response(503, "busy");
    // The app answers /slow well after the route's 100ms: outbound would have answered 504.
    setTimeout(() => reply(response(200, "late")), 250);
    return null;
  });
  const p = startProfiledProxy({ profiles: profiles(), upstreamPort: up.port, direction: "inbound" });
  try {
    const slow = await send(p.port, { path: "/slow", host: HOST });
    expect(slow.status).toBe(200);
    expect(slow.body).toBe("late");
    const flaky = await send(p.port, { path: "/flaky", host: HOST });
    expect(flaky.status).toBe(503);
    expect(up.requests.length).toBe(2);

    // Inbound, dst is the profile's name with the port the request reaches (the app's), not the Host's.
    const inbound = { direction: "inbound", dst: `books.default.svc.cluster.local:${up.port}` };
    expect(await metric(p.registry, "route_response_total", { ...inbound, rt_route: "slow", status_code: "200", classification: "success" })).toBe(1);
    expect(await metric(p.registry, "route_response_total", { ...inbound, rt_route: "retry-then-hang", status_code: "503", classification: "failure" })).toBe(1);
    expect(await metric(p.registry, "route_retryable_total", inbound)).toBe(0);
    expect(await metric(p.registry, "route_request_total", { direction: "outbound" })).toBe(0);
  } finally {
    p.stop();
    up.stop();
  }
});
