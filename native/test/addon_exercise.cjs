// Loads the addon built under ASan/UBSan (native/test/run.sh) into Node and drives every export once
// on real loopback sockets: wrong types, start/stop/start, a handoff, forward-and-splice, the stats,
// the policy and the histograms. Ends with "N passed, N failed" (checks). Usage: node this.cjs addon.node
"use strict";
const net = require("node:net");
const fs = require("node:fs");

const addon = require(process.argv[2]);
const EINVAL = -22;
let passed = 0;
let failed = 0;
function check(name, ok) {
  if (ok) passed++;
  else {
    failed++;
    console.log(`FAIL ${name}`);
  }
}
function spec(extra) {
  return {
    id: 1, bindIp: "127.0.0.1", bindPort: 0, direction: 0, detectTimeoutMs: 5000, connectTimeoutMs: 1000,
    idleTimeoutMs: 0, handoffMask: 1 << 1, pipeBytes: 65536, acceptKeepaliveMs: 0, connectKeepaliveMs: 0,
    userTimeoutMs: 0, ...extra,
  };
}

async function main() {
  // Wrong types before and after start.
  check("start(42)", addon.start(42) === EINVAL);
  for (const [name, args] of [
    ["listen", [null]], ["listen", [{ ...spec(), pipeBytes: "x" }]], ["setTarget", ["1", "127.0.0.1", 1]],
    ["setOpaquePorts", [new Uint16Array(4096)]], ["setLocalIdentity", [7]], ["setLocalIdentity", ["a".repeat(254)]],
    ["setMeshedEndpoints", [{}]], ["setMeshedEndpoints", [[{ ip: "not-an-ip", port: 1 }]]], ["setMeshedEndpoints", [[7]]], ["forward", ["3", 1, "127.0.0.1", 1, 4]],
    ["setTcpLiveness", [0, "1", 0]], ["errnoName", [{}]], ["setInboundPolicy", [7]],
    ["histogramCreate", [[1]]], ["histogramRecordMany", ["0", new Float64Array(1), 1]], ["histogramSnapshot", [null]],
  ]) {
    check(`${name} wrong type`, addon[name](...args) === EINVAL);
  }

  // An upstream for the spliced path.
  const upstream = net.createServer((s) => s.on("data", (d) => s.write(d)));
  await new Promise((r) => upstream.listen(0, "127.0.0.1", r));
  const upstreamPort = upstream.address().port;

  for (let round = 0; round < 2; round++) {
    let deliver;
    const handoff = new Promise((r) => (deliver = r));
    check("start", addon.start((batch) => deliver(batch[0])) === 0);
    check("policy", addon.setInboundPolicy({ generation: round + 1, defaultEntry: { id: 0, mode: "check", rules: [{ networks: [{ cidr: "0.0.0.0/0", except: [] }], requireIdentity: false }], audit: false }, entries: [] }) === 0);
    const port = addon.listen(spec({ targetIp: "127.0.0.1", targetPort: upstreamPort }));
    check("listen", port > 0);
    check("opaque ports", addon.setOpaquePorts(new Uint8Array(8192)) === 0);
    check("local identity", addon.setLocalIdentity("web.default.serviceaccount.identity.linkerd.cluster.local") === 0);
    check("meshed endpoints", addon.setMeshedEndpoints([{ ip: "10.0.0.1", port: 6379 }, { ip: "fd00::1", port: 6379 }]) === 0);
    // HTTP is handed off; forward it back and see the echo come through the splice.
    const client = net.connect(port, "127.0.0.1");
    client.on("error", () => {});
    const request = "GET / HTTP/1.1\r\nHost: a\r\n\r\n";
    client.write(request);
    const record = await handoff;
    check("handoff protocol", record.protocol === 1);
    check("handoff not to a meshed endpoint", record.meshedTarget === false);
    check("forward", addon.forward(record.fd, record.listenerId, "127.0.0.1", upstreamPort, record.protocol) === 0);
    const echoed = await new Promise((r) => {
      let got = "";
      client.on("data", (d) => {
        got += d;
        if (got.length >= request.length) r(got);
      });
    });
    check("echo through the splice", echoed === request);
    // Not HTTP: spliced directly.
    const raw = net.connect(port, "127.0.0.1");
    raw.write("\x00hello");
    await new Promise((r) => raw.once("data", r));
    check("open connections", addon.openConnections() === 2);
    check("transport stats", addon.transportStats().some((row) => row.peer === "dst" && row.openNow === 2));
    check("detect results", addon.detectResults().length === 2);
    check("tcp liveness on a non-socket", addon.setTcpLiveness(0, 1000, 0) < 0);
    addon.closeAll();
    await new Promise((r) => client.on("close", r));
    await new Promise((r) => (raw.destroyed ? r() : raw.on("close", r)));
    check("closed records", addon.closedConnections().records.length === 2);
    check("policy stats", Array.isArray(addon.inboundPolicyStats()) && addon.inboundPolicyError() === "");
    addon.closeListeners();
    addon.stop();
  }
  const fd = fs.openSync("/dev/null", "r");
  check("forward after stop", addon.forward(fd, 1, "127.0.0.1", 1, 4) === -107);
  check("fd closed", (() => { try { fs.fstatSync(fd); return false; } catch { return true; } })());
  const id = addon.histogramCreate(new Float64Array([1, 10]));
  check("histogram", addon.histogramRecordMany(id, new Float64Array([0, 5, 50]), 3) === 0 && addon.histogramSnapshot(id).count === 3);
  check("errnoName", addon.errnoName(111) === "ECONNREFUSED");
  // A worker starts the front door and is terminated without stop(): its environment's cleanup hook
  // must stop the thread (else it would later post into a dead environment) and leave nothing set.
  const { Worker } = require("node:worker_threads");
  const worker = new Worker(
    `const addon = require(${JSON.stringify(process.argv[2])});
     const { parentPort } = require("node:worker_threads");
     addon.start(() => {});
     parentPort.postMessage(addon.listen(${JSON.stringify(spec())}));`,
    { eval: true },
  );
  const workerPort = await new Promise((r) => worker.once("message", r));
  check("worker listened", workerPort > 0);
  await worker.terminate();
  check("cleanup hook stopped it", addon.listen(spec()) === -107);
  const refused = net.connect(workerPort, "127.0.0.1");
  check("worker's listener closed", await new Promise((r) => { refused.on("error", () => r(true)); refused.on("connect", () => r(false)); }));
  refused.destroy();
  upstream.close();
  console.log(`${passed} passed, ${failed} failed`);
}

main().then(
  () => process.exit(failed === 0 ? 0 : 1),
  (err) => {
    console.log(`FAIL ${err && err.stack}`);
    console.log(`${passed} passed, ${failed + 1} failed`);
    process.exit(1);
  },
);
