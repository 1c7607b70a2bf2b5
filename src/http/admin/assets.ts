// The admin center's browser files: its own (assets/ beside this file, in the installed package's src/ — the bundle
// in dist/ reads them from there) and uPlot's, from node_modules (no CDN). Read once at start into memory; a file
// name that is not one of them is a 404, so no path from a request ever reaches the file system.
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import { packageRoot } from '../../package-root.js';

export interface Asset {
  readonly type: string;
  readonly body: Buffer;
}

const TYPES: Readonly<Record<string, string>> = { '.js': 'text/javascript; charset=utf-8', '.css': 'text/css; charset=utf-8' };

function load(folder: URL, names?: readonly string[]): Map<string, Asset> {
  const out = new Map<string, Asset>();
  const dir = fileURLToPath(folder);
  for (const name of names ?? fs.readdirSync(dir)) {
    const type = TYPES[name.slice(name.lastIndexOf('.'))];
    if (type) out.set(name, { type, body: fs.readFileSync(new URL(name, folder)) });
  }
  return out;
}

/** Our files by name ('admin.js') and the vendored ones by name ('uPlot.iife.min.js'). Throws with the fix when the package is incomplete. */
export function loadAssets(): { own: Map<string, Asset>; vendor: Map<string, Asset> } {
  const root = packageRoot();
  if (!root) throw new Error('the admin center\'s files were not found (no package.json of meeting-migration-service above the code): reinstall MMS');
  try {
    return {
      own: load(new URL('src/http/admin/assets/', root)),
      vendor: load(new URL('node_modules/uplot/dist/', root), ['uPlot.iife.min.js', 'uPlot.min.css']),
    };
  } catch (err) {
    throw new Error(`the admin center's files could not be read (${(err as Error).message}): run npm install in ${fileURLToPath(root)}`);
  }
}
