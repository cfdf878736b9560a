// `meshlet identity init` (a trust anchor and an issuer, like `linkerd install` makes) and `meshlet
// identity issue` (a workload's tls.crt, tls.key and ca.crt, the files of a Kubernetes TLS secret).
// Exit 0; 64 on a bad command line, unusable CA files or output files that exist without --force.
import { readFileSync } from "node:fs";
import { join } from "node:path";

import { UsageError, parseCommandArgs } from "../cli/args.ts";
import { commandHelp } from "../cli/help.ts";
import { closestName } from "../config/closest-name.ts";
import { ValueError, parseDnsName } from "../config/values.ts";
import { parseGoDuration } from "../resources/duration.ts";
import { EXIT_USAGE } from "../rt/exit-codes.ts";
import { CaFilesError, createTrustAnchorAndIssuer, issueLeaf } from "./certificate-issuer.ts";
import { IDENTITY_NAME_EXAMPLE, parseIdentityName } from "./identity-name.ts";
import { OutputExistsError, writeOutputFiles } from "./output-files.ts";

const INIT = {
  name: "identity init",
  summary: "create a trust anchor (ca.crt, ca.key) and an issuer signed by it (issuer.crt, issuer.key), ECDSA P-256",
  details:
    "The anchor is CN root.linkerd.<D> and the issuer CN identity.linkerd.<D>, as Linkerd names them. Keys are\n" +
    "PKCS#8 PEM, mode 0600. Existing files are left alone unless --force.",
  options: {
    "trust-domain": { type: "string", valueName: "D", description: "trust domain, e.g. cluster.local (required)" },
    out: { type: "string", valueName: "CA_DIR", description: "directory to write the four files to (required)" },
    "anchor-valid": { type: "string", valueName: "DURATION", description: "lifetime of the trust anchor (default 87600h, ten years)" },
    "issuer-valid": { type: "string", valueName: "DURATION", description: "lifetime of the issuer (default 8760h, one year)" },
    force: { type: "boolean", description: "overwrite existing files" },
  },
} as const;

const ISSUE = {
  name: "identity issue",
  summary: "issue a workload certificate: tls.crt (leaf + issuer), tls.key (PKCS#8) and ca.crt (the trust anchor)",
  details:
    "The leaf's CN and its one DNS SAN are NAME, with EKU serverAuth and clientAuth, valid from 20 s ago for\n" +
    "--valid, but never past the issuer's expiry. Point MESHLET_IDENTITY_TRUST_ANCHORS, MESHLET_IDENTITY_CERT\n" +
    "and MESHLET_IDENTITY_KEY at the three files.",
  options: {
    ca: { type: "string", valueName: "CA_DIR", description: "directory made by `meshlet identity init` (required)" },
    name: { type: "string", valueName: "NAME", description: `the identity, e.g. ${IDENTITY_NAME_EXAMPLE} (required)` },
    out: { type: "string", valueName: "DIR", description: "directory to write the three files to (required)" },
    valid: { type: "string", valueName: "DURATION", description: "lifetime, e.g. 24h or 90s (default 24h, Linkerd's)" },
    force: { type: "boolean", description: "overwrite existing files (each is replaced atomically)" },
  },
} as const;

const SUBCOMMANDS = ["init", "issue"];
const USAGE = `Usage: meshlet identity init --trust-domain D --out CA_DIR [--force]
       meshlet identity issue --ca CA_DIR --name NAME --out DIR [--valid 24h] [--force]

Certificates for meshlet's workload identity (mTLS), for tests and for users who have no CA.
Run 'meshlet identity init --help' or 'meshlet identity issue --help' for the options.
`;

export async function run(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub === undefined) {
    process.stderr.write(USAGE);
    return EXIT_USAGE;
  }
  if (sub === "--help" || sub === "-h" || sub === "help") {
    process.stdout.write(USAGE);
    return 0;
  }
  try {
    if (sub === "init") return await init(rest);
    if (sub === "issue") return await issue(rest);
  } catch (err) {
    if (err instanceof CaFilesError || err instanceof OutputExistsError) throw new UsageError(err.message);
    throw err;
  }
  const hint = closestName(sub, SUBCOMMANDS, 2);
  throw new UsageError(`unknown subcommand ${JSON.stringify(sub)}: expected init or issue${hint !== undefined ? ` (did you mean ${hint}?)` : ""}`);
}

