// The effective MESHLET_* settings of an environment: each setting's value and where it came from
// (the environment or the default), with credentials redacted. Shown by `meshlet env`, /config.json and /env.json.
import { SETTINGS, type Strings } from "./env.ts";

export type SettingSource = "env" | "default";

export interface EffectiveSetting {
  readonly name: string;
  /** The text in force (as given, or the default); "<redacted>" for a secret that was set. */
  readonly value: string;
  readonly source: SettingSource;
  readonly meaning: string;
}

export const REDACTED = "<redacted>";

/** Names that hold credentials whether or not their setting says `secret: true`. */
const SECRET_NAME = /SECRET|TOKEN|PASSWORD|PASSWD|CREDENTIAL|(^|_)KEYS?(_|$)/;
/** scheme://user:password@host — the password part of a URL-valued setting. */
const URL_PASSWORD = /^([a-z][a-z0-9+.-]*:\/\/[^/@:]*:)[^/@]*@/i;

/** A setting whose value is never shown: marked `secret` in SETTINGS, or named like a credential unless marked `secret: false`. */
export function isSecretSetting(s: { readonly name: string; readonly secret?: boolean }): boolean {
  return s.secret ?? SECRET_NAME.test(s.name);
}

/** What may be shown of the value of setting `name`: nothing of a secret, and no password inside a URL. */
export function redactedValue(name: string, value: string): string {
  if (isSecretSetting(SETTINGS_BY_NAME.get(name) ?? { name })) return REDACTED;
  return value.replace(URL_PASSWORD, `$1${REDACTED}@`);
}

const SETTINGS_BY_NAME: ReadonlyMap<string, { readonly name: string; readonly secret?: boolean }> = new Map(SETTINGS.map((s) => [s.name, s]));

/** Every setting in SETTINGS order. Values set in `env` are redacted as needed; defaults are shown as is. */
export function effectiveSettings(env: Strings): EffectiveSetting[] {
  return SETTINGS.map((s) => {
    const given = env[s.name];
    return given === undefined
      ? { name: s.name, value: s.defaultText, source: "default", meaning: s.meaning }
      : { name: s.name, value: redactedValue(s.name, given), source: "env", meaning: s.meaning };
  });
}
