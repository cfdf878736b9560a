// Outbound rule for `l5d-require-id: <identity>` (linkerd-behavior §7.4, linkerd2-proxy
// require_id_header.rs): the header never goes upstream, and the request is sent only to an endpoint
// mTLS'd with exactly that identity — otherwise 502 IdentityRequiredError, nothing dialed.
import { parseDnsName } from "../config/values.ts";
import { ProxyError } from "../errors/proxy-error.ts";
import { CONTINUE, type FilterState, type HttpFilter } from "../http/filter.ts";
import { IdentityRequiredError } from "../http/proxy-errors.ts";
import type { RequestCtx, UpstreamTarget } from "../http/request-ctx.ts";

export const REQUIRE_ID_HEADER = "l5d-require-id";

/** Why an endpoint offers no identity, in the words of its `tls` metric labels. */
const NO_IDENTITY = "no_identity: not_provided_by_service_discovery";
const DISABLED = "disabled: this proxy has no identity";

class RequireIdState implements FilterState {
  /** The identity the request requires, or undefined (no header, or a value that is no identity). */
  required: string | undefined = undefined;
  reset(): void {
    this.required = undefined;
  }
}

/**
 * The identity a header value names, as Linkerd's `identity::Id` parses it: a DNS name (compared in
 * lowercase) or else a URI (`spiffe://…`, compared as written); undefined when it is neither —
 * Linkerd then drops the header and enforces nothing.
 */
export function parseRequiredId(value: string): string | undefined {
  const text = value.trim();
  if (text === "" || text.endsWith(".")) return undefined; // Linkerd refuses a trailing dot
  try {
    return parseDnsName(text);
  } catch {
    return /^[a-z][a-z0-9+.-]*:/i.test(text) && URL.canParse(text) ? text : undefined;
  }
}

/**
 * The filter, wrapping the chain's endpoint selection (`endpoints`: discovery, when the generation has
 * an endpoint table): it asks that selection for the endpoint first and then compares identities, as
 * Linkerd's check sits on the endpoint stack. An endpoint picked by the default route (DNS, original
 * destination) has no identity. `localIdentity`: this proxy has one; without it nothing is mTLS'd.
 */
export function requireIdFilter(opts: { readonly localIdentity: boolean; readonly endpoints?: HttpFilter<undefined> | undefined }): HttpFilter<RequireIdState> {
  const { localIdentity, endpoints } = opts;
  const select = endpoints?.selectUpstream;
  return {
    name: "l5d-require-id",
    newState: () => new RequireIdState(),
    onRequestHead(ctx, state) {
      const value = ctx.header(REQUIRE_ID_HEADER);
      if (value === undefined) return CONTINUE;
      ctx.dropRequestHeader(REQUIRE_ID_HEADER);
      state.required = parseRequiredId(value);
      return CONTINUE;
    },
    selectUpstream(ctx: RequestCtx, state): UpstreamTarget | ProxyError | undefined {
      const target = select?.call(endpoints, ctx, undefined);
      const required = state.required;
      if (required === undefined || target instanceof ProxyError) return target;
      if (!localIdentity) return new IdentityRequiredError(required, { none: DISABLED });
      const found = target?.identity;
      if (found === undefined) return new IdentityRequiredError(required, { none: NO_IDENTITY });
      return found === required ? target : new IdentityRequiredError(required, found);
    },
  };
}
