// ServiceProfile decoder: CRD schema (schema.ts), then Linkerd's semantic checks
// (pkg/profiles/profiles.go) and the proxy's conversion rules (service-profiles/src/proto.rs).
// Where Linkerd's proxy would silently drop or broaden a route or class (a bad regex or method, an
// unset status bound), meshlet rejects the document with a located error (README lists each case);
// a budget the proxy drops is dropped here too, with a warning, since Linkerd accepts the document.
import type { FieldPath } from "../resources/problem.ts";
import { parseGoDuration } from "../resources/duration.ts";
import { isRecord, type Reporter, type Resource } from "../resources/kind.ts";
import {
  budgetParamsError,
  DEFAULT_RETRY_BUDGET,
  MAX_MIN_RETRIES_PER_SECOND,
  MAX_RETRY_RATIO,
  type RetryBudgetParams,
} from "../retry/budget.ts";
import { compileRoute, DEFAULT_ROUTE } from "./match.ts";
import type {
  PortRange,
  ProfileSpec,
  RequestMatchSpec,
  ResponseClassSpec,
  ResponseMatchSpec,
  RouteSpec,
  WeightedDst,
} from "./model.ts";
import { compilePathRegex } from "./path-regex.ts";
import { validateServiceProfileSchema } from "./schema.ts";

/** Validates one ServiceProfile and compiles it; undefined when it reported an error. */
export function decodeServiceProfile(resource: Resource, report: Reporter): ProfileSpec | undefined {
  let failed = false;
  const error = (path: FieldPath, message: string) => {
    failed = true;
    report.error(path, message);
  };
  const warn = (path: FieldPath, message: string) => report.warn(path, message);

  // Shapes and types first; the semantic walk below skips ill-typed values, so together they
  // report every problem of the document at once without repeating one.
  for (const issue of validateServiceProfileSchema(resource.version, resource.value)) error(issue.path, issue.message);

  const value = resource.value;
  const name = checkName(resource.name, error);
  const spec = isRecord(value["spec"]) ? value["spec"] : {};

  const routes: RouteSpec[] = [];
  const rawRoutes = Array.isArray(spec["routes"]) ? spec["routes"] : [];
  const routeNames = new Map<string, number>();
  rawRoutes.forEach((raw, i) => {
    const route = decodeRoute(raw, ["spec", "routes", i], error, warn);
    if (route === undefined) return;
    const earlier = routeNames.get(route.name);
    if (earlier !== undefined) {
      warn(["spec", "routes", i, "name"], `route name ${JSON.stringify(route.name)} is also used by routes[${earlier}]: their metrics share one rt_route label`);
    } else routeNames.set(route.name, i);
    routes.push(route);
  });
  const budget = decodeRetryBudget(spec["retryBudget"], ["spec", "retryBudget"], error, warn);
  const dstOverrides = decodeDstOverrides(spec["dstOverrides"], ["spec", "dstOverrides"], error);
  const opaquePorts = decodeOpaquePorts(spec["opaquePorts"], ["spec", "opaquePorts"], error);
  const hasSplit = Array.isArray(spec["dstOverrides"]) && spec["dstOverrides"].length > 0;
  const hasOpaquePorts = Array.isArray(spec["opaquePorts"]) && spec["opaquePorts"].length > 0;
  if (rawRoutes.length === 0 && !hasSplit && !hasOpaquePorts && !failed) {
    warn(["spec"], "profile has no routes: every request uses the default route (no per-route metrics, timeouts or retries)");
  }
  if (hasSplit) warn(["spec", "dstOverrides"], "dstOverrides (traffic split) is not enforced yet: requests go to their own authority");
  if (hasOpaquePorts) warn(["spec", "opaquePorts"], "opaquePorts of a profile are not enforced yet: use MESHLET_OPAQUE_PORTS");

  if (failed || name === undefined) return undefined;
  return Object.freeze({
    name,
    namespace: resource.namespace,
    // A dropped budget means no retries at all (Linkerd's proxy sets no retry policy on the routes).
    routes: Object.freeze([...routes.map((r) => compileRoute(budget.dropped ? { ...r, isRetryable: false } : r)), DEFAULT_ROUTE]),
    retryBudget: budget.params,
    dstOverrides,
    opaquePorts,
  });
}

// === metadata.name ===

