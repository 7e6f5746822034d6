// Fake HtmlService: files come from the build output directory; templates
// support <?= ?> (escaped), <?!= ?> (raw) and <? ?> scriptlets, evaluated in
// the script's own global scope so they can call the bundle's functions.
import * as fs from 'fs';
import * as path from 'path';
import { Exec } from './exec';

export interface HtmlOutputData {
  content: string;
  title: string;
  width: number | null;
  height: number | null;
  sandbox: string;
  xFrame: string;
  meta: { name: string; content: string }[];
}

const outputs = new WeakMap<object, HtmlOutputData>();

/** The state behind an HtmlOutput the script built (for showSidebar and tests). */
export function htmlData(output: unknown): HtmlOutputData | null {
  return output && typeof output === 'object' ? outputs.get(output) ?? null : null;
}

export interface HtmlDeps {
  htmlDir: string;
  /** Runs template code inside the execution's vm context. */
  evalInScript(code: string): unknown;
}

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

export function makeHtmlService(exec: Exec, deps: HtmlDeps): unknown {
  const c = (m: string, args: unknown[] = []) => exec.call(`HtmlService.${m}`, args);
  const readFile = (name: string): string => {
    const base = String(name).replace(/\.html$/, '');
    const file = path.join(deps.htmlDir, `${base}.html`);
    if (!base || base.includes('..') || !fs.existsSync(file)) throw exec.error(`No HTML file named ${base} was found.`, { name: 'Exception' });
    return fs.readFileSync(file, 'utf8');
  };
  return {
    SandboxMode: Object.freeze({ EMULATED: 'EMULATED', IFRAME: 'IFRAME', NATIVE: 'NATIVE' }),
    XFrameOptionsMode: Object.freeze({ ALLOWALL: 'ALLOWALL', DEFAULT: 'DEFAULT' }),
    createHtmlOutput(html?: unknown) {
      c('createHtmlOutput');
      return makeOutput(exec, html === undefined ? '' : String(html));
    },
    createHtmlOutputFromFile(filename: string) {
      c('createHtmlOutputFromFile', [filename]);
      return makeOutput(exec, readFile(filename));
    },
    createTemplate(html: string) {
      c('createTemplate');
      return makeTemplate(exec, deps, String(html));
    },
    createTemplateFromFile(filename: string) {
      c('createTemplateFromFile', [filename]);
      return makeTemplate(exec, deps, readFile(filename));
    },
  };
}

function makeOutput(exec: Exec, content: string): unknown {
  const d: HtmlOutputData = { content, title: '', width: null, height: null, sandbox: 'IFRAME', xFrame: 'DEFAULT', meta: [] };
  const o: Record<string, unknown> = {};
  const chain = (f: () => void) => () => (f(), o);
  Object.assign(o, {
    getContent: () => d.content,
    setContent: (s: string) => chain(() => (d.content = String(s)))(),
    append: (s: string) => chain(() => (d.content += String(s)))(),
    appendUntrusted: (s: string) => chain(() => (d.content += escapeHtml(String(s))))(),
    clear: () => chain(() => (d.content = ''))(),
    setTitle: (t: string) => chain(() => (d.title = String(t)))(),
    getTitle: () => d.title,
    setWidth: (w: number) => chain(() => (d.width = Number(w)))(),
    getWidth: () => d.width ?? 0,
    setHeight: (h: number) => chain(() => (d.height = Number(h)))(),
    getHeight: () => d.height ?? 0,
    setSandboxMode: (m: string) => chain(() => (d.sandbox = String(m)))(),
    getSandboxMode: () => d.sandbox,
    setXFrameOptionsMode: (m: string) => chain(() => (d.xFrame = String(m)))(),
    addMetaTag: (name: string, content: string) => chain(() => d.meta.push({ name: String(name), content: String(content) }))(),
    getMetaTags: () => d.meta.map((m) => ({ getName: () => m.name, getContent: () => m.content })),
    setFaviconUrl: () => o,
    getFaviconUrl: () => null,
    asTemplate: () => {
      throw exec.error('asTemplate is not supported in this simulation');
    },
    getBlob: () => ({ getDataAsString: () => d.content, getContentType: () => 'text/html' }),
  });
  outputs.set(o, d);
  return o;
}

/** Compiles a template to a function body of `__out` pushes (Google's scriptlet semantics). */
export function compileTemplate(src: string): string {
  let code = '';
  let i = 0;
  const re = /<\?(!?=)?([\s\S]*?)\?>/g;
  for (let m = re.exec(src); m; m = re.exec(src)) {
    code += `__out.push(${JSON.stringify(src.slice(i, m.index))});\n`;
    if (m[1] === '=') code += `__out.push(__esc(${m[2]}));\n`;
    else if (m[1] === '!=') code += `__out.push(__raw(${m[2]}));\n`;
    else code += `${m[2]}\n`;
    i = re.lastIndex;
  }
  return code + `__out.push(${JSON.stringify(src.slice(i))});\n`;
}

function makeTemplate(exec: Exec, deps: HtmlDeps, src: string): unknown {
  const t: Record<string, unknown> = {};
  Object.defineProperties(t, {
    getRawContent: { value: () => src, enumerable: false },
    getCode: { value: () => compileTemplate(src), enumerable: false },
    evaluate: {
      enumerable: false,
      value: () => {
        exec.call('HtmlTemplate.evaluate', []);
        const run = deps.evalInScript(
          `(function (__data, __esc, __raw) { var __out = []; with (__data) {\n${compileTemplate(src)}} return __out.join(''); })`,
        ) as (data: unknown, esc: (v: unknown) => string, raw: (v: unknown) => string) => string;
        const str = (v: unknown) => (v === undefined || v === null ? '' : String(v));
        const html = run({ ...t }, (v) => escapeHtml(str(v)), str);
        return makeOutput(exec, html);
      },
    },
  });
  return t;
}
