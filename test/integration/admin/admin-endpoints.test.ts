// The admin endpoints Linkerd users script against, on a real meshlet: /metrics gzipped for curl
// --compressed and for a raw request, /proxy-log-level changing what the running proxy logs (and
// refusing a non-loopback peer, from a private network namespace), and /env.json.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { spawn } from "bun";
import { gunzipSync } from "node:zlib";

import { SETTINGS } from "../../../src/config/env.ts";
import { Netns, canUseNetns } from "../../support/private-netns.ts";
import { type RunningProxy, startProxy } from "../../support/proxy.ts";

let backend: ReturnType<typeof Bun.serve>;
let proxy: RunningProxy;

beforeAll(async () => {
  backend = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => new Response("ok") });
  proxy = await startProxy({ MESHLET_INBOUND_FORWARD: `127.0.0.1:${backend.port}`, MESHLET_LOG_LEVEL: "info", MESHLET_CONNECT_TIMEOUT: "2s" });
});

afterAll(async () => {
  await proxy.stop();
  backend.stop(true);
});

const admin = (path: string) => `http://127.0.0.1:${proxy.adminPort}${path}`;

/** curl, asynchronously: the backend the proxy forwards to runs in this process's event loop. */
async function curl(args: readonly string[]): Promise<{ code: number; stdout: string }> {
  const proc = spawn(["curl", "-sS", "--max-time", "10", ...args], { stdout: "pipe", stderr: "inherit" });
  const stdout = await new Response(proc.stdout).text();
  return { code: await proc.exited, stdout };
}

describe("/metrics", () => {
  test("curl --compressed gets gzip and the same families", async () => {
    const plain = (await curl(["-i", admin("/metrics")])).stdout;
    const { stdout } = await curl(["--compressed", "-i", admin("/metrics")]);
    const [head = "", body = ""] = stdout.split("\r\n\r\n");
    expect(head.toLowerCase()).toContain("content-encoding: gzip");
    expect(head.toLowerCase()).toContain("vary: accept-encoding");
    for (const family of ["# TYPE process_cpu_seconds_total counter", "# TYPE proxy_build_info gauge", "# TYPE tcp_open_total counter"]) {
      expect(plain).toContain(family);
      expect(body).toContain(family);
    }
    expect(plain.toLowerCase()).not.toContain("content-encoding");
  });

  test("a raw request with Accept-Encoding: gzip gets a gzip body that inflates to the exposition", async () => {
    const chunks: Buffer[] = [];
    const done = Promise.withResolvers<void>();
    await Bun.connect({
      hostname: "127.0.0.1",
      port: proxy.adminPort,
      socket: {
        open(s) {
          s.write("GET /metrics HTTP/1.1\r\nHost: admin\r\nAccept-Encoding: deflate, gzip;q=0.9\r\nConnection: close\r\n\r\n");
        },
        data(_s, d) {
          chunks.push(Buffer.from(d));
        },
        close() {
          done.resolve();
        },
      },
    });
    await done.promise;
    const raw = Buffer.concat(chunks);
    const split = raw.indexOf("\r\n\r\n");
    const head = raw.subarray(0, split).toString("latin1").toLowerCase();
    expect(head).toStartWith("http/1.1 200");
    expect(head).toContain("content-encoding: gzip");
    const length = Number(/content-length: (\d+)/.exec(head)?.[1]);
    const body = raw.subarray(split + 4);
    expect(body.length).toBe(length);
    expect(body[0]).toBe(0x1f); // gzip magic
    expect(body[1]).toBe(0x8b);
    const text = gunzipSync(body).toString();
    expect(text).toContain("# TYPE proxy_build_info gauge");
    expect(text.endsWith("\n")).toBe(true);
  });
});

