// Tap subscriptions: every field optional, each checked with a stable code naming what is wrong.
import { expect, test } from "bun:test";
import { TapSubscriptionError, parseSubscription } from "../../../src/tap/subscription.ts";

test("an empty subscription matches everything, unbounded, without header lines", () => {
  const f = parseSubscription("{}");
  expect(f).toEqual({ direction: undefined, method: undefined, authority: undefined, path: undefined, limit: 0, headers: false });
  expect(parseSubscription('{"headers":true}').headers).toBe(true);
});

test("fields are normalised: method upper-case, authority lower-case, path a whole-path RE2 match", () => {
  const f = parseSubscription('{"direction":"outbound","method":"get","authority":"Web:8080","path":"/books/[0-9]+","limit":3}');
  expect(f.direction).toBe("outbound");
  expect(f.method).toBe("GET");
  expect(f.authority).toBe("web:8080");
  expect(f.limit).toBe(3);
  expect(f.path!("/books/12")).toBe(true);
  expect(f.path!("/books/12/x")).toBe(false);
  expect(f.path!("/x/books/12")).toBe(false);
});

test.each([
  ["not json", "MESHLET_ERR_TAP_NOT_JSON"],
  ["[1]", "MESHLET_ERR_TAP_NOT_JSON"],
  ['{"paht":"/"}', "MESHLET_ERR_TAP_UNKNOWN_FIELD"],
  ['{"direction":"in"}', "MESHLET_ERR_TAP_DIRECTION"],
  ['{"method":"GET /"}', "MESHLET_ERR_TAP_METHOD"],
  ['{"method":7}', "MESHLET_ERR_TAP_METHOD"],
  ['{"authority":"a/b"}', "MESHLET_ERR_TAP_AUTHORITY"],
  ['{"path":"(a"}', "MESHLET_ERR_TAP_PATH"],
  ['{"headers":"yes"}', "MESHLET_ERR_TAP_HEADERS"],
  ['{"path":"(?=a)b"}', "MESHLET_ERR_TAP_PATH"],
  ['{"limit":0}', "MESHLET_ERR_TAP_LIMIT"],
  ['{"limit":1.5}', "MESHLET_ERR_TAP_LIMIT"],
  ['{"limit":"10"}', "MESHLET_ERR_TAP_LIMIT"],
])("%s is refused with %s", (text, code) => {
  let caught: unknown;
  try {
    parseSubscription(text);
  } catch (err) {
    caught = err;
  }
  expect(caught).toBeInstanceOf(TapSubscriptionError);
  expect((caught as TapSubscriptionError).code).toBe(code as TapSubscriptionError["code"]);
  expect((caught as Error).message.length).toBeGreaterThan(10);
});
