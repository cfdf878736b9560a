// Which side of the application a connection or request is on: inbound (to the app) or outbound
// (from it). One type for every layer, so the literal pair is written once.
export type Direction = "inbound" | "outbound";

/** Both, in the order the native front door numbers them (0 inbound, 1 outbound). */
export const DIRECTIONS: readonly Direction[] = ["inbound", "outbound"];
