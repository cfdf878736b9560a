// The inbound HTTP authorization filter (Linkerd's policy/http.rs): per request, the port's policy
// picks the route and checks the client; a denial rejects in onRequestHead, before any body byte moves
// (403, 404 without a route; gRPC: 200 with grpc-status), and the connection stays open.
import { CONTINUE, type HeadVerdict, type HttpFilter } from "../http/filter.ts";
import { RouteNotFoundError, UnauthorizedRequestError } from "../http/proxy-errors.ts";
import type { RequestCtx } from "../http/request-ctx.ts";
import { decideHttp } from "./decide.ts";
import type { HttpAuthzCounters, TargetLabels } from "./http-authz-metrics.ts";
import { type InboundPolicy, portPolicyOf } from "./inbound-policy.ts";
import type { RouteRequest } from "./route-match.ts";

/** gRPC is any content-type application/grpc (with +proto, +json, ... suffixes). */
function isGrpc(ctx: RequestCtx): boolean {
  const type = ctx.header("content-type");
  return type !== undefined && type.toLowerCase().startsWith("application/grpc");
}

/** Host for route matching: lowercase, without port or brackets. */
function hostOf(authority: string | undefined): string | undefined {
  if (authority === undefined) return undefined;
  let host = authority;
  if (host.startsWith("[")) host = host.slice(1, Math.max(1, host.indexOf("]")));
  else {
    const colon = host.lastIndexOf(":");
    if (colon >= 0 && host.indexOf(":") === colon) host = host.slice(0, colon);
  }
  return host.toLowerCase();
}

/** The request as route matching reads it; the query string is parsed only when a route asks. */
function routeRequestOf(ctx: RequestCtx): RouteRequest {
  let params: URLSearchParams | undefined;
  return {
    method: ctx.method,
    path: ctx.path,
    host: hostOf(ctx.authority),
    header: (name) => ctx.header(name),
    query(name) {
      if (params === undefined) {
        const q = ctx.target.indexOf("?");
        params = new URLSearchParams(q < 0 ? "" : ctx.target.slice(q + 1));
      }
      return params.get(name) ?? undefined;
    },
  };
}

function targetOf(ctx: RequestCtx): TargetLabels {
  const dst = ctx.conn.dst;
  if (dst === null) return { target_addr: "", target_ip: "", target_port: "" };
  const addr = dst.host.includes(":") ? `[${dst.host}]:${dst.port}` : `${dst.host}:${dst.port}`;
  return { target_addr: addr, target_ip: dst.host, target_port: String(dst.port) };
}

export function authorizeFilter(policy: InboundPolicy, counters: HttpAuthzCounters): HttpFilter<undefined> {
  return {
    name: "authorize",
    onRequestHead(ctx): HeadVerdict {
      const port = portPolicyOf(policy, ctx.conn.dst?.port ?? 0);
      const identity = ctx.conn.clientIdentity;
      const decision = decideHttp(port, routeRequestOf(ctx), { ip: ctx.conn.clientAddr, identity });
      switch (decision.kind) {
        case "allow":
          counters.recordAllow(targetOf(ctx), port.server, decision.route.meta, decision.authz, identity);
          return CONTINUE;
        case "deny":
          counters.recordDeny(targetOf(ctx), port.server, decision.route.meta, identity);
          return new UnauthorizedRequestError(port.server.name, decision.route.meta.name, isGrpc(ctx));
        case "not-found":
          counters.recordRouteNotFound(targetOf(ctx), port.server, identity);
          return new RouteNotFoundError(port.server.name, isGrpc(ctx));
      }
    },
  };
}
