// Bodies streamed through the proxy: chunked both ways, de-chunking for HTTP/1.0, Expect: 100-continue,
// and 100 MB uploads/downloads with RSS staying bounded (nothing buffers a whole body).
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { countHeads, curl, hasResponses, rawRequest, rawUpstream, splitResponses, startProxy } from "../../support/http-harness.ts";

const MB = 1024 * 1024;

/** Starts test/support/body-upstream.ts as a child process and resolves with its port. */
async function startBodyUpstream(): Promise<{ port: number; stop(): void }> {
  const child = Bun.spawn([process.execPath, join(import.meta.dir, "../../support/body-upstream.ts")], { stdout: "pipe", stderr: "inherit" });
  const reader = child.stdout.getReader();
  let text = "";
  while (!text.includes("\n")) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`body upstream exited before printing its port (exit ${await child.exited})`);
    text += new TextDecoder().decode(value);
  }
  reader.releaseLock();
  return { port: Number(text.trim()), stop: () => child.kill() };
}

/** Generous: the bodies are 100 MB; buffering either would blow far past this. */
const RSS_BOUND_BYTES = 64 * MB;

/**
 * This process's RSS growth while `transfer` runs (the proxy and the upstream live in it), with a
 * collection every 100 ms meanwhile: the bound is about what the proxy holds (a buffered 100 MB body is
 * live), not about how far the collector lags behind the read buffers a transfer leaves (without the
 * collections, fresh CI machines measured 64.1 to 68.5 MiB against the 64 MiB bound; 17-23 locally).
 */
async function rssGrowthDuring(transfer: () => Promise<void>): Promise<number> {
  Bun.gc(true);
  const rss0 = process.memoryUsage().rss;
  const collector = setInterval(() => Bun.gc(true), 100);
  try {
    await transfer();
  } finally {
    clearInterval(collector);
  }
  return process.memoryUsage().rss - rss0;
}

