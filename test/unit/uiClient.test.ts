// The sidebar's seams: one typed client is the only way to the server, the page is built from
// text (never HTML strings), and the built Sidebar.html carries its script inline.
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Data, RequestName, call } from '../../src/ui/client';
import { DIST } from '../e2e/harness';

const UI = join(__dirname, '../../src/ui');
const CLIENT = 'client.ts';

function uiSources(): { file: string; text: string }[] {
  return readdirSync(UI)
    .filter((file) => file.endsWith('.ts'))
    .map((file) => ({ file, text: readFileSync(join(UI, file), 'utf8') }));
}

test('only the client module talks to google.script.run', () => {
  const sources = uiSources();
  expect(sources.map((s) => s.file)).toContain(CLIENT);
  const serverAccess = /google\s*(\.|\?\.)\s*script|script\s*(\.|\?\.)\s*run\b|with(Success|Failure)Handler/;
  const offenders = sources.filter((s) => s.file !== CLIENT && serverAccess.test(s.text)).map((s) => s.file);
  expect(offenders).toEqual([]);
  expect(serverAccess.test(sources.find((s) => s.file === CLIENT)!.text)).toBe(true);
  // The template holds markup and CSS only: its one script element is the placeholder the build fills.
  const template = readFileSync(join(UI, 'sidebar.html'), 'utf8');
  expect(template.match(/<script\b[^>]*>/gi)).toEqual(['<script>']);
  expect(template).not.toMatch(/google\.script/);
});

test('no sidebar module builds HTML from strings', () => {
  const htmlSinks = /\.(innerHTML|outerHTML)\b|insertAdjacentHTML|document\.write|createContextualFragment|DOMParser/;
  expect(uiSources().filter((s) => htmlSinks.test(s.text)).map((s) => s.file)).toEqual([]);
});

test('the built Sidebar.html inlines the compiled sidebar script and loads no external script', () => {
  const html = readFileSync(join(DIST, 'Sidebar.html'), 'utf8');
  const scripts = [...html.matchAll(/<script\b([^>]*)>([^]*?)<\/script>/gi)];
  expect(scripts).toHaveLength(1);
  const [, attributes, code] = scripts[0];
  expect(attributes).not.toMatch(/\bsrc\s*=/i);
  expect(html).not.toMatch(/<script[^>]*\bsrc\s*=/i);
  // The compiled modules, not the placeholder: words of several tabs and the client's own message.
  expect(code).not.toContain('sidebar-script:');
  for (const words of ['I am a Workspace admin — use my account for syncing', 'Roster Sync is not connected to Google Sheets.', 'Preview (nothing applied yet)', 'Change sync account?']) {
    expect(code).toContain(words);
  }
  expect(code.length).toBeGreaterThan(20_000);
  // Nothing in the script may end its element early or switch the parser into comment mode.
  expect(code).not.toMatch(/<\/script|<!--/i);
  // No module syntax left: an IIFE runs as a classic script in the HtmlService iframe.
  expect(code).not.toMatch(/^\s*(import|export)\s/m);
});

// Type-level checks (npm run typecheck): the client is derived from the server's functions.
type CallName = Parameters<typeof call>[0];
// @ts-expect-error a function the server does not have cannot be called
const renamed: CallName = 'getStates';
// @ts-expect-error a server function that answers with no envelope is not part of the API
const trigger: CallName = 'runScheduledSync';
const known: CallName[] = ['getState', 'saveSettings', 'getAccounts'];
const requestName: RequestName = 'addAccount';
// Results have the server's shapes.
const rowEmail: Data<'getAccounts'>['rows'][number]['email'] = 'name@school.edu';
// @ts-expect-error a field the server does not return
const missing: Data<'getState'>['noSuchField'] = null;

test('the type-level checks above are compiled (npm run typecheck) and present here', () => {
  expect([renamed, trigger, known, requestName, rowEmail, missing]).toHaveLength(6);
});
