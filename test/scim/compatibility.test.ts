// docs/scim-compatibility.md names every behaviour profile of the test SCIM server, so it cannot drift.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PROFILES } from '../../emulator/scim/profiles';

test('docs/scim-compatibility.md has a section for every server profile, and no section for a profile that does not exist', () => {
  const doc = readFileSync(join(__dirname, '../../docs/scim-compatibility.md'), 'utf8');
  const named = [...doc.matchAll(/^## ([^:\n]+):/gm)].flatMap((m) => [...m[1].matchAll(/`([A-Za-z]+)`/g)].map((x) => x[1]));
  const profiles = Object.keys(PROFILES).sort();
  expect(profiles.length).toBeGreaterThanOrEqual(8);
  for (const p of profiles) expect(named).toContain(p);
  for (const n of named) expect(profiles).toContain(n);
});
