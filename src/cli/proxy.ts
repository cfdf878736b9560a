// `meshlet proxy` (= `npm start`): runs the sidecar until SIGTERM/SIGINT (or POST /shutdown) drains it.
import { defineCommand } from "./command.ts";

export const proxyCommand = defineCommand(
  {
    name: "proxy",
    summary: "run the sidecar (inbound, outbound and admin listeners) with the MESHLET_* settings",
    details: "Logs \"meshlet ready\" with its addresses once listening; SIGTERM or SIGINT drains and exits 0.",
    options: {},
  },
  async () => {
    // Imported here so that `meshlet check`, `env` and `--help` do not load the native addon.
    const { runProxy } = await import("../main.ts");
    await runProxy(process.env);
    return -1; // keeps running until drained
  },
);
