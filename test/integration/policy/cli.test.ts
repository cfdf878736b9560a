// `meshlet policy` and `meshlet check` on policy resources, as processes: the effective policy per
// port, one port with --port, and check's located reports (dangling reference, Server selecting no
// port of this pod, overlapping Servers).
import { afterAll, expect, test } from "bun:test";
import { spawn } from "bun";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

import { BUN, CLI } from "../../support/proxy.ts";

const dir = mkdtempSync(join(tmpdir(), "meshlet-policy-cli-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function meshlet(args: string[], env: Record<string, string> = {}) {
  const proc = spawn([BUN, CLI, ...args], { env: { PATH: process.env.PATH ?? "", ...env }, stdout: "pipe", stderr: "pipe" });
  const [code, stdout, stderr] = await Promise.all([proc.exited, new Response(proc.stdout).text(), new Response(proc.stderr).text()]);
  return { code, stdout, stderr };
}

const server = (name: string, port: number, app = "web") => `---
apiVersion: policy.linkerd.io/v1beta3
kind: Server
metadata: {name: ${name}}
spec:
  podSelector: {matchLabels: {app: ${app}}}
  port: ${port}
`;

test("meshlet policy prints each Server port and the default for the others; --port shows one", async () => {
  writeFileSync(
    join(dir, "a.yaml"),
    `${server("web", 8080)}---
apiVersion: policy.linkerd.io/v1beta1
kind: ServerAuthorization
metadata: {name: pods}
spec:
  server: {name: web}
  client: {unauthenticated: true, networks: [{cidr: 10.0.0.0/8, except: [10.9.0.0/16]}]}
`,
  );
  const env = { MESHLET_POD_LABELS: "app=web", MESHLET_DEFAULT_INBOUND_POLICY: "cluster-authenticated" };
  const all = await meshlet(["policy", "--config-dir", dir], env);
  expect(all.code).toBe(0);
  expect(all.stdout).toContain("port 8080: Server web, proxyProtocol unknown\n  tcp (non-HTTP) connections:\n    allow serverauthorization pods: any client from 10.0.0.0/8 except 10.9.0.0/16\n");
  expect(all.stdout).toContain("every other port: default policy cluster-authenticated\n");
  expect(all.stdout).toContain("allow default cluster-authenticated: any mesh identity from 10.0.0.0/8");

  const one = await meshlet(["policy", "--config-dir", dir, "--port", "9090"], { ...env, MESHLET_DEFAULT_INBOUND_POLICY: "deny" });
  expect(one.stdout).toBe("port 9090: default policy deny\n  every connection refused at accept, HTTP included\n");

  const bad = await meshlet(["policy", "--config-dir", dir, "--port", "http"], env);
  expect(bad.code).toBe(64);
  expect(bad.stderr).toContain("--port takes a port 1-65535");
});

test("meshlet check: dangling references and Servers that select no port are located warnings; overlap is an error", async () => {
  writeFileSync(
    join(dir, "a.yaml"),
    `${server("web", 8080)}${server("api", 8080, "api")}---
apiVersion: policy.linkerd.io/v1alpha1
kind: AuthorizationPolicy
metadata: {name: dangling}
spec:
  targetRef: {group: policy.linkerd.io, kind: Server, name: gone}
  requiredAuthenticationRefs: []
`,
  );
  const env = { MESHLET_POD_LABELS: "app=web" };
  const ok = await meshlet(["check", "--config-dir", dir], env);
  expect(ok.code).toBe(0);
  expect(ok.stderr).toContain(`${join(dir, "a.yaml")}:12:1: warning: doc 2: spec: Server api selects no port of this pod`);
  expect(ok.stderr).toMatch(/a\.yaml:20:\d+: warning: doc 3: spec\.targetRef: .*Server "gone"/);

  writeFileSync(join(dir, "b.yaml"), server("web-too", 8080));
  const overlap = await meshlet(["check", "--config-dir", dir], env);
  expect(overlap.code).toBe(64);
  expect(overlap.stderr).toMatch(/b\.yaml:7:\d+: error: doc 1: spec\.port: Server web-too overlaps Server web on port 8080/);
});
