// The upstream of test/integration/http/bodies.test.ts, run as its own process so that the test's RSS
// measures the proxy alone (Bun.serve buffers request bodies it reads ahead of the handler).
// Prints the port it listens on as its first line of output.
const server = Bun.serve({
  hostname: "127.0.0.1",
  port: 0,
  async fetch(req) {
    const url = new URL(req.url);
    if (url.pathname === "/count") {
      let n = 0;
      for await (const chunk of req.body ?? []) n += (chunk as Uint8Array).length;
      return new Response(`${req.headers.get("transfer-encoding") ?? "-"} ${n}`);
    }
    if (url.pathname === "/echo") return new Response(await req.text());
    if (url.pathname === "/stream") {
      const parts = ["alpha-", "beta-", "gamma"];
      return new Response(
        new ReadableStream({
          async pull(c) {
            const p = parts.shift();
            if (p === undefined) c.close();
            else {
              await Bun.sleep(2);
              c.enqueue(new TextEncoder().encode(p));
            }
          },
        }),
      );
    }
    if (url.pathname === "/big") {
      const size = Number(url.searchParams.get("bytes"));
      let sent = 0;
      return new Response(
        new ReadableStream({
          pull(c) {
            if (sent >= size) return c.close();
            const n = Math.min(256 * 1024, size - sent);
            sent += n;
            c.enqueue(new Uint8Array(n).fill(120));
          },
        }),
        { headers: { "content-length": String(size) } },
      );
    }
    return new Response("?", { status: 404 });
  },
});
console.log(server.port);