describe("/proxy-log-level", () => {
  const put = (directive: string) => fetch(admin("/proxy-log-level"), { method: "PUT", body: directive });
  /** One request through the inbound proxy, told apart in the log by its Host (the logged authority). */
  const request = async (host: string) => {
    const { code, stdout } = await curl(["-o", "/dev/null", "-w", "%{http_code}", "-H", `Host: ${host}`, `http://127.0.0.1:${proxy.inboundPort}/`]);
    expect([code, stdout]).toEqual([0, "200"]);
  };
  const exchangeLines = (host: string) => proxy.logs.filter((l) => l.message === "http exchange done" && l.authority === host);

  test("GET is the directive in force; PUT changes what the running proxy logs at once; a bad one is 400 and changes nothing", async () => {
    expect(await (await fetch(admin("/proxy-log-level"))).text()).toBe("info\n");

    await request("before.test");
    let res = await put("info,inbound=trace");
    expect(res.status).toBe(204);
    expect(await (await fetch(admin("/proxy-log-level"))).text()).toBe("info,inbound=trace\n");
    await request("during.test");
    await proxy.waitForLog((l) => l.message === "http exchange done" && l.authority === "during.test");
    expect(proxy.logs.find((l) => l.message === "log level changed")).toMatchObject({ scope: "admin", from: "info", to: "info,inbound=trace" });

    res = await put("info,inbond=trace");
    expect(res.status).toBe(400);
    expect(await res.text()).toContain("did you mean inbound?");
    expect(await (await fetch(admin("/proxy-log-level"))).text()).toBe("info,inbound=trace\n");

    expect((await put("info")).status).toBe(204);
    await request("after.test");
    // A barrier: trace again, and one more request; its line comes after anything "after.test" would have written.
    expect((await put("INFO, inbound=TRACE")).status).toBe(204);
    await request("barrier.test");
    await proxy.waitForLog((l) => l.message === "http exchange done" && l.authority === "barrier.test");
    expect(exchangeLines("before.test")).toEqual([]);
    expect(exchangeLines("during.test").length).toBe(1);
    expect(exchangeLines("after.test")).toEqual([]);
    expect((await put("info")).status).toBe(204);
  });

  test("other methods are 405 with Allow: GET, PUT", async () => {
    for (const method of ["POST", "DELETE"]) {
      const res = await fetch(admin("/proxy-log-level"), { method });
      expect(res.status).toBe(405);
      expect(res.headers.get("allow")).toBe("GET, PUT");
    }
  });
});

describe.skipIf(!canUseNetns)("/proxy-log-level from a non-loopback peer (private network namespace)", () => {
  let ns: Netns;
  let nsProxy: RunningProxy;

  beforeAll(async () => {
    ns = Netns.create("admin");
    ns.run(["ip", "addr", "add", "10.77.0.1/32", "dev", "lo"]);
    nsProxy = await startProxy({ MESHLET_ADMIN_LISTEN: "0.0.0.0:0" }, ns.exec);
  });

  afterAll(async () => {
    await nsProxy?.stop();
    await ns?.remove();
  });

  test("10.77.0.1 is refused with 403 and the level stays; 127.0.0.1 is served", async () => {
    const call = (host: string, extra: string[] = []) =>
      ns.output(["curl", "-sS", "--max-time", "10", "-w", "\n%{http_code}", ...extra, `http://${host}:${nsProxy.adminPort}/proxy-log-level`]);
    expect((await call("10.77.0.1")).stdout).toBe("Requests are only permitted from localhost.\n\n403");
    expect((await call("10.77.0.1", ["-X", "PUT", "--data", "trace"])).stdout).toBe("Requests are only permitted from localhost.\n\n403");
    expect((await call("127.0.0.1")).stdout).toBe("info\n\n200");
    expect(nsProxy.logs.find((l) => l.message === "log level request refused: not from loopback")).toMatchObject({ peer: "10.77.0.1" });
  });
});

describe("/env.json", () => {
  test("every setting with the value in force: as set, or the default", async () => {
    const res = await fetch(admin("/env.json"));
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("application/json");
    const env = (await res.json()) as Record<string, string | null>;
    expect(Object.keys(env)).toEqual(SETTINGS.map((s) => s.name));
    expect(env.MESHLET_LOG_FORMAT).toBe("json"); // set by the test harness
    expect(env.MESHLET_CONNECT_TIMEOUT).toBe("2s");
    expect(env.MESHLET_DETECT_TIMEOUT).toBe("10s"); // the default
    expect(env.MESHLET_ACCESS_LOG).toBe("off");
    expect("HOME" in env).toBe(false); // settings only, not the whole environment
  });

  test("?A&B: only those names, null for a name that is not a setting", async () => {
    const env = await (await fetch(admin("/env.json?MESHLET_LOG_LEVEL&HOME&MESHLET_OPAQUE_PORTS"))).json();
    expect(env).toEqual({ MESHLET_LOG_LEVEL: "info", HOME: null, MESHLET_OPAQUE_PORTS: "25,587,3306,4444,5432,6379,9300,11211" });
  });

  test("?k=v is 400, other methods 405, an Accept without JSON 406", async () => {
    const bad = await fetch(admin("/env.json?MESHLET_LOG_LEVEL=debug"));
    expect(bad.status).toBe(400);
    expect(await bad.text()).toContain('not "MESHLET_LOG_LEVEL=debug"');
    const post = await fetch(admin("/env.json"), { method: "POST" });
    expect([post.status, post.headers.get("allow")]).toEqual([405, "GET"]);
    expect((await fetch(admin("/env.json"), { headers: { accept: "text/html" } })).status).toBe(406);
    for (const accept of ["application/json", "application/*", "text/html, */*;q=0.1"]) {
      expect((await fetch(admin("/env.json"), { headers: { accept } })).status).toBe(200);
    }
  });
});
