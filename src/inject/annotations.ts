// Linkerd's pod annotations (config.linkerd.io/*, linkerd.io/inject) read as meshlet's sidecar settings:
// each value becomes the MESHLET_* variable it stands for and is checked by that setting's own parser,
// so a bad annotation is reported at inject time, not as a crash-looping pod.
import { SETTINGS } from "../config/env.ts";
import { ValueError } from "../config/values.ts";
import { parseCloseWaitSeconds } from "../transparent/close-wait.ts";

export const INJECT_ANNOTATION = "linkerd.io/inject";
const CONFIG = "config.linkerd.io/";

/** Resource quantities (cpu "100m", memory "64Mi"), as Kubernetes writes them. */
const QUANTITY = /^[+]?(\d+(\.\d*)?|\.\d+)(m|k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei|[eE][+-]?\d+)?$/;

/** Linkerd's six default inbound policies (reference §7.1). */

export interface PodOverrides {
  /** MESHLET_* for the proxy container. */
  readonly proxyEnv: Readonly<Record<string, string>>;
  /** MESHLET_* for the init container (skip ports and subnets, the proxy uid). */
  readonly initEnv: Readonly<Record<string, string>>;
  readonly proxyUid: number | undefined;
  readonly closeWaitSeconds: number | undefined;
  readonly requests: Readonly<Record<string, string>>;
  readonly limits: Readonly<Record<string, string>>;
}

export interface AnnotationProblem {
  readonly severity: "error" | "warning";
  readonly annotation: string;
  readonly message: string;
}

/** A named container port ("redis") → its number, for opaque-ports entries given by name. */
export type PortNames = ReadonlyMap<string, number>;

const KNOWN_SETTINGS = new Map<string, (text: string) => unknown>(SETTINGS.map((s) => [s.name, s.parse]));

/** Linkerd's opaque-ports value with named ports resolved against the pod's container ports. */
function resolvePortNames(value: string, names: PortNames): string {
  return value
    .split(",")
    .map((item) => item.trim())
    .filter((item) => item !== "")
    .map((item) => {
      if (/^[\d\s-]+$/.test(item)) return item;
      const port = names.get(item);
      if (port === undefined) throw new ValueError(`ports, ranges or names of the pod's container ports (no container port is named ${JSON.stringify(item)})`);
      return String(port);
    })
    .join(",");
}

/** Reads the pod template's annotations; problems are returned, not thrown, so all of them are reported. */
export function readOverrides(annotations: Readonly<Record<string, unknown>>, portNames: PortNames): { overrides: PodOverrides; problems: AnnotationProblem[] } {
  const problems: AnnotationProblem[] = [];
  const proxyEnv: Record<string, string> = {};
  const initEnv: Record<string, string> = {};
  const requests: Record<string, string> = {};
  const limits: Record<string, string> = {};
  let proxyUid: number | undefined;
  let closeWaitSeconds: number | undefined;

  const value = (key: string): string | undefined => {
    const v = annotations[CONFIG + key];
    return v === undefined || v === null ? undefined : String(v);
  };
  /** Checks `text` with the setting's parser and stores it; false when it is invalid. */
  const setEnv = (target: Record<string, string>, key: string, name: string, text: string): boolean => {
    const parse = KNOWN_SETTINGS.get(name);
    if (parse === undefined) {
      problems.push({ severity: "warning", annotation: CONFIG + key, message: `ignored: this meshlet has no ${name} setting yet` });
      return false;
    }
    try {
      parse(text);
    } catch (err) {
      if (!(err instanceof ValueError)) throw err;
      problems.push({ severity: "error", annotation: CONFIG + key, message: `${JSON.stringify(text)}: expected ${err.expected}` });
      return false;
    }
    target[name] = text;
    return true;
  };

  const opaque = value("opaque-ports");
  if (opaque !== undefined) {
    try {
      setEnv(proxyEnv, "opaque-ports", "MESHLET_OPAQUE_PORTS", resolvePortNames(opaque, portNames));
    } catch (err) {
      if (!(err instanceof ValueError)) throw err;
      problems.push({ severity: "error", annotation: CONFIG + "opaque-ports", message: `${JSON.stringify(opaque)}: expected ${err.expected}` });
    }
  }
  const skipIn = value("skip-inbound-ports");
  if (skipIn !== undefined) setEnv(initEnv, "skip-inbound-ports", "MESHLET_SKIP_INBOUND_PORTS", skipIn);
  const skipOut = value("skip-outbound-ports");
  if (skipOut !== undefined) setEnv(initEnv, "skip-outbound-ports", "MESHLET_SKIP_OUTBOUND_PORTS", skipOut);
  const skipSubnets = value("skip-subnets");
  if (skipSubnets !== undefined) setEnv(initEnv, "skip-subnets", "MESHLET_SKIP_SUBNETS", skipSubnets);
  const external = value("enable-external-profiles");
  if (external !== undefined) setEnv(proxyEnv, "enable-external-profiles", "MESHLET_EXTERNAL_PROFILES", external);

  // Checked by the setting's own parser, like every other annotation.
  const policy = value("default-inbound-policy");
  if (policy !== undefined) setEnv(proxyEnv, "default-inbound-policy", "MESHLET_DEFAULT_INBOUND_POLICY", policy);

  const closeWait = value("close-wait-timeout");
  if (closeWait !== undefined) {
    const seconds = parseCloseWaitSeconds(closeWait);
    if (typeof seconds === "string") problems.push({ severity: "error", annotation: CONFIG + "close-wait-timeout", message: seconds });
    else closeWaitSeconds = seconds;
  }

  const uid = value("proxy-uid");
  if (uid !== undefined && setEnv(initEnv, "proxy-uid", "MESHLET_PROXY_UID", uid)) proxyUid = Number(uid.trim());

  for (const [key, target, resource] of [
    ["proxy-cpu-request", requests, "cpu"],
    ["proxy-memory-request", requests, "memory"],
    ["proxy-cpu-limit", limits, "cpu"],
    ["proxy-memory-limit", limits, "memory"],
  ] as const) {
    const quantity = value(key);
    if (quantity === undefined) continue;
    if (QUANTITY.test(quantity.trim())) target[resource] = quantity.trim();
    else problems.push({ severity: "error", annotation: CONFIG + key, message: `${JSON.stringify(quantity)}: expected a Kubernetes quantity like 100m, 1, 64Mi or 1Gi` });
  }
  return { overrides: { proxyEnv, initEnv, proxyUid, closeWaitSeconds, requests, limits }, problems };
}