describe("chunked and streamed bodies", () => {
  let upstream: { port: number; stop(): void };
  let proxy: ReturnType<typeof startProxy>;
  beforeAll(async () => {
    upstream = await startBodyUpstream();
    proxy = startProxy({ forwardTo: { host: "127.0.0.1", port: upstream.port } });
  });
  afterAll(() => {
    proxy.stop();
    upstream.stop();
  });

  test("chunked request body sent in pieces arrives intact", async () => {
    const r = await rawRequest(
      proxy.port,
      [
        "POST /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n",
        "5\r\nhello\r\n",
        "1;ext=1\r\n \r\n",
        "5\r\nworld\r\n0\r\nX-Trailer: t\r\n\r\n",
      ],
      { until: hasResponses(1) },
    );
    expect(splitResponses(r.data)[0]!.body).toBe("hello world");
  });

  test("chunked response streams to curl", async () => {
    const r = await curl(["-v", `http://127.0.0.1:${proxy.port}/stream`]);
    expect(r.stdout).toBe("alpha-beta-gamma");
    expect(r.stderr.toLowerCase()).toContain("transfer-encoding: chunked");
  });

  test("an HTTP/1.0 client gets a chunked response de-chunked and close-delimited", async () => {
    const r = await rawRequest(proxy.port, "GET /stream HTTP/1.0\r\n\r\n");
    expect(r.closed).toBe(true);
    expect(r.text.toLowerCase()).not.toContain("transfer-encoding");
    expect(r.text).toEndWith("\r\n\r\nalpha-beta-gamma");
  });

  test("Expect: 100-continue is relayed from the upstream (curl waits for it)", async () => {
    const r = await curl(["-v", "-H", "Expect: 100-continue", "--data-binary", "payload!", `http://127.0.0.1:${proxy.port}/echo`]);
    expect(r.stdout).toBe("payload!");
    expect(r.stderr).toContain("HTTP/1.1 100 Continue");
  });

  test("100 MB upload (Content-Length and chunked) with bounded RSS", async () => {
    const dir = mkdtempSync(join(tmpdir(), "meshlet-http-"));
    const file = join(dir, "upload.bin");
    try {
      await Bun.spawn(["truncate", "-s", String(100 * MB), file]).exited;
      // Each upload against its own baseline.
      for (const [headers, counted] of [[[], "-"], [["-H", "Transfer-Encoding: chunked"], "chunked"]] as const) {
        const growth = await rssGrowthDuring(async () => {
          const r = await curl(["-T", file, "-X", "POST", ...headers, `http://127.0.0.1:${proxy.port}/count`], 120_000);
          expect(r.stdout).toBe(`${counted} ${100 * MB}`);
        });
        expect(growth).toBeLessThan(RSS_BOUND_BYTES);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);

  test("100 MB download with bounded RSS", async () => {
    const growth = await rssGrowthDuring(async () => {
      const r = await curl(["-o", "/dev/null", "-w", "%{size_download}", `http://127.0.0.1:${proxy.port}/big?bytes=${100 * MB}`], 120_000);
      expect(r.stdout).toBe(String(100 * MB));
    });
    expect(growth).toBeLessThan(RSS_BOUND_BYTES);
  }, 120_000);
});

describe("backpressure", () => {
  const TOTAL = 48 * MB;

  test("slow client: the proxy stops reading the upstream until the client reads", async () => {
    let written = 0;
    let blocked = false;
    let finishedWriting = false;
    const chunk = Buffer.alloc(256 * 1024, 97);
    const pump = (s: import("bun").Socket<unknown>): void => {
      while (written < TOTAL) {
        const n = s.write(chunk, 0, Math.min(chunk.length, TOTAL - written));
        written += Math.max(n, 0);
        if (n < chunk.length && written < TOTAL) {
          blocked = true;
          return;
        }
      }
      finishedWriting = true;
    };
    const up = Bun.listen({
      hostname: "127.0.0.1",
      port: 0,
      socket: {
        data(s) {
          s.write(`HTTP/1.1 200 OK\r\nContent-Length: ${TOTAL}\r\n\r\n`);
          pump(s as never);
        },
        drain(s) {
          blocked = false;
          pump(s as never);
        },
      },
    });
    const proxy = startProxy({ forwardTo: { host: "127.0.0.1", port: up.port } });
    let got = 0;
    let resolveDone!: () => void;
    const done = new Promise<void>((r) => (resolveDone = r));
    const client = await Bun.connect({
      hostname: "127.0.0.1",
      port: proxy.port,
      socket: {
        data(_s, d) {
          got += d.length;
          if (got >= TOTAL) resolveDone();
        },
      },
    });
    try {
      client.pause();
      client.write("GET /big HTTP/1.1\r\nHost: a\r\n\r\n");
      for (let i = 0; i < 500 && !blocked; i++) await Bun.sleep(10);
      expect(blocked).toBe(true);
      await Bun.sleep(200);
      // Still blocked: the proxy did not soak up the body in memory on the client's behalf.
      expect(finishedWriting).toBe(false);
      expect(written).toBeLessThan(TOTAL / 2);
      client.resume();
      await Promise.race([done, Bun.sleep(30_000)]);
      expect(got).toBeGreaterThanOrEqual(TOTAL);
    } finally {
      client.end();
      proxy.stop();
      up.stop(true);
    }
  }, 40_000);

  test("slow server: the proxy stops reading the client until the upstream reads", async () => {
    let upstreamGot = 0;
    let upstreamSocket: import("bun").Socket<undefined> | null = null;
    const up = Bun.listen({
      hostname: "127.0.0.1",
      port: 0,
      socket: {
        open(s) {
          upstreamSocket = s;
          s.pause();
        },
        data(s, d) {
          upstreamGot += d.length;
          if (upstreamGot >= TOTAL + 40) s.write("HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\ndone");
        },
      },
    });
    const proxy = startProxy({ forwardTo: { host: "127.0.0.1", port: up.port } });
    let clientWritten = 0;
    let clientBlocked = false;
    let reply = "";
    const chunk = Buffer.alloc(256 * 1024, 98);
    const pump = (s: import("bun").Socket<undefined>): void => {
      while (clientWritten < TOTAL) {
        const n = s.write(chunk, 0, Math.min(chunk.length, TOTAL - clientWritten));
        clientWritten += Math.max(n, 0);
        if (n < chunk.length && clientWritten < TOTAL) {
          clientBlocked = true;
          return;
        }
      }
    };
    const client = await Bun.connect({
      hostname: "127.0.0.1",
      port: proxy.port,
      socket: {
        data(_s, d) {
          reply += d.toString();
        },
        drain(s) {
          clientBlocked = false;
          pump(s);
        },
      },
    });
    try {
      client.write(`POST /up HTTP/1.1\r\nHost: a\r\nContent-Length: ${TOTAL}\r\n\r\n`);
      pump(client);
      for (let i = 0; i < 500 && !clientBlocked; i++) await Bun.sleep(10);
      expect(clientBlocked).toBe(true);
      await Bun.sleep(200);
      expect(clientBlocked).toBe(true);
      expect(clientWritten).toBeLessThan(TOTAL / 2);
      (upstreamSocket as unknown as { resume(): void }).resume();
      for (let i = 0; i < 3000 && !reply.endsWith("done"); i++) await Bun.sleep(10);
      expect(reply).toEndWith("done");
      expect(upstreamGot).toBeGreaterThanOrEqual(TOTAL);
    } finally {
      client.end();
      proxy.stop();
      up.stop(true);
    }
  }, 40_000);
});

test("an early response to an unfinished upload closes the client connection afterwards", async () => {
  const up = rawUpstream((conn) => {
    if (countHeads(conn.received) === 1 && !conn.state.answered) {
      conn.state.answered = true;
      conn.socket.write("HTTP/1.1 413 Payload Too Large\r\nContent-Length: 3\r\n\r\nbig");
    }
  });
  const proxy = startProxy({ forwardTo: { host: "127.0.0.1", port: up.port } });
  try {
    const r = await rawRequest(proxy.port, "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 100000\r\n\r\nabc");
    expect(splitResponses(r.data)[0]!.status).toBe(413);
    expect(r.closed).toBe(true);
  } finally {
    proxy.stop();
    up.stop();
  }
});
