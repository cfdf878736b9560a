// HTTP/2 keep-alive on a fake clock: a PING only after an interval with nothing read, none while the
// peer talks, the ACK keeps the connection, and a PING unanswered within the timeout ends it once.
import { describe, expect, test } from "bun:test";
import { H2Keepalive } from "../../../src/h2/keepalive.ts";
import { FakeTimers } from "./session-pair.ts";

function setup(intervalMs = 100, timeoutMs = 30) {
  const timers = new FakeTimers();
  const pings: Buffer[] = [];
  const timeouts: number[] = [];
  let n = 0;
  const ka = new H2Keepalive(
    { intervalMs, timeoutMs },
    {
      ping: () => {
        const p = Buffer.alloc(8);
        p.writeUInt32BE(++n, 4);
        pings.push(p);
        return p;
      },
      onKeepaliveTimeout: (ms) => timeouts.push(ms),
    },
    timers,
  );
  return { ka, timers, pings, timeouts };
}

describe("H2Keepalive", () => {
  test("a silent peer gets a PING per interval while it answers; no timeout", () => {
    const { ka, timers, pings, timeouts } = setup();
    for (let i = 0; i < 5; i++) {
      timers.advance(100);
      expect(pings.length).toBe(i + 1);
      ka.onPingAck(pings[i]!);
    }
    expect(timeouts).toEqual([]);
  });

  test("a peer that keeps sending is never pinged", () => {
    const { ka, timers, pings } = setup();
    for (let i = 0; i < 20; i++) {
      ka.onRead();
      timers.advance(100);
    }
    expect(pings).toEqual([]);
  });

  test("a PING unanswered within the timeout: onKeepaliveTimeout once, and nothing after", () => {
    const { ka, timers, pings, timeouts } = setup();
    timers.advance(100);
    expect(pings.length).toBe(1);
    ka.onRead(); // data without the ACK does not count as the answer
    ka.onPingAck(Buffer.alloc(8, 0xee)); // an ACK of another PING neither
    timers.advance(29);
    expect(timeouts).toEqual([]);
    timers.advance(1);
    expect(timeouts).toEqual([30]);
    timers.advance(10_000);
    expect(timeouts).toEqual([30]);
    expect(timers.armed).toBe(0);
  });

  test("interval 0 arms nothing; stop() disarms", () => {
    expect(setup(0).timers.armed).toBe(0);
    const { ka, timers } = setup();
    ka.stop();
    expect(timers.armed).toBe(0);
  });
});
