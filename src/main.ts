// Boot and lifecycle of the sidecar: parse the whole config (all errors at once, exit 64), start the
// front door, listeners and admin server, then drain on SIGTERM/SIGINT within the grace period.
import { type Config, ConfigError, parseConfig, type Strings } from "./config/env.ts";
import { configView } from "./admin/config-view.ts";
import { poolsView } from "./admin/pools-view.ts";
import { startAdminServer } from "./admin/server.ts";
import { resourceKinds } from "./app/resource-kinds.ts";
import { endpointsView } from "./discovery/endpoints-view.ts";
import { endpointTables } from "./discovery/generation-table.ts";
import { listenerTargetResolver } from "./discovery/listener-targets.ts";
import { registerPoolMetrics } from "./http/pool-metrics.ts";
import { configureMetrics } from "./metrics/series-limits.ts";
import { type HostPort, formatHostPort } from "./config/values.ts";
import { ListenError } from "./errors/listen-error.ts";
import { FrontDoor } from "./l4/front-door.ts";
import { startIdentity } from "./identity/start-identity.ts";
import { startConnectionLog } from "./l4/connection-log.ts";
import { registerDetectMetrics } from "./l4/detect-metrics.ts";
import { registerHalfOpenMetrics } from "./diagnostics/half-open.ts";
import { registerBuildInfo } from "./metrics/build-info.ts";
import { registerProcessMetrics } from "./metrics/process.ts";
import { openConnectionsNow, registerTransportMetrics } from "./l4/transport-metrics.ts";
import { startProxyStats } from "./stats/proxy-stats.ts";
import { tcpLivenessOf } from "./l4/tcp-liveness.ts";
import { ownListeners } from "./http/own-listeners.ts";
import { createLogger, type Logger } from "./log/logger.ts";
import { startAccessLog } from "./access-log/start-access-log.ts";
import { startInboundPolicy } from "./authz/inbound-policy-runtime.ts";
import { inboundChain } from "./inbound/filters.ts";
import { startInbound } from "./inbound/index.ts";
import { loadMeshTlsStack } from "./stack/mesh-tls.ts";
import { outboundChain } from "./outbound/filters.ts";
import { startOutbound } from "./outbound/index.ts";
import { loadInitialResources, watchResources } from "./resources/startup.ts";
import { monotonicClock } from "./rt/clock.ts";
import { EXIT_CANNOT_LISTEN, EXIT_USAGE } from "./rt/exit-codes.ts";
import { type Http1Stage, http1Stage } from "./stack/http1.ts";
import { h2Stage } from "./stack/h2.ts";
import { TapHub } from "./tap/hub.ts";
import { startTapServer } from "./tap/server.ts";
import { registerTapMetrics } from "./tap/tap-metrics.ts";
import { readyBannerFields } from "./ready-banner.ts";

const DRAIN_POLL_MS = 100;

export function loadConfigOrExit(env: Strings): Config {
  try {
    return parseConfig(env);
  } catch (err) {
    exitOnConfigError(err);
  }
}

function exitOnConfigError(err: unknown): never {
  if (!(err instanceof ConfigError)) throw err;
  process.stderr.write(`meshlet: ${err.message}\n`);
  process.exit(EXIT_USAGE);
}

