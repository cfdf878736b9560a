// src/metrics/prom-client.ts replaces prom-client's label-name check by the same check as a plain loop
// (start-up footprint): label names are still validated exactly as prom-client's own regex does.
import { expect, test } from "bun:test";
import { Counter, Gauge } from "../../../src/metrics/prom-client.ts";

test("invalid label names are refused and valid ones accepted, as prom-client's own check does", () => {
  for (const bad of ["bad-name", "1st", "", "a.b", "é"]) {
    expect(() => new Counter({ name: "meshlet_test_total", help: "h", labelNames: ["ok", bad], registers: [] })).toThrow("Invalid label name");
    expect(() => new Gauge({ name: "meshlet_test", help: "h", labelNames: [bad], registers: [] })).toThrow("Invalid label name");
  }
  for (const good of ["a", "_x", "tls", "client_id", "A9_b"]) {
    expect(() => new Counter({ name: "meshlet_test_total", help: "h", labelNames: [good], registers: [] })).not.toThrow();
  }
  expect(() => new Counter({ name: "meshlet_test_total", help: "h", registers: [] })).not.toThrow();
});
