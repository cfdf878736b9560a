// `meshlet inject` / `uninject` on realistic manifests (test/fixtures/k8s): every object validates
// against the Kubernetes schemas (kubernetes-models), injecting twice equals injecting once, uninject
// gives the input back unchanged (comments and all), and Linkerd's annotations become MESHLET_* settings.
import { describe, expect, test } from "bun:test";
import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { spawnSync } from "bun";
import { parseAllDocuments } from "yaml";
import { DaemonSet, Deployment, ReplicaSet, StatefulSet } from "kubernetes-models/apps/v1";
import { CronJob, Job } from "kubernetes-models/batch/v1";
import { ConfigMap, Pod, Service } from "kubernetes-models/v1";

import { parseConfig } from "../../../src/config/env.ts";
import { processManifests, type Action } from "../../../src/inject/manifests.ts";
import { BUN, CLI } from "../../support/proxy.ts";

const FIXTURES = join(import.meta.dir, "..", "..", "fixtures", "k8s");
const OPTIONS = { image: "meshlet:test", version: "0.1.0", configMap: "meshlet-config", identitySecret: "meshlet-identity" };
const INJECT: Action = { kind: "inject", options: OPTIONS };
const UNINJECT: Action = { kind: "uninject" };

// The models are constructed from plain parsed YAML, hence the loose constructor type.
const MODELS: Record<string, new (data: any) => { validate(): void }> = { Deployment, StatefulSet, DaemonSet, ReplicaSet, Job, CronJob, Pod, ConfigMap, Service };

type Obj = Record<string, any>;

function objects(text: string): Obj[] {
  const out: Obj[] = [];
  for (const doc of parseAllDocuments(text)) {
    const value = (doc as { toJS(): Obj }).toJS();
    if (value?.kind === "List") out.push(...value.items);
    else if (value) out.push(value);
  }
  return out;
}

function run(text: string, action: Action, file = "manifest.yaml"): string {
  const result = processManifests(file, text, action);
  expect(result.problems.filter((p) => p.severity === "error")).toEqual([]);
  return result.output!;
}

function podSpecOf(obj: Obj): Obj {
  if (obj.kind === "Pod") return obj;
  if (obj.kind === "CronJob") return obj.spec.jobTemplate.spec.template;
  return obj.spec.template;
}

const envOf = (container: Obj): Record<string, string> => Object.fromEntries((container.env ?? []).map((e: Obj) => [e.name, e.value]));
const byName = (obj: Obj, name: string): Obj => podSpecOf(obj).spec.initContainers.find((c: Obj) => c.name === name);

const fixtures = readdirSync(FIXTURES).filter((f) => f.endsWith(".yaml"));

describe.each(fixtures)("%s", (file) => {
  const original = readFileSync(join(FIXTURES, file), "utf8");
  const injected = run(original, INJECT, file);

  test("every object validates against the Kubernetes schema after inject", () => {
    for (const obj of objects(injected)) {
      const Model = MODELS[obj.kind];
      expect(Model).toBeDefined();
      expect(() => new Model!(obj).validate()).not.toThrow();
    }
  });

  test("injecting twice equals injecting once", () => {
    expect(run(injected, INJECT, file)).toBe(injected);
  });

  test("uninject gives the original back, comments and formatting included", () => {
    expect(run(injected, UNINJECT, file)).toBe(run(original, UNINJECT, file));
    expect(objects(run(injected, UNINJECT, file))).toEqual(objects(original));
    expect(run(injected, UNINJECT, file).replace(/^---\n/gm, "")).toBe(original.replace(/^---\n/gm, ""));
  });

  test("the sidecar's environment is one meshlet accepts", () => {
    for (const obj of objects(injected)) {
      const inits = obj.kind in MODELS && obj.kind !== "ConfigMap" && obj.kind !== "Service" ? podSpecOf(obj).spec.initContainers : undefined;
      for (const c of inits ?? []) if (c.name.startsWith("meshlet-")) expect(() => parseConfig(envOf(c))).not.toThrow();
    }
  });
});

