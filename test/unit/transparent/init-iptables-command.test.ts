// `meshlet init-iptables` as a command, without touching the kernel: --dry-run prints the rules that the
// settings and flags ask for; bad flags and settings are usage errors (64) naming their source.
import { expect, test } from "bun:test";
import { spawnSync } from "bun";

import { BUN, CLI } from "../../support/proxy.ts";

function cli(args: string[], env: Record<string, string> = {}) {
  const r = spawnSync([BUN, CLI, "init-iptables", ...args], { env: { PATH: process.env.PATH ?? "", ...env }, stdout: "pipe", stderr: "pipe" });
  return { code: r.exitCode, stdout: r.stdout.toString(), stderr: r.stderr.toString() };
}

test("--dry-run prints the restore input for the environment's ports, flags overriding the environment", () => {
  const r = cli(["--dry-run", "--skip-outbound-ports", "25,8000-8100", "--proxy-uid", "1337"], {
    MESHLET_INBOUND_LISTEN: "0.0.0.0:15006",
    MESHLET_OUTBOUND_LISTEN: "127.0.0.1:15001",
    MESHLET_ADMIN_LISTEN: "0.0.0.0:15020",
    MESHLET_SKIP_OUTBOUND_PORTS: "9999",
    MESHLET_SKIP_INBOUND_PORTS: "",
    MESHLET_SKIP_SUBNETS: "10.0.0.0/8",
  });
  expect(r.code).toBe(0);
  const c = (name: string) => `-m comment --comment "meshlet-init/${name}"`;
  expect(r.stdout).toBe(
    [
      "# iptables-nft-restore --noflush",
      "*nat",
      ":MESHLET_INIT_REDIRECT - [0:0]",
      ":MESHLET_INIT_OUTPUT - [0:0]",
      `-A MESHLET_INIT_REDIRECT -p tcp -m multiport --dports 4190,15020 ${c("ignore-port-4190,15020")} -j RETURN`,
      `-A MESHLET_INIT_REDIRECT -s 10.0.0.0/8 ${c("ignore-subnet-10.0.0.0/8")} -j RETURN`,
      `-A MESHLET_INIT_REDIRECT -p tcp ${c("redirect-all-incoming-to-proxy-port")} -j REDIRECT --to-ports 15006`,
      `-A MESHLET_INIT_OUTPUT -m owner --uid-owner 1337 ${c("ignore-proxy-user-id")} -j RETURN`,
      `-A MESHLET_INIT_OUTPUT -o lo ${c("ignore-loopback")} -j RETURN`,
      `-A MESHLET_INIT_OUTPUT -p tcp -m multiport --dports 25,8000:8100 ${c("ignore-port-25,8000:8100")} -j RETURN`,
      `-A MESHLET_INIT_OUTPUT -p tcp ${c("redirect-all-outgoing-to-proxy-port")} -j REDIRECT --to-ports 15001`,
      `-A PREROUTING ${c("install-prerouting")} -j MESHLET_INIT_REDIRECT`,
      `-A OUTPUT ${c("install-output")} -j MESHLET_INIT_OUTPUT`,
      "COMMIT",
      "",
    ].join("\n"),
  );
}, 30_000);

test("--iptables-mode legacy and --ipv6 name their tools", () => {
  const r = cli(["--dry-run", "--iptables-mode", "legacy", "--ipv6"], { MESHLET_OUTBOUND_LISTEN: "[::]:4140" });
  expect(r.code).toBe(0);
  expect(r.stdout).toContain("# iptables-legacy-restore --noflush\n");
  expect(r.stdout).toContain("# ip6tables-legacy-restore --noflush\n");
}, 30_000);

test("bad flags and settings are usage errors naming the flag or the variable", () => {
  const bad = cli(["--dry-run", "--skip-inbound-ports", "80,x", "--skip-subnets", "10.0.0.0"], { MESHLET_PROXY_UID: "root" });
  expect(bad.code).toBe(64);
  expect(bad.stderr).toContain('--skip-inbound-ports="80,x": expected ports 1-65535');
  expect(bad.stderr).toContain('--skip-subnets="10.0.0.0": expected CIDRs like 10.0.0.0/8');
  expect(bad.stderr).toContain('MESHLET_PROXY_UID="root": expected a whole number');
  expect(cli(["--dry-run", "--uninstall"]).code).toBe(64);
  expect(cli(["--iptables-mode", "ebpf"]).stderr).toContain("--iptables-mode must be one of nft, legacy");
  expect(cli(["--close-wait-timeout", "0s"]).stderr).toContain("a duration from 1s");
  expect(cli(["--dry-run"], { MESHLET_OUTBOUND_LISTEN: "127.0.0.1:0" }).stderr).toContain("need fixed ports");
  expect(cli(["--dry-run"], { MESHLET_OUTBOUND_LISTEN: "10.1.1.1:4140" }).stderr).toContain("must be on 127.0.0.1 or 0.0.0.0");
  expect(cli(["extra"]).code).toBe(64);
}, 60_000);
