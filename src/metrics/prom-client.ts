// prom-client's metric classes, each loaded from its own file: the package index also loads the
// default process collectors, Pushgateway (http/https) and cluster aggregation (~11 MB of RSS in Bun),
// none of which meshlet uses. Import Registry, Counter and Gauge from here, types from "prom-client".
import type * as Prom from "prom-client";

export const Registry = require("prom-client/lib/registry") as typeof Prom.Registry;
export type Registry = Prom.Registry;
export const Counter = require("prom-client/lib/counter") as typeof Prom.Counter;
export type Counter<T extends string = string> = Prom.Counter<T>;
export const Gauge = require("prom-client/lib/gauge") as typeof Prom.Gauge;
export type Gauge<T extends string = string> = Prom.Gauge<T>;
