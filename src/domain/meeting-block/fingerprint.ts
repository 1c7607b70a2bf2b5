import { createHash } from 'node:crypto';

/**
 * A stable hash of a block's text. Line endings (CRLF, CR, LF), trailing blanks on a line and blank lines around the
 * block are normalised away, because mail clients and CalDAV servers change those without anyone editing; any other
 * change, including one visible character, gives a different fingerprint. Versioned so the normalisation can
 * evolve; hashed as UTF-16 code units so even unpaired surrogates (which UTF-8 would turn into U+FFFD) count.
 */
export function blockFingerprint(text: string): string {
  const normalised = text
    .replace(/\r\n?/g, '\n')
    .split('\n')
    .map((line) => line.replace(/[ \t\u00a0]+$/u, ''))
    .join('\n')
    .replace(/^\n+|\n+$/g, '');
  return `v1:${createHash('sha256').update(normalised, 'utf16le').digest('hex')}`;
}
