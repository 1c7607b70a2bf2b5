// The admin center's languages (issue 10 §3): the reference documentation's four at least. A page follows the
// browser's Accept-Language until the admin picks one with the switch (kept in a cookie). Every page declares its
// text with `messages`, whose type holds each language to the English keys: a missing translation fails the build.
export const LANGUAGES = ['en', 'es', 'fr', 'it'] as const;
export type Lang = (typeof LANGUAGES)[number];

/** Each language named in itself, as a switch shows them. */
export const LANGUAGE_NAMES: Readonly<Record<Lang, string>> = { en: 'English', es: 'Español', fr: 'Français', it: 'Italiano' };

/** The cookie the switch sets; the query parameter `lang` sets it too. */
export const LANG_COOKIE = 'mms_lang';

export const isLang = (s: unknown): s is Lang => typeof s === 'string' && (LANGUAGES as readonly string[]).includes(s);

/**
 * The page language: the admin's choice when there is one, else the first of the browser's languages (RFC 9110
 * §12.5.4 Accept-Language, by quality, primary subtag) that the admin center speaks, else English.
 */
export function negotiateLanguage(acceptLanguage: string | undefined, chosen: string | undefined): Lang {
  if (isLang(chosen)) return chosen;
  const ranked = (acceptLanguage ?? '')
    .split(',')
    .map((part, i) => {
      const [tag = '', ...params] = part.trim().split(';');
      const q = params.map((p) => /^\s*q=([0-9.]+)\s*$/.exec(p)?.[1]).find((v) => v !== undefined);
      return { lang: tag.trim().toLowerCase().split('-')[0] ?? '', q: q === undefined ? 1 : Number(q), i };
    })
    .filter((x) => x.q > 0 && Number.isFinite(x.q))
    .sort((a, b) => b.q - a.q || a.i - b.i);
  return ranked.map((x) => x.lang).find(isLang) ?? 'en';
}

/** A translation lookup: `t('key', { n: 3 })` fills `{n}` in the text (plain text: the caller escapes it). */
export type Translate<K extends string> = (key: K, vars?: Readonly<Record<string, string | number>>) => string;

/** One page's text in every language; the English keys are the ones every other language must have. */
export function messages<K extends string>(all: { readonly en: Readonly<Record<K, string>> } & { readonly [L in Exclude<Lang, 'en'>]: Readonly<Record<K, string>> }): (lang: Lang) => Translate<K> {
  return (lang) => (key, vars) => {
    const text = all[lang][key] ?? all.en[key];
    return vars ? text.replace(/\{(\w+)\}/g, (m, name: string) => (name in vars ? String(vars[name]) : m)) : text;
  };
}
