// The one rescue table: each error class → status, close and l5d-proxy-error; cause chains match;
// unknown errors → 500; header values cannot split the response.
import { describe, expect, test } from "bun:test";
import { ProxyError, causeOf, isCausedBy } from "../../../src/errors/proxy-error.ts";
import {
  ConnectRefusedError,
  ConnectTimeoutError,
  FailFastError,
  GatewayLoopError,
  HeadReadTimeoutError,
  HeadTooLargeError,
  LoadShedError,
  MalformedRequestError,
  NoEndpointError,
  RequestFramingError,
  ResponseHeadersTimeoutError,
  RouteTimeoutError,
  TooManyHeadersError,
  UpstreamClosedError,
  UpstreamProtocolError,
  UpstreamResetError,
  renderSyntheticResponse,
  rescue,
} from "../../../src/http/proxy-errors.ts";

describe("rescue table", () => {
  const rows: Array<[ProxyError, number, boolean]> = [
    [new MalformedRequestError("bad"), 400, true],
    [new RequestFramingError("both content-length and transfer-encoding"), 400, true],
    [new HeadTooLargeError(65536), 431, true],
    [new TooManyHeadersError(100), 431, true],
    [new HeadReadTimeoutError(10), 408, true],
    [new ConnectRefusedError("127.0.0.1:1"), 502, true],
    [new UpstreamResetError("127.0.0.1:1"), 502, true],
    [new UpstreamClosedError("127.0.0.1:1"), 502, true],
    [new UpstreamProtocolError("invalid response"), 502, true],
    [new ConnectTimeoutError("10.0.0.1:80", 1000), 504, true],
    [new RouteTimeoutError(100), 504, true],
    [new ResponseHeadersTimeoutError(100), 504, false],
    [new FailFastError("a:1", 3000), 504, true],
    [new NoEndpointError("svc:80"), 503, true],
    [new LoadShedError("a:1"), 503, true],
    [new GatewayLoopError("127.0.0.1:4140"), 508, true],
  ];
  for (const [err, status, close] of rows) {
    test(`${err.constructor.name} → ${status}`, () => {
      const r = rescue(err);
      expect(r.status).toBe(status);
      expect(r.closeConnection).toBe(close);
      expect(r.message).toBe(err.message);
      expect(r.code).toBe(err.code);
    });
  }

  test("matches through the cause chain and falls back to 500", () => {
    const wrapped = new Error("outer", { cause: new ConnectTimeoutError("a:1", 5) });
    expect(rescue(wrapped).status).toBe(504);
    expect(isCausedBy(wrapped, ConnectTimeoutError)).toBe(true);
    expect(causeOf(wrapped, ProxyError)).toBeInstanceOf(ConnectTimeoutError);
    expect(rescue(new TypeError("boom"))).toMatchObject({ status: 500, message: "unexpected error", closeConnection: true });
  });

  test("rendered responses carry l5d-proxy-error, connection: close and a short body", () => {
    const text = renderSyntheticResponse(rescue(new ConnectRefusedError("127.0.0.1:9")), {
      closeConnection: true,
      keepAliveHeader: false,
      informational: true,
    }).toString();
    expect(text).toStartWith("HTTP/1.1 502 Bad Gateway\r\n");
    expect(text).toContain("\r\nl5d-proxy-error: connect to 127.0.0.1:9 failed\r\n");
    expect(text).toContain("\r\nconnection: close\r\n");
    expect(text).toContain("\r\nl5d-proxy-connection: close\r\n");
    expect(text).toEndWith("\r\n\r\nconnect to 127.0.0.1:9 failed\n");
    const len = Number(/content-length: (\d+)/.exec(text)![1]);
    expect(len).toBe("connect to 127.0.0.1:9 failed\n".length);
  });

  test("without informational headers (unmeshed inbound clients) nothing of the proxy's internals is sent", () => {
    const text = renderSyntheticResponse(rescue(new ConnectRefusedError("127.0.0.1:9")), {
      closeConnection: true,
      keepAliveHeader: false,
      informational: false,
    }).toString();
    expect(text).toBe("HTTP/1.1 502 Bad Gateway\r\ncontent-length: 0\r\nconnection: close\r\n\r\n");
  });

  test("header values are sanitized against response splitting", () => {
    const text = renderSyntheticResponse(rescue(new MalformedRequestError("x\r\nSet-Cookie: a=b")), {
      closeConnection: true,
      keepAliveHeader: false,
      informational: true,
    }).toString();
    expect(text.split("\r\n\r\n")[0]).not.toContain("\r\nSet-Cookie");
  });
});
