// What `meshlet inject` adds to a pod spec, as plain objects: the init container that runs
// `meshlet init-iptables`, the meshlet proxy as a native sidecar (an init container that keeps running,
// as Linkerd's default), and the volumes for the resource ConfigMap, the identity Secret and the xtables lock.
import type { PodOverrides } from "./annotations.ts";

export const PROXY_CONTAINER = "meshlet-proxy";
export const INIT_CONTAINER = "meshlet-init";
export const CONFIG_VOLUME = "meshlet-config";
export const IDENTITY_VOLUME = "meshlet-identity";
export const XTABLES_LOCK_VOLUME = "meshlet-xtables-lock";
export const VERSION_ANNOTATION = "meshlet.io/proxy-version";

export const INJECTED_CONTAINERS: readonly string[] = [INIT_CONTAINER, PROXY_CONTAINER];
export const INJECTED_VOLUMES: readonly string[] = [CONFIG_VOLUME, IDENTITY_VOLUME, XTABLES_LOCK_VOLUME];
export const INJECTED_ANNOTATIONS: readonly string[] = [VERSION_ANNOTATION];

export const INBOUND_PORT = 4143;
export const OUTBOUND_PORT = 4140;
export const ADMIN_PORT = 4191;
export const DEFAULT_PROXY_UID = 2102;
export const CONFIG_MOUNT = "/etc/meshlet/config";
export const IDENTITY_MOUNT = "/var/run/meshlet/identity";

export interface SidecarOptions {
  readonly image: string;
  readonly version: string;
  readonly configMap: string;
  readonly identitySecret: string;
}

const DEFAULT_REQUESTS = { cpu: "100m", memory: "64Mi" };

/** The listeners every injected container agrees on: kubelet probes reach admin on the pod IP. */
const LISTEN_ENV = {
  MESHLET_INBOUND_LISTEN: `0.0.0.0:${INBOUND_PORT}`,
  MESHLET_OUTBOUND_LISTEN: `127.0.0.1:${OUTBOUND_PORT}`,
  MESHLET_ADMIN_LISTEN: `0.0.0.0:${ADMIN_PORT}`,
};

const envList = (env: Readonly<Record<string, string>>) => Object.entries(env).map(([name, value]) => ({ name, value }));

function resources(overrides: PodOverrides): Record<string, Record<string, string>> {
  const limits = overrides.limits;
  return Object.keys(limits).length > 0 ? { requests: { ...DEFAULT_REQUESTS, ...overrides.requests }, limits: { ...limits } } : { requests: { ...DEFAULT_REQUESTS, ...overrides.requests } };
}

export function initContainer(options: SidecarOptions, overrides: PodOverrides): Record<string, unknown> {
  // Writing the close-wait sysctl needs a privileged container (/proc/sys is read-only otherwise), as Linkerd's.
  const privileged = overrides.closeWaitSeconds !== undefined;
  return {
    name: INIT_CONTAINER,
    image: options.image,
    imagePullPolicy: "IfNotPresent",
    args: ["init-iptables", ...(privileged ? ["--close-wait-timeout", `${overrides.closeWaitSeconds}s`] : [])],
    env: envList({ ...LISTEN_ENV, MESHLET_PROXY_UID: String(overrides.proxyUid ?? DEFAULT_PROXY_UID), ...overrides.initEnv }),
    resources: resources(overrides),
    securityContext: {
      allowPrivilegeEscalation: privileged,
      privileged,
      capabilities: { add: ["NET_ADMIN", "NET_RAW"] },
      readOnlyRootFilesystem: true,
      runAsNonRoot: false,
      runAsUser: 0,
      seccompProfile: { type: "RuntimeDefault" },
    },
    volumeMounts: [{ name: XTABLES_LOCK_VOLUME, mountPath: "/run" }],
  };
}

export function proxyContainer(options: SidecarOptions, overrides: PodOverrides): Record<string, unknown> {
  const probe = (path: string, extra: Record<string, number>) => ({ httpGet: { path, port: ADMIN_PORT }, ...extra });
  return {
    name: PROXY_CONTAINER,
    image: options.image,
    imagePullPolicy: "IfNotPresent",
    args: ["proxy"],
    // A native sidecar: starts before the app's containers and keeps running (Jobs still complete).
    restartPolicy: "Always",
    ports: [
      { name: "meshlet-proxy", containerPort: INBOUND_PORT },
      { name: "meshlet-admin", containerPort: ADMIN_PORT },
    ],
    env: envList({ ...LISTEN_ENV, MESHLET_CONFIG_DIR: CONFIG_MOUNT, ...overrides.proxyEnv }),
    startupProbe: probe("/ready", { periodSeconds: 1, failureThreshold: 120 }),
    readinessProbe: probe("/ready", { initialDelaySeconds: 2, timeoutSeconds: 1 }),
    livenessProbe: probe("/live", { initialDelaySeconds: 10, timeoutSeconds: 1 }),
    resources: resources(overrides),
    securityContext: {
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      runAsNonRoot: true,
      runAsUser: overrides.proxyUid ?? DEFAULT_PROXY_UID,
      seccompProfile: { type: "RuntimeDefault" },
    },
    volumeMounts: [
      { name: CONFIG_VOLUME, mountPath: CONFIG_MOUNT, readOnly: true },
      { name: IDENTITY_VOLUME, mountPath: IDENTITY_MOUNT, readOnly: true },
    ],
  };
}

/** Optional sources: a pod starts without the ConfigMap (no resources) or the Secret (no identity yet). */
export function volumes(options: SidecarOptions): Record<string, unknown>[] {
  return [
    { name: CONFIG_VOLUME, configMap: { name: options.configMap, optional: true } },
    { name: IDENTITY_VOLUME, secret: { secretName: options.identitySecret, optional: true } },
    { name: XTABLES_LOCK_VOLUME, emptyDir: {} },
  ];
}
