// Account ids for the app's users Roster Sync did not create.

/** A manual-… account id for a SCIM user without a Google account (accepted by input.accountId). */
export function manualIdFor(scimId: string): string {
  const alnum = scimId.replace(/[^A-Za-z0-9]/g, '');
  if (alnum.length >= 1 && alnum.length <= 38) return `manual-s${alnum}`;
  return `manual-h${fnv(scimId)}`;
}

function fnv(s: string): string {
  let h1 = 0x811c9dc5;
  let h2 = 0x01000193;
  for (let i = 0; i < s.length; i++) {
    h1 = Math.imul(h1 ^ s.charCodeAt(i), 16777619) >>> 0;
    h2 = Math.imul(h2 ^ s.charCodeAt(i), 2246822519) >>> 0;
  }
  return h1.toString(16).padStart(8, '0') + h2.toString(16).padStart(8, '0');
}

/** A short, stable hash of a string (ledger namespaces). */
export function shortHash(s: string): string {
  return fnv(s).slice(0, 10);
}
