// What the SCIM client removes from every text an app sends back.
import { REDACTED, redactor } from '../../src/destinations/scim/redact';

test('the token in every form it is quoted back, and every Authorization value', () => {
  const token = 'tok+/secret"\\=0123456789';
  const redact = redactor(token);
  const quoted = [
    `bad request, token ${token}`,
    JSON.stringify({ detail: 'denied', token }),
    `/Users?access_token=${encodeURIComponent(token)}`,
    'Authorization: Bearer some-other-token-42',
    '{"authorization":"Bearer abc.def.ghi"}',
    "authorization='Basic dXNlcjpwYXNz'",
    'proxy said: Bearer xyz123== was refused',
    'credentials Basic dXNlcjpwYXNz rejected',
  ];
  for (const text of quoted) {
    const out = redact(text);
    expect(out).toContain(REDACTED);
    expect(out).not.toMatch(/some-other-token|abc\.def|dXNlcjpwYXNz|xyz123|0123456789/);
  }
  expect(redact('userName jane@school.example is already taken (uniqueness)')).toBe('userName jane@school.example is already taken (uniqueness)');
  // Prose is left alone: only what looks like a credential goes.
  expect(redact('Missing basic attribute; the Bearer token is invalid')).toBe('Missing basic attribute; the Bearer token is invalid');
  expect(redact('')).toBe('');
});
