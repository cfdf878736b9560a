// The engine's callback clock: inside a socket callback every timestamp is the callback's one reading
// (taken on first use, fresh for the next callback); outside callbacks each read goes to the clock.
import { expect, test } from "bun:test";

import { CallbackClock } from "../../../src/h2/callback-clock.ts";

test("one reading per callback, taken lazily; nested callbacks share it; fresh reads outside", () => {
  let now = 100;
  let reads = 0;
  const clock = new CallbackClock(() => {
    reads++;
    return now;
  });
  expect(clock.nowMs()).toBe(100);
  now = 105;
  expect(clock.nowMs()).toBe(105);
  expect(reads).toBe(2);

  clock.enter();
  expect(reads).toBe(2); // a callback that takes no timestamp reads no clock
  now = 110;
  expect(clock.nowMs()).toBe(110);
  now = 120;
  expect(clock.nowMs()).toBe(110);
  clock.enter(); // a callback inside a callback (a read that closes a connection, say)
  expect(clock.nowMs()).toBe(110);
  clock.exit();
  expect(clock.nowMs()).toBe(110);
  clock.exit();
  expect(reads).toBe(3);

  expect(clock.nowMs()).toBe(120); // outside: fresh
  now = 130;
  clock.enter();
  expect(clock.nowMs()).toBe(130); // the next callback reads again
  clock.exit();
  expect(reads).toBe(5);
});

test("a fake clock at 0 is read once per callback too", () => {
  let reads = 0;
  const clock = new CallbackClock(() => {
    reads++;
    return 0;
  });
  clock.enter();
  clock.nowMs();
  clock.nowMs();
  clock.exit();
  expect(reads).toBe(1);
});
