// Builds the folder `clasp push` uploads (rootDir in .clasp.json): one bundled
// script whose exports become real top-level functions, the manifest, and the
// sidebar: one HTML file (HtmlService serves one) with its compiled script inlined.
//   node scripts/build.mjs                      → dist/ (script-properties settings)
//   node scripts/build.mjs --scope document --out .cache/dist-document
import { build } from 'esbuild';
import { copyFileSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const GLOBAL = '__RosterSync';

function option(name, fallback) {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : fallback;
}

export async function buildBundle({ outDir = join(root, 'dist'), scope = 'script' } = {}) {
  if (!['script', 'document'].includes(scope)) throw new Error(`--scope must be script or document, not ${scope}`);
  rmSync(outDir, { recursive: true, force: true });
  mkdirSync(outDir, { recursive: true });
  const result = await build({
    entryPoints: [join(root, 'src/main.ts')],
    bundle: true,
    format: 'iife',
    globalName: GLOBAL,
    target: 'es2020',
    platform: 'neutral',
    charset: 'utf8',
    write: false,
    legalComments: 'none',
    define: { ROSTER_SYNC_SETTINGS_SCOPE: JSON.stringify(scope) },
    logLevel: 'warning',
  });
  // The entry's exported functions are the script's public surface (an IIFE reports no exports itself).
  const entry = readFileSync(join(root, 'src/main.ts'), 'utf8');
  const exports = [...entry.matchAll(/^export function ([A-Za-z_$][\w$]*)/gm)].map((m) => m[1]).filter((name) => !name.endsWith('_'));
  // Apps Script finds functions (menus, triggers, google.script.run) only as top-level declarations.
  const globals = exports.map((name) => `function ${name}() { return ${GLOBAL}.${name}.apply(this, arguments); }`).join('\n');
  const code = `${result.outputFiles[0].text}\n${globals}\n`;
  writeFileSync(join(outDir, 'Code.js'), code);
  copyFileSync(join(root, 'appsscript.json'), join(outDir, 'appsscript.json'));
  const sidebar = await buildSidebar();
  writeFileSync(join(outDir, 'Sidebar.html'), sidebar);
  return { outDir, exports, bytes: code.length, sidebarBytes: Buffer.byteLength(sidebar) };
}

/** The placeholder in src/ui/sidebar.html that the compiled sidebar script replaces. */
export const SIDEBAR_SCRIPT_PLACEHOLDER = '/* sidebar-script: scripts/build.mjs inlines the compiled src/ui/main.ts here */';

/** src/ui/sidebar.html with src/ui/main.ts compiled into it (no external script: the IFRAME sandbox loads none). */
async function buildSidebar() {
  const result = await build({
    entryPoints: [join(root, 'src/ui/main.ts')],
    bundle: true,
    format: 'iife',
    target: 'es2020',
    platform: 'browser',
    charset: 'utf8',
    minify: true,
    write: false,
    legalComments: 'none',
    logLevel: 'warning',
  });
  const template = readFileSync(join(root, 'src/ui/sidebar.html'), 'utf8');
  if (template.split(SIDEBAR_SCRIPT_PLACEHOLDER).length !== 2) throw new Error('src/ui/sidebar.html must hold the sidebar-script placeholder exactly once');
  return template.replace(SIDEBAR_SCRIPT_PLACEHOLDER, () => inlineSafe(result.outputFiles[0].text.trim()));
}

/**
 * A script element's content ends at the first "</script" and "<!--" changes how it is parsed; both can
 * only occur inside strings, regular expressions or comments, where "\x3C" is the same "<".
 */
function inlineSafe(code) {
  return code.replace(/<(?=\/script|!--)/gi, '\\x3C');
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const out = option('out', 'dist');
  const { outDir, exports, bytes, sidebarBytes } = await buildBundle({ outDir: resolve(root, out), scope: option('scope', 'script') });
  console.log(`built ${outDir}/Code.js (${(bytes / 1024).toFixed(1)} KiB): ${exports.join(', ')}`);
  console.log(`built ${outDir}/Sidebar.html (${(sidebarBytes / 1024).toFixed(1)} KiB)`);
}
