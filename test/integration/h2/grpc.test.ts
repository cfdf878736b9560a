// A real gRPC client and server (@grpc/grpc-js, raw-bytes messages) through meshlet's HTTP/2 engine:
// unary, server streaming, client streaming and bidi calls; a client deadline enforced by the proxy
// (grpc-timeout) as DEADLINE_EXCEEDED; a failing method counted as a failure with its grpc_status in
// response_total; and an unreachable app answered UNAVAILABLE (HTTP 200 + grpc-status 14) by the proxy.
import { afterAll, beforeAll, expect, test } from "bun:test";
import * as grpc from "@grpc/grpc-js";
import http2 from "node:http2";

import { type RunningProxy, freePort, metricValue, startProxy } from "../../support/proxy.ts";

const bytes = {
  requestSerialize: (b: Buffer) => b,
  requestDeserialize: (b: Buffer) => b,
  responseSerialize: (b: Buffer) => b,
  responseDeserialize: (b: Buffer) => b,
};
const SERVICE = {
  Echo: { path: "/test.Echo/Echo", requestStream: false, responseStream: false, ...bytes },
  Fail: { path: "/test.Echo/Fail", requestStream: false, responseStream: false, ...bytes },
  Slow: { path: "/test.Echo/Slow", requestStream: false, responseStream: false, ...bytes },
  Count: { path: "/test.Echo/Count", requestStream: false, responseStream: true, ...bytes },
  Sum: { path: "/test.Echo/Sum", requestStream: true, responseStream: false, ...bytes },
  Chat: { path: "/test.Echo/Chat", requestStream: true, responseStream: true, ...bytes },
} satisfies grpc.ServiceDefinition;

type Client = grpc.Client & Record<keyof typeof SERVICE, (...args: unknown[]) => unknown>;
const EchoClient = grpc.makeGenericClientConstructor(SERVICE, "Echo");

let server: grpc.Server;
let appPort: number;
let proxy: RunningProxy;
const slowTimers = new Set<ReturnType<typeof setTimeout>>();

beforeAll(async () => {
  server = new grpc.Server();
  server.addService(SERVICE, {
    Echo: (call: grpc.ServerUnaryCall<Buffer, Buffer>, cb: grpc.sendUnaryData<Buffer>) => cb(null, call.request),
    Fail: (_call: grpc.ServerUnaryCall<Buffer, Buffer>, cb: grpc.sendUnaryData<Buffer>) =>
      cb({ code: grpc.status.INTERNAL, details: "the shelf collapsed" }, null),
    Slow: (_call: grpc.ServerUnaryCall<Buffer, Buffer>, cb: grpc.sendUnaryData<Buffer>) => {
      const t = setTimeout(() => cb(null, Buffer.from("late")), 5_000);
      slowTimers.add(t);
    },
    Count: (call: grpc.ServerWritableStream<Buffer, Buffer>) => {
      const n = call.request.readUInt32BE(0);
      for (let i = 0; i < n; i++) call.write(Buffer.from(`item ${i}`));
      call.end();
    },
    Sum: (call: grpc.ServerReadableStream<Buffer, Buffer>, cb: grpc.sendUnaryData<Buffer>) => {
      let total = 0;
      call.on("data", (m: Buffer) => (total += m.length));
      call.on("end", () => cb(null, Buffer.from(String(total))));
    },
    Chat: (call: grpc.ServerDuplexStream<Buffer, Buffer>) => {
      call.on("data", (m: Buffer) => call.write(Buffer.concat([Buffer.from("re: "), m])));
      call.on("end", () => call.end());
    },
  });
  appPort = await new Promise<number>((resolve, reject) =>
    server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (err, port) => (err ? reject(err) : resolve(port))),
  );
  const deadPort = await freePort();
  proxy = await startProxy({
    MESHLET_INBOUND_FORWARD: `127.0.0.1:${appPort}`,
    MESHLET_OUTBOUND_UPSTREAMS: `127.0.0.1:0=127.0.0.1:${appPort},127.0.0.1:0=127.0.0.1:${deadPort}`,
  });
});

afterAll(async () => {
  for (const t of slowTimers) clearTimeout(t);
  await proxy.stop();
  server.forceShutdown();
});

const client = (port: number): Client => new EchoClient(`127.0.0.1:${port}`, grpc.credentials.createInsecure()) as unknown as Client;

function unary(c: Client, method: "Echo" | "Fail" | "Slow", msg: Buffer, deadlineMs?: number): Promise<{ err: grpc.ServiceError | null; res?: Buffer }> {
  return new Promise((resolve) => {
    const opts = deadlineMs === undefined ? {} : { deadline: Date.now() + deadlineMs };
    c[method](msg, new grpc.Metadata(), opts, (err: grpc.ServiceError | null, res?: Buffer) => resolve({ err, res }));
  });
}