describe("what inject adds", () => {
  const [web] = objects(run(readFileSync(join(FIXTURES, "web.yaml"), "utf8"), INJECT));
  const spec = podSpecOf(web!).spec;

  test("the init container first, the proxy as a native sidecar next, then the app's own init containers", () => {
    expect(spec.initContainers.map((c: Obj) => c.name)).toEqual(["meshlet-init", "meshlet-proxy", "migrate"]);
    expect(spec.containers.map((c: Obj) => c.name)).toEqual(["web"]);
    const proxy = byName(web!, "meshlet-proxy");
    expect(proxy.restartPolicy).toBe("Always");
    expect(proxy.ports).toEqual([
      { name: "meshlet-proxy", containerPort: 4143 },
      { name: "meshlet-admin", containerPort: 4191 },
    ]);
    expect(proxy.readinessProbe.httpGet).toEqual({ path: "/ready", port: 4191 });
    expect(proxy.livenessProbe.httpGet).toEqual({ path: "/live", port: 4191 });
    expect(proxy.resources.requests).toEqual({ cpu: "100m", memory: "64Mi" });
    expect(proxy.securityContext.runAsUser).toBe(2102);
    expect(byName(web!, "meshlet-init").args).toEqual(["init-iptables"]);
  });

  test("the ConfigMap becomes MESHLET_CONFIG_DIR and the identity Secret is mounted", () => {
    const proxy = byName(web!, "meshlet-proxy");
    expect(envOf(proxy).MESHLET_CONFIG_DIR).toBe("/etc/meshlet/config");
    expect(proxy.volumeMounts).toEqual([
      { name: "meshlet-config", mountPath: "/etc/meshlet/config", readOnly: true },
      { name: "meshlet-identity", mountPath: "/var/run/meshlet/identity", readOnly: true },
    ]);
    expect(spec.volumes).toContainEqual({ name: "meshlet-config", configMap: { name: "meshlet-config", optional: true } });
    expect(spec.volumes).toContainEqual({ name: "meshlet-identity", secret: { secretName: "meshlet-identity", optional: true } });
  });

  test("annotations: opaque-ports with a named port, skip-outbound-ports, enable-external-profiles", () => {
    expect(envOf(byName(web!, "meshlet-proxy"))).toMatchObject({ MESHLET_OPAQUE_PORTS: "11211", MESHLET_EXTERNAL_PROFILES: "true" });
    expect(envOf(byName(web!, "meshlet-init"))).toMatchObject({ MESHLET_SKIP_OUTBOUND_PORTS: "3306", MESHLET_PROXY_UID: "2102" });
  });

  test("annotations: close-wait, resources, skip-inbound-ports, skip-subnets, proxy-uid", () => {
    const [redis] = objects(run(readFileSync(join(FIXTURES, "redis.yaml"), "utf8"), INJECT));
    const init = byName(redis!, "meshlet-init");
    const proxy = byName(redis!, "meshlet-proxy");
    expect(init.args).toEqual(["init-iptables", "--close-wait-timeout", "150s"]);
    expect(init.securityContext).toMatchObject({ privileged: true, allowPrivilegeEscalation: true });
    expect(envOf(init)).toMatchObject({ MESHLET_SKIP_INBOUND_PORTS: "16379,26379-26380", MESHLET_SKIP_SUBNETS: "10.244.0.0/16", MESHLET_PROXY_UID: "2200" });
    expect(proxy.securityContext.runAsUser).toBe(2200);
    for (const c of [init, proxy]) expect(c.resources).toEqual({ requests: { cpu: "200m", memory: "64Mi" }, limits: { cpu: "1", memory: "128Mi" } });
  });

  test("hostNetwork pods, linkerd.io/inject: disabled and non-workloads are passed through", () => {
    const ds = processManifests("d.yaml", readFileSync(join(FIXTURES, "daemonsets.yaml"), "utf8"), INJECT);
    expect(ds.reports).toEqual([
      { object: "daemonset/node-exporter", outcome: "skipped", reason: "hostNetwork: true (its iptables would be the node's)" },
      { object: "daemonset/log-shipper", outcome: "injected" },
    ]);
    const pods = processManifests("p.yaml", readFileSync(join(FIXTURES, "pods.yaml"), "utf8"), INJECT);
    expect(pods.reports.map((r) => `${r.object} ${r.outcome}`)).toEqual(["pod/debug injected", "pod/legacy-batch skipped"]);
    const list = processManifests("l.yaml", readFileSync(join(FIXTURES, "list.yaml"), "utf8"), INJECT);
    expect(list.reports.map((r) => `${r.object} ${r.outcome}`)).toEqual(["configmap/api-settings skipped", "deployment/api injected", "replicaset/api-canary injected"]);
  });

  test("default-inbound-policy maps to MESHLET_DEFAULT_INBOUND_POLICY, checked by the setting's parser", () => {
    const result = processManifests("b.yaml", readFileSync(join(FIXTURES, "batch.yaml"), "utf8"), INJECT);
    const cron = objects(result.output!)[1]!;
    expect(envOf(byName(cron, "meshlet-proxy")).MESHLET_DEFAULT_INBOUND_POLICY).toBe("deny");
    const bad = processManifests("b.yaml", readFileSync(join(FIXTURES, "batch.yaml"), "utf8").replace("default-inbound-policy: deny", "default-inbound-policy: allow"), INJECT);
    expect(bad.output).toBeUndefined();
    expect(bad.problems[0]!.message).toContain("expected one of all-unauthenticated, all-authenticated");
  });

  test("a pod that already has Linkerd's proxy is not injected", () => {
    const text = "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers: [{name: app, image: a}, {name: linkerd-proxy, image: cr.l5d.io/linkerd/proxy:edge}]\n";
    expect(processManifests("p.yaml", text, INJECT).reports).toEqual([{ object: "pod/p", outcome: "skipped", reason: "it already has a linkerd-proxy container" }]);
  });
});

