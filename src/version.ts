// meshlet's version, from package.json: printed by `meshlet --version`, the ready banner and /config.json.
import packageJson from "../package.json" with { type: "json" };

export const VERSION: string = packageJson.version;