const DNS1123_LABEL = "[a-z0-9]([-a-z0-9]*[a-z0-9])?";
const DNS1123_SUBDOMAIN = new RegExp(`^${DNS1123_LABEL}(\\.${DNS1123_LABEL})*$`);

/**
 * Kubernetes requires a DNS-1123 subdomain (Linkerd: `books.default.svc.cluster.local`). For use
 * outside Kubernetes meshlet also accepts `host:port`, which then applies only to that port.
 */
function checkName(raw: string | undefined, error: (path: FieldPath, message: string) => void): string | undefined {
  if (raw === undefined) return undefined; // the schema reported it
  const colon = raw.lastIndexOf(":");
  const host = colon >= 0 ? raw.slice(0, colon) : raw;
  const port = colon >= 0 ? raw.slice(colon + 1) : undefined;
  const hostOk = host.length > 0 && host.length <= 253 && DNS1123_SUBDOMAIN.test(host);
  const portOk = port === undefined || (/^[0-9]{1,5}$/.test(port) && Number(port) >= 1 && Number(port) <= 65535);
  if (!hostOk || !portOk) {
    error(
      ["metadata", "name"],
      `invalid profile name ${JSON.stringify(raw)}: must be a DNS-1123 subdomain (lowercase letters, digits, '-' and '.', ` +
        `e.g. books.default.svc.cluster.local), optionally followed by :port`,
    );
    return undefined;
  }
  return raw;
}

// === routes ===

type Report = (path: FieldPath, message: string) => void;

function decodeRoute(raw: unknown, path: FieldPath, error: Report, warn: Report): RouteSpec | undefined {
  if (!isRecord(raw)) return undefined;
  const name = typeof raw["name"] === "string" ? raw["name"] : undefined;
  const label = name !== undefined && name !== "" ? `route ${JSON.stringify(name)}: ` : "";
  let ok = true;
  const err: Report = (p, m) => {
    ok = false;
    error(p, `${label}${m}`);
  };
  if (name === "") err([...path, "name"], "a route needs a non-empty name (it becomes the rt_route label)");

  let condition: RequestMatchSpec | undefined;
  if (raw["condition"] !== undefined) condition = decodeRequestMatch(raw["condition"], [...path, "condition"], err, warn, label);

  const responseClasses: ResponseClassSpec[] = [];
  if (Array.isArray(raw["responseClasses"])) {
    raw["responseClasses"].forEach((rc, j) => {
      const at: FieldPath = [...path, "responseClasses", j];
      if (!isRecord(rc)) return;
      const cond = rc["condition"] === undefined ? undefined : decodeResponseMatch(rc["condition"], [...at, "condition"], err);
      if (cond !== undefined) responseClasses.push({ condition: cond, isFailure: rc["isFailure"] === true });
    });
  }

  let timeoutMs: number | undefined;
  const timeout = raw["timeout"];
  if (typeof timeout === "string" && timeout !== "") {
    const d = parseGoDuration(timeout);
    if (!d.ok) err([...path, "timeout"], `${d.error} (Go duration syntax, e.g. 250ms, 1.5s, 1m30s)`);
    else if (d.ns <= 0n) err([...path, "timeout"], `timeout must be greater than zero, got ${JSON.stringify(timeout)}`);
    else timeoutMs = d.ms;
  }

  if (!ok || name === undefined || name === "" || condition === undefined) return undefined;
  return { name, condition, responseClasses, isRetryable: raw["isRetryable"] === true, timeoutMs };
}

// RFC 9110 §5.6.2 token characters.
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const STANDARD_METHODS = new Set(["GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH"]);
const MATCH_FIELDS = "pathRegex, method, all, any or not";

const isInteger = (v: unknown): boolean => typeof v === "number" && Number.isInteger(v);
const isNotValue = (v: unknown): boolean => isRecord(v) || Array.isArray(v);

/** Field types of a match object; a field the schema finds ill-typed (or unknown) is its error alone. */
const REQUEST_MATCH_TYPES: Readonly<Record<string, (v: unknown) => boolean>> = {
  pathRegex: (v) => typeof v === "string",
  method: (v) => typeof v === "string",
  all: Array.isArray,
  any: Array.isArray,
  not: isNotValue,
};
const RESPONSE_MATCH_TYPES: Readonly<Record<string, (v: unknown) => boolean>> = {
  status: (v) => isRecord(v) && (v["min"] === undefined || isInteger(v["min"])) && (v["max"] === undefined || isInteger(v["max"])),
  all: Array.isArray,
  any: Array.isArray,
  not: isNotValue,
};

