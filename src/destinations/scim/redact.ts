// Text from a SCIM app (error bodies, headers it quotes back, a network error) may
// carry the bearer token: a debug-mode server echoing the request, a proxy's error
// page. It is redacted as it arrives, before any of it can reach History, getState,
// a sync result, a log line or an email.

export const REDACTED = '[redacted]';

/**
 * Authorization values as they are quoted back: "Authorization: Bearer x", "authorization":"Bearer x",
 * authorization=x (header, JSON and form styles), and any "Bearer x" / "Basic x" credential.
 */
const AUTHORIZATION_VALUE = /(\bauthorization\b["']?\s*[:=]\s*["']?)(?:bearer\s+|basic\s+)?[^\s"',;}\]]+/gi;
const CREDENTIAL = /\b(bearer|basic)(\s+)([A-Za-z0-9\-._~+/]+=*)/gi;

/** A word after "Bearer" or "Basic" that looks like a credential, not prose ("basic attribute"). */
function looksLikeCredential(word: string): boolean {
  return word.length >= 20 || (word.length >= 8 && (/[0-9\-._~+/=]/.test(word) || /[a-z][A-Z]/.test(word)));
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** A function that removes the token (raw, JSON-escaped or URL-encoded) and every Authorization value from a text. */
export function redactor(token: string): (text: string) => string {
  const forms = token ? [...new Set([token, JSON.stringify(token).slice(1, -1), encodeURIComponent(token)])].filter((f) => f.length >= 4) : [];
  const tokenPattern = forms.length ? new RegExp(forms.map(escapeRegExp).join('|'), 'g') : null;
  return (text: string) => {
    if (!text) return text;
    let out = tokenPattern ? text.replace(tokenPattern, REDACTED) : text;
    out = out.replace(AUTHORIZATION_VALUE, (_, name: string) => `${name}${REDACTED}`);
    return out.replace(CREDENTIAL, (all: string, scheme: string, space: string, word: string) => (looksLikeCredential(word) ? `${scheme}${space}${REDACTED}` : all));
  };
}
