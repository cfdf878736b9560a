// Benchmark target: meshlet's HTTP/1 engine on Bun.listen forwarding every connection to one upstream.
// Usage: bun bench/http-meshlet.ts <listen-port> <upstream-port> [--cpu-prof via bun flags]
// TODO(http): switch to the native front door (adoptFd) once it lands.
import { createHttp1Server } from "../src/http/server.ts";

const listenPort = Number(process.argv[2]);
const upstreamPort = Number(process.argv[3]);
if (!Number.isInteger(listenPort) || !Number.isInteger(upstreamPort)) {
  console.error("usage: bun bench/http-meshlet.ts <listen-port> <upstream-port>");
  process.exit(64);
}
const server = createHttp1Server({ direction: "inbound", forwardTo: { host: "127.0.0.1", port: upstreamPort } });
const listener = Bun.listen({ hostname: "127.0.0.1", port: listenPort, allowHalfOpen: true, socket: server.socketHandlers });
const stop = (): void => {
  // Upstream keep-alive reuse for the run, read by bench/http.sh.
  console.log(`upstream connections opened=${server.pool.opened} requests=${server.pool.dispatched}`);
  listener.stop(true);
  server.close();
  process.exit(0);
};
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
console.log(`meshlet http bench listening on ${listener.port} → 127.0.0.1:${upstreamPort}`);
