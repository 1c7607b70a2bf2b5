// Who the events are from, as the reference promises it: the user id hashed on the client (SHA-256 of the same
// normalized form the server's normalizeUserId makes), and a DeviceId GUID generated once and kept by the device.
// Web Crypto only (crypto.subtle, crypto.getRandomValues): the same code runs in Node 20 and in a browser.

/** trimmed, lower case, no `sip:` prefix — exactly src/telemetry/privacy.ts normalizeUserId (the test compares them). */
export function normalizeUserId(id: string): string {
  return id.trim().toLowerCase().replace(/^sip:/, '');
}

/**
 * The census UserId of `userId`: SHA-256 (hex) of its normalized form. Browsers offer crypto.subtle only to pages
 * from https:// or localhost: elsewhere this throws, and the client sends no census rather than an unhashed id.
 */
export async function hashUserId(userId: string): Promise<string> {
  if (!globalThis.crypto?.subtle) throw new Error('the user id cannot be hashed here: crypto.subtle needs a secure context (https)');
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
      // 0700: the app may keep other telemetry state beside it (the mms CLI's spool holds opted-in users' ids).
      if (dir !== file) await fs.mkdir(dir, { recursive: true, mode: 0o700 });
      const tmp = `${file}.${newGuid()}.tmp`;
      await fs.writeFile(tmp, `${id}\n`, { mode: 0o600 });
      await fs.rename(tmp, file);
    },
  };
}

/** A random (version 4) GUID. getRandomValues, not randomUUID: a page served over plain HTTP has only the former. */
export function newGuid(): string {
  const b = globalThis.crypto.getRandomValues(new Uint8Array(16));
  b[6] = (b[6]! & 0x0f) | 0x40;
  b[8] = (b[8]! & 0x3f) | 0x80;
  const h = Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`.toUpperCase();
}

/**
 * The device's id: the stored one, else a new GUID saved for next time. A store that fails (read-only disk,
 * private browsing) gives an id for this run only rather than no telemetry at all.
 */
export async function resolveDeviceId(store: DeviceIdStore | undefined): Promise<string> {
  const known = await store?.load().catch(() => undefined);
  if (known && isDeviceId(known)) return known.toUpperCase();
  const id = newGuid();
  await store?.save(id).catch(() => undefined);
  return id;
}
