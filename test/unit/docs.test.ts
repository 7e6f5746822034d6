import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { withCatalog } from '../../scripts/docs';
import { CATALOG } from '../../src/core/messages';

test('the README troubleshooting table is generated from the message catalog and current', () => {
  const readme = readFileSync(join(__dirname, '../../README.md'), 'utf8');
  expect(withCatalog(readme)).toBe(readme);
  for (const id of Object.keys(CATALOG)) expect(readme).toContain(`| \`${id}\` |`);
});
