// prom-client's metric classes, each loaded from its own file: the package index also loads the
// default process collectors, Pushgateway (http/https) and cluster aggregation (~11 MB of RSS in Bun),
// none of which meshlet uses. Import Registry, Counter and Gauge from here, types from "prom-client".
import type * as Prom from "prom-client";

// validation.js checks each metric's label names with `names.every(name => labelRegexp.test(name))`: at
// start (~30 metrics, ~100 label names) that arrow is the one function hot enough to reach JSC's DFG tier,
// which pages in ~2 MB of compiler code before any request (bench/RESULTS.md, Footprint 2026-12-01 04:10).
// The same check as a plain loop stays in the lower tiers. Installed before metric.js reads it.
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
(require("prom-client/lib/validation") as { validateLabelName: (names?: readonly string[]) => boolean }).validateLabelName = (names = []) => {
  for (let i = 0; i < names.length; i++) if (!LABEL_NAME.test(names[i]!)) return false;
  return true;
};

export const Registry = require("prom-client/lib/registry") as typeof Prom.Registry;
export type Registry = Prom.Registry;
export const Counter = require("prom-client/lib/counter") as typeof Prom.Counter;
export type Counter<T extends string = string> = Prom.Counter<T>;
export const Gauge = require("prom-client/lib/gauge") as typeof Prom.Gauge;
export type Gauge<T extends string = string> = Prom.Gauge<T>;
