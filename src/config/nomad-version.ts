// Nomad version strings as Nomad writes them: version.VersionInfo's VersionNumber() —
// "2.0.5", "1.10.3-beta.1", "1.9.3+ent", "2.0.6-dev+ent" (hashicorp/nomad version/version.go) — and
// GitDescribe's "v2.0.5" when a build sets it. Ordered as semantic versions: a pre-release comes
// before its release ("1.8.2-rc.1" < "1.8.2"); build metadata (+ent, +fips1403) is ignored.

export interface NomadVersion {
  readonly major: number;
  readonly minor: number;
  readonly patch: number;
  /** "" for a release. */
  readonly prerelease: string;
}

const VERSION = /^v?(\d+)\.(\d+)\.(\d+)(?:-([0-9A-Za-z.-]+))?(?:\+[0-9A-Za-z.-]+)?$/;

export function parseNomadVersion(text: string): NomadVersion | undefined {
  const m = VERSION.exec(text.trim());
  if (!m) return undefined;
  return { major: Number(m[1]), minor: Number(m[2]), patch: Number(m[3]), prerelease: m[4] ?? '' };
}

/** Whether `v` is `min` or later (`min` a release); a pre-release of `min` itself is not. */
export function versionAtLeast(v: NomadVersion, min: NomadVersion): boolean {
  if (v.major !== min.major) return v.major > min.major;
  if (v.minor !== min.minor) return v.minor > min.minor;
  if (v.patch !== min.patch) return v.patch > min.patch;
  return v.prerelease === '' || min.prerelease !== '';
}

export function formatNomadVersion(v: NomadVersion): string {
  return `${v.major}.${v.minor}.${v.patch}${v.prerelease ? `-${v.prerelease}` : ''}`;
}