export async function runProxy(env: Strings): Promise<void> {
  const config = loadConfigOrExit(env);
  const rootLogger = createLogger(config.logLevel, config.logFormat);
  const logger = rootLogger.scoped("proxy");
  configureMetrics({ retainIdleMs: config.metricsRetainIdleMs, maxSeriesPerFamily: config.metricsMaxSeriesPerFamily });
  // Workload identity (MESHLET_IDENTITY_*): invalid files exit 64 like the environment; then watched for rotation.
  const identity = await startIdentity(config, rootLogger.scoped("identity")).catch(exitOnConfigError);
  const meshTls = identity ? await loadMeshTlsStack(identity) : undefined;
  const kinds = resourceKinds(config, monotonicClock);
  const resources = loadInitialResources(config.configDir, kinds, rootLogger.scoped("resources"));
  if (!resources) process.exit(EXIT_USAGE);
  const resourceWatch = watchResources(config.configDir, kinds, resources, rootLogger.scoped("resources"));
  const frontDoor = FrontDoor.start(rootLogger.scoped("native"), tcpLivenessOf(config));
  // Endpoint discovery (EndpointSlices): outbound listener targets naming a service resolve through it.
  const endpoints = endpointTables(resourceWatch.config, config.clusterDomain);
  frontDoor.resolveTargetNamesWith(listenerTargetResolver(endpoints));
  frontDoor.setOpaquePorts(config.opaquePorts);
  // Authorization policy: the native L4 table per generation, and the authz metrics.
  const inboundPolicy = startInboundPolicy(config, resourceWatch.config, logger);
  // The HTTP engine refuses to dial a listener (508), however a request spells its address.
  frontDoor.onListening((listener) => ownListeners.add(listener.config.bind.host, listener.port));
  registerTransportMetrics();
  // The counter-snapshot ring behind GET /stats.json, started before any traffic.
  const stats = startProxyStats(openConnectionsNow);
  registerDetectMetrics();
  registerHalfOpenMetrics();
  registerBuildInfo();
  registerProcessMetrics();
  const stopConnectionLog = startConnectionLog(rootLogger, frontDoor);
  const accessLog = startAccessLog(config.accessLog);

  // Tap subscribers (MESHLET_TAP_LISTEN); the chains include the tap filter only while there are some.
  const tap = config.tapListen !== null ? new TapHub() : undefined;
  if (tap !== undefined) registerTapMetrics(tap);
  // The request pipelines, compiled per configuration generation: a reload applies to the next request.
  const chains = {
    inbound: inboundChain(config, resourceWatch.config, monotonicClock, { accessLog: accessLog?.filter, tap }),
    outbound: outboundChain(config, resourceWatch.config, monotonicClock, rootLogger.scoped("outbound"), tap),
  };
  const http = {
    inbound: http1Stage(config, "inbound", chains.inbound, rootLogger),
    outbound: http1Stage(config, "outbound", chains.outbound, rootLogger, meshTls?.client),
    // h2c prior knowledge: every stream runs the same chain as an HTTP/1 request.
    inboundH2: h2Stage(config, "inbound", chains.inbound, rootLogger),
    outboundH2: h2Stage(config, "outbound", chains.outbound, rootLogger, meshTls?.client),
  };
  registerPoolMetrics({ inbound: http.inbound.server, outbound: http.outbound.server });
  let ready = false;
  let draining = false;
  const drain = (reason: string) => {
    if (draining) return;
    draining = true;
    ready = false;
    resourceWatch.close();
    void drainAndExit(config, frontDoor, Object.values(http), logger, reason, () => {
      stopConnectionLog();
      accessLog?.sink.flushNow();
    });
  };

  try {
    // mTLS from meshed peers (SNI = our identity): terminated, then the same engines with the client's identity.
    const meshTlsInbound = identity && meshTls ? meshTls.startInbound(config, identity, frontDoor, http, inboundPolicy, rootLogger.scoped("inbound")) : undefined;
    const inbound = await startInbound(config, frontDoor, { http1: http.inbound.handle, http2: http.inboundH2.handle, meshTls: meshTlsInbound?.handle });
    // TCP to meshed endpoints (opaque ports, not HTTP, listener targets naming a meshed service): mTLS'd.
    const meshedTcp = meshTls ? meshTls.startOrigination(config, meshTls.client, frontDoor, resourceWatch.config, rootLogger.scoped("outbound")) : undefined;
    const outbound = await startOutbound(config, frontDoor, { http1: http.outbound.handle, http2: http.outboundH2.handle, meshedTcp: meshedTcp?.handle });
    // The tap server starts first so the dashboard learns the port it really bound.
    let tapListen: HostPort | null = null;
    if (config.tapListen !== null && tap !== undefined) {
      const tapServer = startTapServer({ listen: config.tapListen, hub: tap, logger: rootLogger.scoped("tap") });
      tapListen = { host: config.tapListen.host, port: tapServer.port ?? config.tapListen.port };
      logger.info("tap listening", { address: formatHostPort(tapListen) });
    }
    const admin = startAdminServer({
      listen: config.adminListen,
      isReady: () => ready && !(identity?.expired() ?? false),
      shutdown: () => drain("admin /shutdown"),
      configView: () => configView({ env, configDir: config.configDir, config: resourceWatch.config, status: resourceWatch.status }),
      poolsView: () =>
        poolsView({ inbound: http.inbound.server.pool, outbound: http.outbound.server.pool }, { inbound: http.inboundH2.server.pool, outbound: http.outboundH2.server.pool }),
      endpointsView: () => endpointsView(endpoints.get()),
      tapListen,
      stats,
      logger: rootLogger.scoped("admin"),
      logLevel: rootLogger,
      env,
    });
    ready = true;
    logger.info("meshlet ready", readyBannerFields(config, { inbound, outbound, adminPort: admin.port ?? config.adminListen.port }));
  } catch (err) {
    if (!(err instanceof ListenError)) throw err;
    logger.error("cannot listen", { listener: err.listenerName, address: formatHostPort(err.address), errno: err.errnoName, code: err.code });
    frontDoor.stop();
    process.exit(EXIT_CANNOT_LISTEN);
  }
  process.on("SIGTERM", () => drain("SIGTERM"));
  process.on("SIGINT", () => drain("SIGINT"));
}

async function drainAndExit(
  config: Config,
  frontDoor: FrontDoor,
  http: readonly { readonly server: Pick<Http1Stage["server"], "drain" | "close" | "openConnections"> }[],
  logger: Logger,
  reason: string,
  flushLogs: () => void,
): Promise<never> {
  const open = () => frontDoor.openConnections() + http.reduce((n, stage) => n + stage.server.openConnections, 0);
  logger.info("draining", { reason, open: open(), gracePeriodMs: config.shutdownGracePeriodMs });
  frontDoor.closeListeners();
  const deadline = monotonicClock.nowMs() + config.shutdownGracePeriodMs;
  // HTTP connections close when idle, or after their current response (sent with connection: close).
  const httpDrained = Promise.all(http.map((stage) => stage.server.drain(config.shutdownGracePeriodMs)));
  while (frontDoor.openConnections() > 0 && monotonicClock.nowMs() < deadline) await Bun.sleep(DRAIN_POLL_MS);
  await httpDrained;
  const left = open();
  if (left > 0) logger.warn("grace period over; closing connections", { open: left });
  for (const stage of http) stage.server.close();
  flushLogs();
  frontDoor.stop();
  logger.info("stopped");
  process.exit(0);
}
