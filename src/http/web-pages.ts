// The sign-in side's server-rendered pages (issue 10 §2): plain HTML forms that work without JavaScript, no inline
// script or style (the CSP below forbids both), one stylesheet served by MMS at /static/signin.css. English for now.

/** Pages may load their own stylesheet and post forms to MMS; nothing else (no scripts, frames or other origins). */
export const PAGE_CSP = "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

export const STYLESHEET_PATH = '/static/signin.css';
export const STYLESHEET = `body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;background:#f3f2f1;color:#201f1e;margin:0}
main{max-width:26rem;margin:4rem auto;background:#fff;padding:2rem;border-radius:4px;box-shadow:0 1px 4px rgba(0,0,0,.15)}
h1{font-size:1.5rem;margin:0 0 1rem}
label{display:block;margin:1rem 0 .25rem;font-weight:600}
input[type=text],input[type=password]{width:100%;box-sizing:border-box;padding:.5rem;border:1px solid #8a8886;border-radius:2px;font-size:1rem}
input:focus,button:focus{outline:2px solid #0078d4;outline-offset:2px}
button{margin-top:1.5rem;padding:.5rem 1.25rem;background:#0078d4;color:#fff;border:0;border-radius:2px;font-size:1rem;cursor:pointer}
.error{background:#fde7e9;border-left:4px solid #a4262c;padding:.5rem .75rem}
.note{background:#dff6dd;border-left:4px solid #107c10;padding:.5rem .75rem}
.hint{color:#605e5c;font-size:.875rem}
`;

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

function page(title: string, body: string): string {
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)} · Meeting Migration Service</title>
<link rel="stylesheet" href="${STYLESHEET_PATH}">
</head>
<body>
<main>
<h1>${escapeHtml(title)}</h1>
${body}
</main>
</body>
</html>
`;
}

const message = (kind: 'error' | 'note', text: string | undefined) => (text ? `<p class="${kind}" role="${kind === 'error' ? 'alert' : 'status'}">${escapeHtml(text)}</p>\n` : '');

export function signInPage(opts: { error?: string; note?: string; userName?: string } = {}): string {
  return page('Sign in', `${message('error', opts.error)}${message('note', opts.note)}<form method="post" action="/signin">
<label for="UserName">User name</label>
<input type="text" id="UserName" name="UserName" autocomplete="username" required value="${escapeHtml(opts.userName ?? '')}"${opts.userName ? '' : ' autofocus'}>
<label for="Password">Password</label>
<input type="password" id="Password" name="Password" autocomplete="current-password" required${opts.userName ? ' autofocus' : ''}>
<button type="submit">Sign in</button>
</form>`);
}

export function signedInPage(opts: { userName: string; role: string; tenant: string; csrfToken: string }): string {
  return page('Signed in', `<p>You are signed in as <strong>${escapeHtml(opts.userName)}</strong> (${escapeHtml(opts.role)}, ${escapeHtml(opts.tenant)}).</p>
<form method="post" action="/signout">
<input type="hidden" name="CsrfToken" value="${escapeHtml(opts.csrfToken)}">
<button type="submit">Sign out</button>
</form>`);
}

export function setPasswordPage(opts: { code: string; userName: string; minLength: number; error?: string }): string {
  return page('Set your password', `${message('error', opts.error)}<p>Account <strong>${escapeHtml(opts.userName)}</strong>. Choose a password of at least ${opts.minLength} characters; a few words make a good one.</p>
<form method="post" action="/signin/setup">
<input type="hidden" name="Code" value="${escapeHtml(opts.code)}">
<input type="text" name="UserName" autocomplete="username" value="${escapeHtml(opts.userName)}" hidden readonly>
<label for="Password">New password</label>
<input type="password" id="Password" name="Password" autocomplete="new-password" minlength="${opts.minLength}" required autofocus>
<label for="ConfirmPassword">The same password again</label>
<input type="password" id="ConfirmPassword" name="ConfirmPassword" autocomplete="new-password" minlength="${opts.minLength}" required>
<button type="submit">Set password</button>
</form>`);
}

export function errorPage(status: number, text: string): string {
  const title = status === 429 ? 'Too many attempts' : status === 403 ? 'Not allowed' : status === 404 || status === 410 ? 'Link not valid' : status >= 500 ? 'Something went wrong' : 'Request not valid';
  return page(title, `${message('error', text)}<p><a href="/signin">Go to sign-in</a></p>`);
}