/**
 * True when the schema already reported a field of this match object (unknown or ill-typed): then
 * "must have a field set" would be a second, misleading error for the same defect.
 */
const schemaReported = (raw: Readonly<Record<string, unknown>>, types: Readonly<Record<string, (v: unknown) => boolean>>): boolean =>
  Object.entries(raw).some(([k, v]) => !Object.hasOwn(types, k) || !types[k]!(v));

type Combinator<M> =
  | { readonly kind: "all" | "any"; readonly matches: readonly M[] }
  | { readonly kind: "not"; readonly match: M };

/**
 * The `all`, `any` and `not` fields of a request or response match, children decoded by `decodeChild`.
 * `not` is an object (Go types) or a one-element list (CRD schema); any other length makes `ok` false
 * without a message (the schema reported it). An empty all/any list is reported when `nonEmpty`.
 */
function decodeCombinators<M>(
  raw: Record<string, unknown>,
  path: FieldPath,
  err: Report,
  decodeChild: (child: unknown, at: FieldPath) => M | undefined,
  nonEmpty: boolean,
): { readonly parts: Combinator<M>[]; readonly ok: boolean } {
  const out: Combinator<M>[] = [];
  let ok = true;
  for (const key of ["all", "any"] as const) {
    const list = raw[key];
    if (!Array.isArray(list)) continue;
    if (nonEmpty && list.length === 0) {
      err([...path, key], `${key} needs at least one condition`);
      continue;
    }
    const children: M[] = [];
    list.forEach((child, i) => {
      const c = decodeChild(child, [...path, key, i]);
      if (c !== undefined) children.push(c);
      else ok = false; // reported where it failed (or by the schema)
    });
    out.push({ kind: key, matches: children });
  }
  const not = raw["not"];
  if (not !== undefined && not !== null) {
    const inner = Array.isArray(not) ? (not.length === 1 ? not[0] : undefined) : not;
    const innerPath = Array.isArray(not) ? [...path, "not", 0] : [...path, "not"];
    if (inner === undefined) {
      ok = false;
    } else {
      const c = decodeChild(inner, innerPath);
      if (c !== undefined) out.push({ kind: "not", match: c });
      else ok = false;
    }
  }
  return { parts: out, ok };
}

/**
 * Several fields in one match object are ANDed (Linkerd's controller wraps them in `all`);
 * empty strings count as unset, as in Go.
 */
function decodeRequestMatch(raw: unknown, path: FieldPath, error: Report, warn: Report, label: string): RequestMatchSpec | undefined {
  if (!isRecord(raw)) return undefined; // the schema reported the type
  const parts: RequestMatchSpec[] = [];
  let ok = true;
  const err: Report = (p, m) => {
    ok = false;
    error(p, m);
  };

  const regex = raw["pathRegex"];
  if (typeof regex === "string" && regex !== "") {
    const compiled = compilePathRegex(regex);
    if (!compiled.ok) err([...path, "pathRegex"], compiled.error);
    else parts.push({ kind: "path", regex: compiled.source });
  }
  const method = raw["method"];
  if (typeof method === "string" && method !== "") {
    if (!TOKEN.test(method)) err([...path, "method"], `invalid method ${JSON.stringify(method)}: not an HTTP token`);
    else {
      if (!STANDARD_METHODS.has(method) && STANDARD_METHODS.has(method.toUpperCase())) {
        warn([...path, "method"], `${label}method ${JSON.stringify(method)} is case-sensitive and will not match ${method.toUpperCase()} requests`);
      }
      parts.push({ kind: "method", method });
    }
  }
  const combined = decodeCombinators<RequestMatchSpec>(raw, path, err, (child, at) => decodeRequestMatch(child, at, err, warn, label), false);
  parts.push(...combined.parts);
  if (!combined.ok) ok = false;
  if (parts.length === 0 && ok) {
    if (schemaReported(raw, REQUEST_MATCH_TYPES)) ok = false;
    else err(path, `a request match must have a field set (${MATCH_FIELDS})`);
  }
  if (!ok) return undefined;
  return parts.length === 1 ? parts[0] : { kind: "all", matches: parts };
}

