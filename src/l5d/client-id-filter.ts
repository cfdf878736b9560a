// Inbound rule for `l5d-client-id` (linkerd-behavior §7.3): a client-supplied value never reaches the
// application (it would let any client claim an identity); the verified mTLS identity is set instead.
import { CONTINUE, type HttpFilter } from "../http/filter.ts";
import { K_L5D_CLIENT_ID, kindBit } from "../http/head-parser.ts";

const CLIENT_ID = kindBit(K_L5D_CLIENT_ID);

export const clientIdFilter: HttpFilter<undefined> = {
  name: "l5d-client-id",
  onRequestHead(ctx) {
    if ((ctx.requestKindMask & CLIENT_ID) !== 0) ctx.dropRequestHeader("l5d-client-id");
    const identity = ctx.conn.clientIdentity;
    if (identity !== undefined) ctx.addRequestHeader("l5d-client-id", identity);
    return CONTINUE;
  },
};