async function init(args: readonly string[]): Promise<number> {
  const parsed = parseCommandArgs(INIT, args);
  if (parsed.help) return help(INIT);
  const v = parsed.values;
  const trustDomain = parseOption("trust-domain", required("trust-domain", v["trust-domain"]), parseDnsName);
  const out = required("out", v.out);
  const anchorValidMs = durationOption("anchor-valid", v["anchor-valid"] ?? "87600h");
  const issuerValidMs = durationOption("issuer-valid", v["issuer-valid"] ?? "8760h");
  const ca = await createTrustAnchorAndIssuer({ trustDomain, nowMs: Date.now(), anchorValidMs, issuerValidMs });
  const written = writeOutputFiles(
    out,
    [
      { name: "ca.crt", text: ca.anchor.certPem, privateKey: false },
      { name: "ca.key", text: ca.anchor.keyPem, privateKey: true },
      { name: "issuer.crt", text: ca.issuer.certPem, privateKey: false },
      { name: "issuer.key", text: ca.issuer.keyPem, privateKey: true },
    ],
    v.force === true,
  );
  process.stdout.write(`trust anchor root.linkerd.${trustDomain} and issuer identity.linkerd.${trustDomain} written:\n${written.map((p) => `  ${p}\n`).join("")}`);
  return 0;
}

async function issue(args: readonly string[]): Promise<number> {
  const parsed = parseCommandArgs(ISSUE, args);
  if (parsed.help) return help(ISSUE);
  const v = parsed.values;
  const caDir = required("ca", v.ca);
  const name = parseOption("name", required("name", v.name), parseIdentityName);
  const out = required("out", v.out);
  const validMs = durationOption("valid", v.valid ?? "24h");
  const anchorPem = readCaFile(caDir, "ca.crt");
  const issuer = { certPem: readCaFile(caDir, "issuer.crt"), keyPem: readCaFile(caDir, "issuer.key") };
  const leaf = await issueLeaf({ anchorPem, issuer, name, nowMs: Date.now(), validMs });
  const written = writeOutputFiles(
    out,
    [
      { name: "tls.crt", text: leaf.chainPem, privateKey: false },
      { name: "tls.key", text: leaf.keyPem, privateKey: true },
      { name: "ca.crt", text: anchorPem, privateKey: false },
    ],
    v.force === true,
  );
  process.stdout.write(`identity ${name}, valid until ${new Date(leaf.notAfterMs).toISOString()}, written:\n${written.map((p) => `  ${p}\n`).join("")}`);
  return 0;
}

function help(spec: typeof INIT | typeof ISSUE): number {
  process.stdout.write(commandHelp(spec));
  return 0;
}

function required(option: string, value: string | undefined): string {
  if (value === undefined || value.trim() === "") throw new UsageError(`--${option} is required`);
  return value;
}

function parseOption<T>(option: string, text: string, parse: (text: string) => T): T {
  try {
    return parse(text);
  } catch (err) {
    if (!(err instanceof ValueError)) throw err;
    throw new UsageError(`--${option} must be ${err.expected} (got ${JSON.stringify(text)})`);
  }
}

/** A positive Go-syntax duration (24h, 90s, 1h30m), in ms. */
function durationOption(option: string, text: string): number {
  const d = parseGoDuration(text);
  if (!d.ok) throw new UsageError(`--${option}: ${d.error}; expected a duration like 24h or 90s`);
  if (d.ms < 1000) throw new UsageError(`--${option} must be at least 1s (got ${JSON.stringify(text)})`);
  return Math.round(d.ms);
}

function readCaFile(caDir: string, file: "ca.crt" | "issuer.crt" | "issuer.key"): string {
  try {
    return readFileSync(join(caDir, file), "utf8");
  } catch (err) {
    throw new CaFilesError(file, `cannot read ${join(caDir, file)} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}); make the CA with \`meshlet identity init --out ${caDir}\``);
  }
}