test("unary, server streaming, client streaming and bidi calls through the inbound proxy", async () => {
  const c = client(proxy.inboundPort);
  try {
    const payload = Buffer.alloc(200_000, 0x61);
    const echoed = await unary(c, "Echo", payload);
    expect(echoed.err).toBeNull();
    expect(echoed.res!.equals(payload)).toBe(true);

    const n = Buffer.alloc(4);
    n.writeUInt32BE(500);
    const items: string[] = [];
    await new Promise<void>((resolve, reject) => {
      const call = c.Count(n) as grpc.ClientReadableStream<Buffer>;
      call.on("data", (m: Buffer) => items.push(m.toString()));
      call.on("end", () => resolve());
      call.on("error", reject);
    });
    expect(items.length).toBe(500);
    expect(items[499]).toBe("item 499");

    const sum = await new Promise<string>((resolve, reject) => {
      const call = c.Sum((err: grpc.ServiceError | null, res?: Buffer) => (err ? reject(err) : resolve(res!.toString()))) as grpc.ClientWritableStream<Buffer>;
      for (let i = 0; i < 100; i++) call.write(Buffer.alloc(1000));
      call.end();
    });
    expect(sum).toBe("100000");

    const replies = await new Promise<string[]>((resolve, reject) => {
      const call = c.Chat() as grpc.ClientDuplexStream<Buffer, Buffer>;
      const got: string[] = [];
      call.on("data", (m: Buffer) => {
        got.push(m.toString());
        if (got.length < 10) call.write(Buffer.from(`msg ${got.length}`));
        else call.end();
      });
      call.on("end", () => resolve(got));
      call.on("error", reject);
      call.write(Buffer.from("msg 0"));
    });
    expect(replies).toEqual(Array.from({ length: 10 }, (_, i) => `re: msg ${i}`));
  } finally {
    c.close();
  }
});

test("a failing method is a failure in response_total with its grpc_status; a deadline ends the call as DEADLINE_EXCEEDED", async () => {
  const c = client(proxy.outboundPorts[1]!);
  try {
    const failed = await unary(c, "Fail", Buffer.from("x"));
    expect(failed.err?.code).toBe(grpc.status.INTERNAL);
    expect(failed.err?.details).toBe("the shelf collapsed");
    const ok = await unary(c, "Echo", Buffer.from("y"));
    expect(ok.err).toBeNull();
    const late = await unary(c, "Slow", Buffer.from("z"), 300);
    expect(late.err?.code).toBe(grpc.status.DEADLINE_EXCEEDED);
  } finally {
    c.close();
  }
  const metrics = await proxy.metrics();
  const target = { direction: "outbound", target_addr: `127.0.0.1:${appPort}` };
  expect(metricValue(metrics, "response_total", { ...target, status_code: "200", classification: "failure", grpc_status: "13" })).toBe(1);
  expect(metricValue(metrics, "response_total", { ...target, status_code: "200", classification: "success", grpc_status: "0" })).toBe(1);
});

test("an unreachable app: the proxy answers UNAVAILABLE (HTTP 200, grpc-status 14) with l5d-proxy-error outbound", async () => {
  const c = client(proxy.outboundPorts[2]!);
  try {
    const r = await unary(c, "Echo", Buffer.from("x"));
    expect(r.err?.code).toBe(grpc.status.UNAVAILABLE);
    expect(r.err?.details).toContain("connect to 127.0.0.1:");
    expect(String(r.err?.metadata.get("l5d-proxy-error")[0])).toContain("connect to 127.0.0.1:");
  } finally {
    c.close();
  }
});

test("grpc-timeout is a deadline the proxy enforces: a client that does not time out itself gets DEADLINE_EXCEEDED", async () => {
  const session = http2.connect(`http://127.0.0.1:${proxy.inboundPort}`);
  try {
    const frame = Buffer.from([0, 0, 0, 0, 1, 0x7a]); // one uncompressed 1-byte gRPC message
    const reply = await new Promise<{ head: http2.IncomingHttpHeaders; trailers: http2.IncomingHttpHeaders }>((resolve, reject) => {
      const req = session.request({ ":method": "POST", ":path": "/test.Echo/Slow", "content-type": "application/grpc", te: "trailers", "grpc-timeout": "200m" });
      let head: http2.IncomingHttpHeaders = {};
      let trailers: http2.IncomingHttpHeaders = {};
      req.on("response", (h) => (head = h));
      req.on("trailers", (t) => (trailers = t));
      req.on("data", () => {});
      req.on("end", () => resolve({ head, trailers }));
      req.on("error", reject);
      req.end(frame);
    });
    expect(Number(reply.head[":status"])).toBe(200);
    expect(reply.head["grpc-status"]).toBe("4"); // trailers-only, from the proxy
  } finally {
    session.close();
  }
});
