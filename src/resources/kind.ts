// The contract between the resource framework and the features: a kind says how its documents are
// decoded, how the decoded set is checked against other kinds, and how it is built into the runtime
// index that a configuration generation carries. src/app/resource-kinds.ts lists the kinds.
import type { FieldPath } from "./problem.ts";
import type { SourceDocument } from "./yaml-source.ts";

/**
 * The runtime indexes of one generation, by name. Empty here: each kind module adds its own entry
 * by declaration merging (`declare module "../resources/kind.ts" { interface Indexes { ... } }`),
 * so `snapshot.<name>` is typed while this framework imports no feature.
 */
export interface Indexes {}
export type IndexName = keyof Indexes;

/** Kubernetes puts an object without `metadata.namespace` in this namespace. */
export const DEFAULT_NAMESPACE = "default";

/** One Kubernetes-style object found in a config file. */
export interface Resource {
  readonly apiVersion: string;
  /** "" for the core group (`apiVersion: v1`). */
  readonly group: string;
  readonly version: string;
  readonly kind: string;
  readonly name: string | undefined;
  /** `metadata.namespace`, or DEFAULT_NAMESPACE when absent, as in Kubernetes. */
  readonly namespace: string;
  /** The YAML document holding it (for line numbers). */
  readonly source: SourceDocument;
  /** Where the object sits in its document: `[]`, or `["items", i]` inside a `kind: List`. */
  readonly basePath: FieldPath;
  readonly value: Readonly<Record<string, unknown>>;
}

/** Where a kind reports problems; paths are relative to the resource. */
export interface Reporter {
  error(path: FieldPath, message: string): void;
  warn(path: FieldPath, message: string): void;
}

export interface Decoded<T> {
  readonly value: T;
  readonly resource: Resource;
}

/** The decoded objects of the whole set, for checks across kinds. */
export interface DecodedSet {
  /** The decoded objects of `kind` (empty when none, or when that kind is not registered). */
  of<T>(kind: ResourceKind<T, IndexName>): readonly Decoded<T>[];
  /** Documents of a recognised (not enforced) kind, by group and kind name. */
  recognised(group: string, kind: string): readonly Resource[];
}

/** Where a check across the set reports; references to absent objects are warnings (see below). */
export interface SetReporter {
  error(resource: Resource, path: FieldPath, message: string): void;
  warn(resource: Resource, path: FieldPath, message: string): void;
  /**
   * The one way to report a reference to an object that is not in the set: always a warning, since
   * in Kubernetes resources arrive in any order. `target` names it, e.g. `Server "web-http"`.
   */
  missingReference(resource: Resource, path: FieldPath, target: string): void;
  /** A problem of the set as a whole (no document), e.g. a setting that names nothing. */
  warnSet(message: string): void;
}

/**
 * A kind meshlet implements. `Spec` is the validated form of one document; `Name` names its index.
 * Rule for `check`: a reference to an object that is absent is a warning (report.missingReference),
 * never an error — in Kubernetes resources arrive in any order, so a document Linkerd accepts must load alone.
 */
export interface ResourceKind<Spec, Name extends IndexName> {
  readonly group: string;
  readonly kind: string;
  /** Supported versions, preferred first. */
  readonly versions: readonly string[];
  /** The snapshot field that holds this kind's index. */
  readonly index: Name;
  /** Validates and converts one document. Returns undefined when it reported an error. */
  decode(resource: Resource, report: Reporter): Spec | undefined;
  /** Identity for duplicate detection across the whole set; undefined skips the check. */
  uniqueKey?(spec: Spec, resource: Resource): string | undefined;
  /** Checks the decoded set (this kind against the others, or against the settings). */
  check?(own: readonly Decoded<Spec>[], set: DecodedSet, report: SetReporter): void;
  /**
   * Builds the runtime index of a new generation, beside the one in force (`previous`, which may
   * lend state that must survive a reload, such as retry budgets). Must not mutate `previous`.
   */
  build(own: readonly Decoded<Spec>[], previous: Indexes[Name] | undefined): Indexes[Name];
}

/**
 * A kind meshlet recognises but does not enforce yet (a Linkerd kind whose feature is still to come):
 * its documents load without effect, and each load warns once per kind so nobody believes it in force.
 */
export interface RecognisedKind {
  readonly group: string;
  readonly kind: string;
  /** Why it has no effect, e.g. "authorization policy is not implemented yet". */
  readonly notEnforced: string;
}

/**
 * One entry of the kind list. (`any` erases each implemented kind's Spec: the framework passes a kind's
 * own decoded values back to it only, so the pairing holds by construction.)
 */
export type KindRegistration = ResourceKind<any, IndexName> | RecognisedKind;

export function isImplemented(k: KindRegistration): k is ResourceKind<unknown, IndexName> {
  return "decode" in k;
}

export function isRecognised(k: KindRegistration): k is RecognisedKind {
  return "notEnforced" in k;
}

export interface ApiVersion {
  readonly group: string;
  readonly version: string;
}

export function parseApiVersion(apiVersion: string): ApiVersion {
  const slash = apiVersion.lastIndexOf("/");
  if (slash < 0) return { group: "", version: apiVersion };
  return { group: apiVersion.slice(0, slash), version: apiVersion.slice(slash + 1) };
}

export const kindKey = (group: string, kind: string): string => `${group}/${kind}`;

/** `kubectl get ... -o yaml` wraps several objects in `apiVersion: v1, kind: List, items: [...]`. */
export const isListKind = (group: string, kind: string): boolean => group === "" && kind === "List";

export function isRecord(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === "object" && !Array.isArray(v);
}
