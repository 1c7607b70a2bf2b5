// Where the package is installed: found upwards from this module, which is src/package-root.ts, dist/cli/main.js or
// a chunk under dist/cli/chunks/ depending on how mms runs (tsx, the bundle). Files that ship beside the code — the
// version in package.json, the admin center's browser assets — are read relative to it.
import fs from 'node:fs';

let found: URL | null | undefined;

/** The folder holding this project's package.json (a file: URL ending in /), or undefined when none is found. */
export function packageRoot(): URL | undefined {
  if (found !== undefined) return found ?? undefined;
  for (let dir = new URL('.', import.meta.url); ; dir = new URL('..', dir)) {
    try {
      const pkg = JSON.parse(fs.readFileSync(new URL('package.json', dir), 'utf8')) as { name?: unknown };
      if (pkg.name === 'meeting-migration-service') return (found = dir);
    } catch {
      // no package.json here: look one folder up
    }
    if (dir.pathname === '/') {
      found = null;
      return undefined;
    }
  }
}
