// Linkerd's HTTP families rendered through prom-client: names, labels (inbound omits authority),
// classification, and cumulative latency buckets.
import { expect, test } from "bun:test";
import { Registry } from "prom-client";
import { HttpMetrics, JsLatencyHistogram, RESPONSE_LATENCY_BUCKETS_MS, inboundTlsLabels, outboundTlsLabels } from "../../../src/metrics/http.ts";

test("families, labels and buckets", async () => {
  const registry = new Registry();
  const m = new HttpMetrics(registry);
  const inbound = m.target({ direction: "inbound", authority: "ignored", targetAddr: "127.0.0.1:80", targetIp: "127.0.0.1", targetPort: 80 });
  const outbound = m.target({ direction: "outbound", authority: "svc:80", targetAddr: "10.0.0.1:80", targetIp: "10.0.0.1", targetPort: 80 });
  inbound.recordRequest();
  inbound.recordRequest();
  inbound.recordResponse(200, false);
  inbound.recordResponse(503, true);
  inbound.recordLatency(200, 0.5);
  inbound.recordLatency(200, 7);
  outbound.recordRequest();
  outbound.recordError("unclassified");
  outbound.recordResponse(200, true, "unclassified");
  const text = await registry.metrics();
  expect(text).toContain('request_total{direction="inbound",target_addr="127.0.0.1:80",target_ip="127.0.0.1",target_port="80",tls="disabled"} 2');
  expect(text).toContain('request_total{direction="outbound",authority="svc:80",target_addr="10.0.0.1:80"');
  expect(text).toContain('response_total{direction="inbound",target_addr="127.0.0.1:80",target_ip="127.0.0.1",target_port="80",tls="disabled",status_code="200",classification="success",grpc_status="",error=""} 1');
  expect(text).toContain('status_code="503",classification="failure"');
  // A dispatch error has no status_code (Linkerd); a cut body keeps its status.
  expect(text).toContain('target_port="80",tls="disabled",classification="failure",grpc_status="",error="unclassified"} 1');
  expect(text).toContain('status_code="200",classification="failure",grpc_status="",error="unclassified"} 1');
  expect(text).toContain('response_latency_ms_bucket{direction="inbound",target_addr="127.0.0.1:80",target_ip="127.0.0.1",target_port="80",tls="disabled",status_code="200",le="1"} 1');
  expect(text).toContain('status_code="200",le="10"} 2');
  expect(text).toContain('status_code="200",le="+Inf"} 2');
  expect(text).toContain('response_latency_ms_count{direction="inbound",target_addr="127.0.0.1:80",target_ip="127.0.0.1",target_port="80",tls="disabled",status_code="200"} 2');
  expect(text).not.toContain('authority="ignored"');
});

test("JsLatencyHistogram buckets are Linkerd's and upper-inclusive", () => {
  expect(RESPONSE_LATENCY_BUCKETS_MS.length).toBe(25);
  const h = new JsLatencyHistogram();
  h.record(1);
  h.record(1.5);
  h.record(60_000);
  const s = h.snapshot();
  expect(s.counts[0]).toBe(1);
  expect(s.counts[1]).toBe(1);
  expect(s.counts[25]).toBe(1);
  expect(s.count).toBe(3);
});

test("outbound tls labels: Linkerd's TlsConnect forms, one series per form for one address and authority", async () => {
  const registry = new Registry();
  const m = new HttpMetrics(registry);
  const base = { direction: "outbound" as const, authority: "web:80", targetAddr: "10.0.0.1:80", targetIp: "10.0.0.1", targetPort: 80 };
  const meshed = m.target({ ...base, tls: outboundTlsLabels(true, "web.ns.serviceaccount.identity.linkerd.cluster.local") });
  const plain = m.target({ ...base, tls: outboundTlsLabels(true, undefined) });
  const disabled = m.target({ ...base, tls: outboundTlsLabels(false, "web.ns.serviceaccount.identity.linkerd.cluster.local") });
  expect(new Set([meshed, plain, disabled]).size).toBe(3);
  expect(m.target({ ...base, tls: outboundTlsLabels(true, "web.ns.serviceaccount.identity.linkerd.cluster.local") })).toBe(meshed);
  for (const s of [meshed, plain, disabled]) s.recordRequest();
  const text = await registry.metrics();
  const prefix = 'request_total{direction="outbound",authority="web:80",target_addr="10.0.0.1:80",target_ip="10.0.0.1",target_port="80",';
  expect(text).toContain(`${prefix}tls="true",server_id="web.ns.serviceaccount.identity.linkerd.cluster.local"} 1`);
  expect(text).toContain(`${prefix}tls="no_identity",no_tls_reason="not_provided_by_service_discovery"} 1`);
  expect(text).toContain(`${prefix}tls="disabled"} 1`);
});

test("inbound tls labels: Linkerd's TlsAccept forms, one series per client identity for one address", async () => {
  const registry = new Registry();
  const m = new HttpMetrics(registry);
  const base = { direction: "inbound" as const, targetAddr: "10.0.0.1:80", targetIp: "10.0.0.1", targetPort: 80 };
  const app = m.target({ ...base, tls: inboundTlsLabels(true, "app.ns.serviceaccount.identity.linkerd.cluster.local") });
  const other = m.target({ ...base, tls: inboundTlsLabels(true, "other.ns.serviceaccount.identity.linkerd.cluster.local") });
  const plain = m.target({ ...base, tls: inboundTlsLabels(true, undefined) });
  const disabled = m.target({ ...base, tls: inboundTlsLabels(false, undefined) });
  expect(new Set([app, other, plain, disabled, m.target(base)]).size).toBe(4); // absent labels: disabled
  expect(m.target({ ...base, tls: inboundTlsLabels(true, "app.ns.serviceaccount.identity.linkerd.cluster.local") })).toBe(app);
  for (const s of [app, other, plain, disabled]) s.recordRequest();
  const text = await registry.metrics();
  const prefix = 'request_total{direction="inbound",target_addr="10.0.0.1:80",target_ip="10.0.0.1",target_port="80",';
  expect(text).toContain(`${prefix}tls="true",client_id="app.ns.serviceaccount.identity.linkerd.cluster.local"} 1`);
  expect(text).toContain(`${prefix}tls="true",client_id="other.ns.serviceaccount.identity.linkerd.cluster.local"} 1`);
  expect(text).toContain(`${prefix}tls="no_identity",no_tls_reason="no_tls_from_remote"} 1`);
  expect(text).toContain(`${prefix}tls="disabled"} 1`);
});

test("client identities go through the series cap: beyond it they fold into the overflow series", () => {
  const m = new HttpMetrics(new Registry(), undefined, { limits: { maxSeriesPerFamily: 2, retainIdleMs: 600_000 } });
  const base = { direction: "inbound" as const, targetAddr: "10.0.0.1:80", targetIp: "10.0.0.1", targetPort: 80 };
  const ids = ["a", "b", "c", "d"].map((n) => m.target({ ...base, tls: inboundTlsLabels(true, `${n}.ns.serviceaccount.identity.linkerd.cluster.local`) }));
  expect(ids[2]!.labels.target_addr).toBe("overflow");
  expect(ids[3]).toBe(ids[2]!);
  expect(ids[0]!.labels.client_id).toBe("a.ns.serviceaccount.identity.linkerd.cluster.local");
});
