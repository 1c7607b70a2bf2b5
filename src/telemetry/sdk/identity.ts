// Who the events are from, as the reference promises it: the user id hashed on the client (SHA-256 of the same
// normalized form the server's normalizeUserId makes), and a DeviceId GUID generated once and kept by the device.
// Web Crypto only (crypto.subtle, crypto.randomUUID): the same code runs in Node 20 and in a browser.

/** trimmed, lower case, no `sip:` prefix — exactly src/telemetry/privacy.ts normalizeUserId (the test compares them). */
export function normalizeUserId(id: string): string {
  return id.trim().toLowerCase().replace(/^sip:/, '');
}

/** The census UserId of `userId`: SHA-256 (hex) of its normalized form. */
export async function hashUserId(userId: string): Promise<string> {
  const digest = await globalThis.crypto.subtle.digest('SHA-256', new TextEncoder().encode(normalizeUserId(userId)));
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, '0')).join('');
}

const GUID = /^[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}$/;
export const isDeviceId = (v: string): boolean => GUID.test(v);

/** Where a device keeps its DeviceId between runs. */
export interface DeviceIdStore {
  load(): Promise<string | undefined>;
  save(id: string): Promise<void>;
}

/** The browser's localStorage (per origin). */
export function localStorageDeviceId(key = 'mms-telemetry-device-id'): DeviceIdStore {
  const storage = (globalThis as { localStorage?: { getItem(k: string): string | null; setItem(k: string, v: string): void } }).localStorage;
  if (!storage) throw new Error('localStorageDeviceId needs a browser (no localStorage here): give deviceIdStore a file path in Node');
  return {
    load: async () => storage.getItem(key) ?? undefined,
    save: async (id) => storage.setItem(key, id),
  };
}

/**
 * A file (Node). node:fs is imported only when the store is used, so a browser bundle of the SDK never loads it.
 * The file is written 0600 through a temporary name, so a reader never sees half an id.
 */
export function fileDeviceId(file: string): DeviceIdStore {
  const fsp = (): Promise<typeof import('node:fs/promises')> => import('node:fs/promises');
  return {
    async load() {
      try {
        return (await (await fsp()).readFile(file, 'utf8')).trim();
      } catch {
        return undefined;
      }
    },
    async save(id) {
      const fs = await fsp();
      const dir = file.replace(/[\\/][^\\/]*$/, '');
      if (dir !== file) await fs.mkdir(dir, { recursive: true });
      const tmp = `${file}.${globalThis.crypto.randomUUID()}.tmp`;
      await fs.writeFile(tmp, `${id}\n`, { mode: 0o600 });
      await fs.rename(tmp, file);
    },
  };
}

/**
 * The device's id: the stored one, else a new GUID saved for next time. A store that fails (read-only disk,
 * private browsing) gives an id for this run only rather than no telemetry at all.
 */
export async function resolveDeviceId(store: DeviceIdStore | undefined): Promise<string> {
  const known = await store?.load().catch(() => undefined);
  if (known && isDeviceId(known)) return known.toUpperCase();
  const id = globalThis.crypto.randomUUID().toUpperCase();
  await store?.save(id).catch(() => undefined);
  return id;
}