const MIN_STATUS = 100;
const MAX_STATUS = 599;

function decodeResponseMatch(raw: unknown, path: FieldPath, error: Report): ResponseMatchSpec | undefined {
  if (!isRecord(raw)) return undefined;
  const parts: ResponseMatchSpec[] = [];
  let ok = true;
  const err: Report = (p, m) => {
    ok = false;
    error(p, m);
  };

  const status = raw["status"];
  // An ill-typed bound (`min: false`) is the schema's error alone; reading it as unset would add a wrong one.
  if (isRecord(status) && RESPONSE_MATCH_TYPES["status"]!(status)) {
    const at: FieldPath = [...path, "status"];
    const min = typeof status["min"] === "number" ? status["min"] : 0;
    const max = typeof status["max"] === "number" ? status["max"] : 0;
    const bound = (v: number, which: string) => {
      if (v !== 0 && (v < MIN_STATUS || v > MAX_STATUS)) {
        err([...at, which], `status ${which} must be between ${MIN_STATUS} and ${MAX_STATUS}, got ${v}`);
        return false;
      }
      return true;
    };
    const okMin = bound(min, "min");
    const okMax = bound(max, "max");
    if (okMin && okMax) {
      if (min === 0 && max === 0) {
        // Linkerd's proxy silently drops such a class.
        err(at, "status needs min, max or both (min alone or max alone matches exactly that code)");
      } else if (min !== 0 && max !== 0 && max < min) {
        err(at, `status max (${max}) cannot be smaller than min (${min})`);
      } else {
        // Documented behaviour (the proxy itself drops a class with an unset bound): one bound = one code.
        parts.push({ kind: "status", min: min !== 0 ? min : max, max: max !== 0 ? max : min });
      }
    }
  }
  // Linkerd drops a class whose all/any has no valid children: an empty list is an error here.
  const combined = decodeCombinators<ResponseMatchSpec>(raw, path, err, (child, at) => decodeResponseMatch(child, at, err), true);
  parts.push(...combined.parts);
  if (!combined.ok) ok = false;

  if (parts.length === 0 && ok) {
    if (schemaReported(raw, RESPONSE_MATCH_TYPES)) ok = false;
    else err(path, "a response match must have a field set (status, all, any or not)");
  }
  if (!ok) return undefined;
  return parts.length === 1 ? parts[0] : { kind: "all", matches: parts };
}

// === spec-level fields ===

/**
 * The budget, or `dropped` when Linkerd accepts the document but its proxy would drop the budget (a ttl
 * outside 1s-60s, retryRatio above 1000, minRetriesPerSecond too large): then, as there, the profile's
 * routes are not retried, and a warning names the field. What Linkerd's validation rejects is an error.
 */
function decodeRetryBudget(
  raw: unknown,
  path: FieldPath,
  error: Report,
  warn: Report,
): { readonly params: RetryBudgetParams; readonly dropped: boolean } {
  const none = { params: DEFAULT_RETRY_BUDGET, dropped: false };
  if (!isRecord(raw)) return none;
  const ratio = raw["retryRatio"];
  const min = raw["minRetriesPerSecond"];
  const ttl = raw["ttl"];
  let ok = typeof ratio === "number" && typeof min === "number" && typeof ttl === "string";
  let dropped = false;
  const drop = (field: string, message: string) => {
    dropped = true;
    warn([...path, field], `${message}: Linkerd's proxy ignores such a budget, so this profile's routes are not retried`);
  };
  if (typeof ratio === "number" && ratio < 0) {
    error([...path, "retryRatio"], `retryRatio must not be negative, got ${ratio}`);
    ok = false;
  } else if (typeof ratio === "number" && ratio > MAX_RETRY_RATIO) {
    drop("retryRatio", `retryRatio must be at most ${MAX_RETRY_RATIO}, got ${ratio}`);
  }
  if (typeof min === "number" && Number.isInteger(min) && min < 0) {
    error([...path, "minRetriesPerSecond"], `minRetriesPerSecond must not be negative, got ${min}`);
    ok = false;
  } else if (typeof min === "number" && min > MAX_MIN_RETRIES_PER_SECOND) {
    drop("minRetriesPerSecond", `minRetriesPerSecond must be at most ${MAX_MIN_RETRIES_PER_SECOND}, got ${min}`);
  }
  let ttlMs = 0;
  if (typeof ttl === "string") {
    const d = parseGoDuration(ttl);
    if (!d.ok) {
      error([...path, "ttl"], `${d.error} (Go duration syntax, e.g. 10s)`);
      ok = false;
    } else if (d.ns < 1_000_000_000n || d.ns > 60_000_000_000n) {
      drop("ttl", `ttl must be between 1s and 60s, got ${ttl}`);
    } else ttlMs = d.ms;
  }
  if (!ok || typeof ratio !== "number" || typeof min !== "number") return none;
  if (dropped) return { params: DEFAULT_RETRY_BUDGET, dropped: true };
  const params: RetryBudgetParams = Object.freeze({ ttlMs, minRetriesPerSecond: min, retryRatio: ratio });
  const invalid = budgetParamsError(params);
  if (invalid !== undefined) {
    error(path, invalid);
    return none;
  }
  return { params, dropped: false };
}

