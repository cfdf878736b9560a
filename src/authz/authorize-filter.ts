// The inbound HTTP authorization filter (Linkerd's policy/http.rs): per request, the port's policy
// picks the route and checks the client; a denial rejects in onRequestHead, before any body byte moves
// (403, 404 without a route; gRPC: 200 with grpc-status), and the connection stays open.
import { CONTINUE, type FilterState, type HeadVerdict, type HttpFilter } from "../http/filter.ts";
import { RouteNotFoundError, UnauthorizedRequestError } from "../http/proxy-errors.ts";
import type { ConnInfo, RequestCtx } from "../http/request-ctx.ts";
import { decideOnRoute } from "./decide.ts";
import type { HttpAuthzCounters, Series, TargetLabels } from "./http-authz-metrics.ts";
import { type CompiledRoute, type InboundPolicy, portPolicyOf } from "./inbound-policy.ts";
import { type RouteRequest, selectRoute } from "./route-match.ts";

/** gRPC is any content-type application/grpc (with +proto, +json, ... suffixes). */
function isGrpc(ctx: RequestCtx): boolean {
  const type = ctx.header("content-type");
  return type !== undefined && type.toLowerCase().startsWith("application/grpc");
}

/** Host for route matching: lowercase, without port or brackets. */
export function hostOf(authority: string | undefined): string | undefined {
  if (authority === undefined) return undefined;
  let host = authority;
  if (host.startsWith("[")) host = host.slice(1, Math.max(1, host.indexOf("]")));
  else {
    const colon = host.lastIndexOf(":");
    if (colon >= 0 && host.indexOf(":") === colon) host = host.slice(0, colon);
  }
  return host.toLowerCase();
}

/**
 * The request as route matching reads it, one per filter slot (reused, no allocation per request);
 * the host and the query string are parsed only when a route asks for them.
 */
class RouteRequestView implements RouteRequest, FilterState {
  /**
   * The last route this connection was allowed on and the series that counted it. The client (address,
   * identity) is fixed per connection and the slot lives as long as the chain's generation, so a
   * later request on the same route is allowed again without re-checking networks or building a
   * metrics key. Kept across reset().
   */
  allowedRoute: CompiledRoute | undefined = undefined;
  allowedSeries: Series | undefined = undefined;
  private ctx: RequestCtx | undefined;
  private hostParsed = false;
  private hostValue: string | undefined;
  private params: URLSearchParams | undefined;

  bind(ctx: RequestCtx): this {
    this.ctx = ctx;
    return this;
  }
  reset(): void {
    this.ctx = undefined;
    this.hostParsed = false;
    this.hostValue = undefined;
    this.params = undefined;
  }
  get method(): string {
    return this.ctx!.method;
  }
  get path(): string {
    return this.ctx!.path;
  }
  get host(): string | undefined {
    if (!this.hostParsed) {
      this.hostValue = hostOf(this.ctx!.authority);
      this.hostParsed = true;
    }
    return this.hostValue;
  }
  header(name: string): string | undefined {
    return this.ctx!.header(name);
  }
  query(name: string): string | undefined {
    if (this.params === undefined) {
      const target = this.ctx!.target;
      const q = target.indexOf("?");
      this.params = new URLSearchParams(q < 0 ? "" : target.slice(q + 1));
    }
    return this.params.get(name) ?? undefined;
  }
}

const NO_TARGET: TargetLabels = Object.freeze({ target_addr: "", target_ip: "", target_port: "" });
/** Target labels per connection (computed on its first request). */
const targets = new WeakMap<ConnInfo, TargetLabels>();

function targetOf(conn: ConnInfo): TargetLabels {
  const dst = conn.dst;
  if (dst === null) return NO_TARGET;
  let labels = targets.get(conn);
  if (labels === undefined) {
    const addr = dst.host.includes(":") ? `[${dst.host}]:${dst.port}` : `${dst.host}:${dst.port}`;
    labels = { target_addr: addr, target_ip: dst.host, target_port: String(dst.port) };
    targets.set(conn, labels);
  }
  return labels;
}

export function authorizeFilter(policy: InboundPolicy, counters: HttpAuthzCounters): HttpFilter<RouteRequestView> {
  return {
    name: "authorize",
    newState: () => new RouteRequestView(),
    onRequestHead(ctx, view): HeadVerdict {
      const conn = ctx.conn;
      const port = portPolicyOf(policy, conn.dst?.port ?? 0);
      const identity = conn.clientIdentity;
      const index = selectRoute(port.routes, view.bind(ctx));
      if (index < 0) {
        counters.recordRouteNotFound(targetOf(conn), port.server, conn.tls);
        return new RouteNotFoundError(port.server.name, isGrpc(ctx));
      }
      const route = port.routes[index]!;
      if (route === view.allowedRoute) {
        view.allowedSeries!.count++;
        return CONTINUE;
      }
      const decision = decideOnRoute(port, route, { ip: conn.clientAddr, identity });
      if (decision.kind === "allow") {
        view.allowedSeries = counters.recordAllow(targetOf(conn), port.server, route.meta, decision.authz, conn.tls);
        view.allowedRoute = route;
        return CONTINUE;
      }
      counters.recordDeny(targetOf(conn), port.server, route.meta, conn.tls);
      return new UnauthorizedRequestError(port.server.name, route.meta.name, isGrpc(ctx));
    },
  };
}
