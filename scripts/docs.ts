// Regenerates the README's troubleshooting table from the message catalog.
//   npx tsx scripts/docs.ts          → rewrites README.md
//   npx tsx scripts/docs.ts --check  → exits 1 when README.md is out of date
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CATALOG } from '../src/core/messages';

const START = '<!-- catalog:start -->';
const END = '<!-- catalog:end -->';

const cell = (s: string) => s.replace(/\|/g, '\\|').replace(/\{(\w+)\}/g, '<$1>') || '–';

export function catalogTable(): string {
  const rows = Object.entries(CATALOG).map(([id, e]) => `| \`${id}\` | ${cell(e.text)} | ${cell(e.fix)} |`);
  return ['| id | what you see | how to fix it |', '|---|---|---|', ...rows].join('\n');
}

export function withCatalog(readme: string): string {
  const start = readme.indexOf(START);
  const end = readme.indexOf(END);
  if (start < 0 || end < start) throw new Error('README.md lacks the catalog markers');
  return `${readme.slice(0, start + START.length)}\n${catalogTable()}\n${readme.slice(end)}`;
}

if (require.main === module) {
  const path = join(__dirname, '..', 'README.md');
  const current = readFileSync(path, 'utf8');
  const next = withCatalog(current);
  if (process.argv.includes('--check')) {
    if (next !== current) {
      console.error('README.md troubleshooting table is out of date: run npm run docs');
      process.exit(1);
    }
  } else writeFileSync(path, next);
}