function decodeDstOverrides(raw: unknown, path: FieldPath, error: Report): readonly WeightedDst[] {
  if (!Array.isArray(raw)) return [];
  const out: WeightedDst[] = [];
  raw.forEach((item, i) => {
    if (!isRecord(item)) return;
    const authority = item["authority"];
    const weight = item["weight"];
    if (typeof authority !== "string") return;
    if (authority.trim() === "") {
      error([...path, i, "authority"], "authority must not be empty");
      return;
    }
    if (typeof weight !== "number" && typeof weight !== "string") return;
    const w = quantityDecimillis(weight);
    if (w === undefined) return; // the schema reported the pattern
    if (w < 0) {
      error([...path, i, "weight"], `weight must not be negative, got ${JSON.stringify(weight)}`);
      return;
    }
    if (w > 0) out.push(Object.freeze({ authority: authority.trim(), weight: w }));
  });
  return Object.freeze(out);
}

const DECIMAL_SUFFIX: Readonly<Record<string, number>> = { n: 1e-9, u: 1e-6, m: 1e-3, "": 1, k: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15, E: 1e18 };
const BINARY_SUFFIX: Readonly<Record<string, number>> = { Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, Pi: 2 ** 50, Ei: 2 ** 60 };

/** A Kubernetes quantity as Linkerd sends a weight: `MilliValue() * 10` (MilliValue rounds up). */
export function quantityDecimillis(q: number | string): number | undefined {
  if (typeof q === "number") return Number.isFinite(q) ? toDecimillis(q, 1) : undefined;
  const m = /^([+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+))(.*)$/.exec(q);
  if (m === null) return undefined;
  const num = Number(m[1]);
  const suffix = m[2] ?? "";
  let mult: number | undefined = DECIMAL_SUFFIX[suffix] ?? BINARY_SUFFIX[suffix];
  if (mult === undefined) {
    const exp = /^[eE]([+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+))$/.exec(suffix);
    if (exp === null) return undefined;
    mult = 10 ** Number(exp[1]);
  }
  return toDecimillis(num, mult);
}

// Rounds away float noise (0.1 * 1000 = 100.00000000000001) before rounding up like MilliValue.
const toDecimillis = (num: number, mult: number): number => Math.ceil(Math.round(num * mult * 1000 * 1e6) / 1e6) * 10;

function decodeOpaquePorts(raw: unknown, path: FieldPath, error: Report): readonly PortRange[] {
  if (!Array.isArray(raw)) return [];
  const out: PortRange[] = [];
  raw.forEach((item, i) => {
    if (typeof item !== "string" && typeof item !== "number") return;
    const m = /^\s*([0-9]{1,5})\s*(?:-\s*([0-9]{1,5})\s*)?$/.exec(String(item));
    const from = m ? Number(m[1]) : NaN;
    const to = m?.[2] !== undefined ? Number(m[2]) : from;
    if (!(from >= 1 && to <= 65535 && from <= to)) {
      error([...path, i], `invalid port or range ${JSON.stringify(item)} (expected 1-65535 or from-to)`);
      return;
    }
    out.push(Object.freeze({ from, to }));
  });
  return Object.freeze(out);
}