describe("bad input", () => {
  test("a bad annotation is located and nothing is written", () => {
    const text = readFileSync(join(FIXTURES, "web.yaml"), "utf8").replace('skip-outbound-ports: "3306"', 'skip-outbound-ports: "3306,99999"').replace('opaque-ports: "cache"', 'opaque-ports: "kache"');
    const result = processManifests("web.yaml", text, INJECT);
    expect(result.output).toBeUndefined();
    expect(result.problems.map((p) => [p.severity, p.line, p.path])).toEqual([
      ["error", 20, 'spec.template.metadata.annotations["config.linkerd.io/opaque-ports"]'],
      ["error", 21, 'spec.template.metadata.annotations["config.linkerd.io/skip-outbound-ports"]'],
    ]);
    expect(result.problems[0]!.message).toContain('no container port is named "kache"');
    expect(result.problems[1]!.message).toContain("deployment/web");
  });

  test("invalid YAML is located", () => {
    const result = processManifests("broken.yaml", "kind: Pod\nmetadata: {name: p\n", INJECT);
    expect(result.output).toBeUndefined();
    expect(result.problems[0]).toMatchObject({ severity: "error", file: "broken.yaml", doc: 1 });
  });

  test("a workload without a pod template is an error", () => {
    const result = processManifests("d.yaml", "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d}\nspec: {replicas: 1}\n", INJECT);
    expect(result.output).toBeUndefined();
    expect(result.problems[0]!.message).toBe("deployment/d has no pod template at spec.template.spec");
  });
});

describe("the commands", () => {
  const cli = (args: string[], stdin?: string) => {
    const r = spawnSync([BUN, CLI, ...args], { stdin: stdin === undefined ? "ignore" : Buffer.from(stdin), stdout: "pipe", stderr: "pipe" });
    return { code: r.exitCode, stdout: r.stdout.toString(), stderr: r.stderr.toString() };
  };

  test("inject -f FILE | uninject - round-trips through standard input and output", () => {
    const file = join(FIXTURES, "batch.yaml");
    const injected = cli(["inject", "-f", file, "--image", "registry.example/meshlet:0.1.0"]);
    expect(injected.code).toBe(0);
    expect(injected.stderr).toEndWith("job/reindex injected\ncronjob/nightly-report injected\n");
    expect(injected.stdout).toContain("image: registry.example/meshlet:0.1.0");
    const back = cli(["uninject", "-f", "-"], injected.stdout);
    expect(back.code).toBe(0);
    expect(objects(back.stdout)).toEqual(objects(readFileSync(file, "utf8")));
  }, 30_000);

  test("usage errors exit 64", () => {
    expect(cli(["inject", "--bogus"]).code).toBe(64);
    expect(cli(["inject", "-f", "/nonexistent.yaml"]).stderr).toContain("cannot read /nonexistent.yaml: ENOENT");
    expect(cli(["uninject", "extra"]).code).toBe(64);
  }, 30_000);
});
