// Which side of the application a connection or request is on: inbound (to the app) or outbound
// (from it). One type for every layer, so the literal pair is written once.
export type Direction = "inbound" | "outbound";
