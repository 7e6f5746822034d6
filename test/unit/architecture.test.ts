// The layering the README's Architecture section describes, checked on the source.
import * as fs from 'fs';
import * as path from 'path';

const SRC = path.join(__dirname, '..', '..', 'src');
const APPS_SCRIPT_GLOBALS = /\b(SpreadsheetApp|PropertiesService|AdminDirectory|UrlFetchApp|ScriptApp|LockService|MailApp|HtmlService|Session|Utilities|CacheService|Logger)\./;

function files(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? files(path.join(dir, e.name)) : e.name.endsWith('.ts') ? [path.join(dir, e.name)] : []));
}

function imports(file: string): string[] {
  return [...fs.readFileSync(file, 'utf8').matchAll(/^\s*(?:import|export)[^'"]*from\s+'([^']+)'/gm)].map((m) => path.resolve(path.dirname(file), m[1]));
}

const core = files(path.join(SRC, 'core'));

test('the core imports nothing from a destination, the Apps Script adapters or the sidebar', () => {
  const outside = core.flatMap((f) => imports(f).filter((i) => !i.startsWith(path.join(SRC, 'core'))).map((i) => `${path.relative(SRC, f)} → ${path.relative(SRC, i)}`));
  expect(outside).toEqual([]);
});

test('the core uses no Apps Script global', () => {
  const uses = core.filter((f) => APPS_SCRIPT_GLOBALS.test(fs.readFileSync(f, 'utf8').replace(/\/\/.*$|\/\*[\s\S]*?\*\//gm, '')));
  expect(uses.map((f) => path.relative(SRC, f))).toEqual([]);
});

/** The import cycles among `files`, each as the files around it (a depth-first walk). */
function importCycles(files: string[]): string[][] {
  const byPath = new Map(files.map((f) => [f.replace(/\.ts$/, ''), f]));
  const edges = (f: string) => imports(f).flatMap((i) => byPath.get(i) ?? []);
  const done = new Set<string>();
  const cycles: string[][] = [];
  const walk = (file: string, trail: string[]) => {
    const loop = trail.indexOf(file);
    if (loop >= 0) return void cycles.push(trail.slice(loop).concat(file));
    if (done.has(file)) return;
    for (const next of edges(file)) walk(next, [...trail, file]);
    done.add(file);
  };
  for (const f of files) walk(f, []);
  return cycles;
}

test('the core has no import cycle: its modules depend on each other one way', () => {
  const cycles = importCycles(core).map((c) => c.map((f) => path.relative(SRC, f)).join(' → '));
  expect(cycles).toEqual([]);
});

test('each destination is one folder registered in src/destinations/index.ts', () => {
  const folders = fs.readdirSync(path.join(SRC, 'destinations'), { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name);
  const registry = fs.readFileSync(path.join(SRC, 'destinations', 'index.ts'), 'utf8');
  expect(folders).toEqual(expect.arrayContaining(['scim', 'sheet']));
  for (const folder of folders) {
    expect(fs.existsSync(path.join(SRC, 'destinations', folder, 'index.ts'))).toBe(true);
    expect(registry).toContain(`from './${folder}'`);
  }
});
