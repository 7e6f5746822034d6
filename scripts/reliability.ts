// Reliability figures, measured by the fault and security suites on the built
// bundle and rendered into docs/reliability.md. Nothing here is typed in by hand:
// each suite records what it ran into .cache/reliability/<suite>.json (the fault
// suite, a file of tests per kind of fault: one record per file, <suite>-<part>.json),
// and the markdown is written only when every suite ran completely, passed, and measured
// the same bundle.
//   npx jest test/e2e/faults test/e2e/security.test.ts test/scim/trust.test.ts   → records and renders
//   npx tsx scripts/reliability.ts                                  → renders from the last records
//   npx tsx scripts/reliability.ts --check                          → exits 1 when docs/reliability.md is stale
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Script } from 'node:vm';

const ROOT = join(__dirname, '..');
export const RECORD_DIR = join(ROOT, '.cache', 'reliability');
export const DOC = join(ROOT, 'docs', 'reliability.md');

export type Suite = 'faults' | 'security' | 'scim';

/** The fault suite's files (test/e2e/faults/<part>.test.ts), in the order its figures list them. */
export const FAULT_PARTS = ['directoryErrors', 'brokenMappings', 'lostAccess', 'cutOffs', 'concurrentSyncs', 'destinationFailures', 'rosterEdits', 'massChanges', 'corruptState', 'adminMail'] as const;
export type FaultPart = (typeof FAULT_PARTS)[number];

/** The files whose records make up a suite's, when it is split across files. */
const SUITE_PARTS: Partial<Record<Suite, readonly string[]>> = { faults: FAULT_PARTS };

export interface TestRecord {
  name: string;
  group: string;
  passed: boolean;
  /** A known bug kept as a test that must fail until it is fixed: true while it still reproduces. */
  knownBug?: boolean;
  /** What the test tried and found, in its own counters (scenarios, payloads, accounts lost…). */
  counts: Record<string, number>;
  notes: string[];
}

export interface SuiteRecord {
  suite: Suite;
  /** sha256 of the dist/Code.js the suite ran. */
  bundle: string;
  declared: number;
  tests: TestRecord[];
}

export function bundleHash(path = join(ROOT, 'dist', 'Code.js')): string {
  return createHash('sha256').update(readFileSync(path)).digest('hex').slice(0, 16);
}

/**
 * A private copy of the built bundle for one suite, so a rebuild of dist/ by another process
 * while the suite runs (the build empties the folder first) cannot pull it from under the tests.
 * Returns the copied Code.js path. RELIABILITY_DIST points the suites at another build (e.g. a
 * deliberately broken one, to check that a test catches the bug it is about).
 */
export function snapshotBundle(name: string, from = process.env.RELIABILITY_DIST || join(ROOT, 'dist')): string {
  const dir = join(ROOT, '.cache', `bundle-${name}`);
  mkdirSync(dir, { recursive: true });
  for (let attempt = 0; ; attempt++) {
    try {
      const files = ['Code.js', 'Sidebar.html', 'appsscript.json'].map((f) => [f, readFileSync(join(from, f))] as const);
      new Script(files[0][1].toString('utf8')); // a bundle caught half-written does not compile: read it again
      for (const [f, data] of files) writeFileSync(join(dir, f), data);
      return join(dir, 'Code.js');
    } catch (error) {
      if (attempt >= 50) throw error;
      const until = Date.now() + 200;
      while (Date.now() < until) {
        // dist/ is being rebuilt: wait for it.
      }
    }
  }
}

/**
 * Collects figures while a suite runs. Wrap each test body with `rec.test(group, name, fn)`:
 * the record is marked passed only when the body returns without throwing.
 */
export class Recorder {
  private readonly tests: TestRecord[] = [];
  private declared = 0;
  private current: TestRecord | null = null;

  /** The bundle the suite runs (a private copy of dist/, see snapshotBundle). */
  readonly bundle: string;

  private documentCopy: string | null = null;

  /** The suite, and the part of it this file is when the suite is split across files. */
  private readonly name: string;

  constructor(readonly suite: Suite, part?: FaultPart) {
    this.name = part ? `${suite}-${part}` : suite;
    this.bundle = snapshotBundle(this.name);
  }

  /** The document-scope build (npm run build:document), copied the same way when a test first needs it. */
  get documentBundle(): string {
    return (this.documentCopy ??= snapshotBundle(`${this.name}-document`, process.env.RELIABILITY_DIST_DOCUMENT || join(ROOT, '.cache', 'dist-document')));
  }

  /** Registers a jest test whose figures are recorded. */
  test(group: string, name: string, body: (r: Recorder) => void | Promise<void>, timeout?: number): void {
    this.declared++;
    test(name, async () => {
      const record: TestRecord = { name, group, passed: false, counts: {}, notes: [] };
      this.current = record;
      this.tests.push(record);
      try {
        await body(this);
        record.passed = true;
      } finally {
        this.current = null;
      }
    }, timeout);
  }

  /**
   * A known bug, as a jest `test.failing`: the body states the behaviour we want and fails while
   * the bug is there. Once someone fixes it, jest reports the test (and this record stops the
   * figures from being rendered) until `knownBug` is turned into `test`.
   */
  knownBug(group: string, name: string, fix: string, body: () => void): void {
    this.declared++;
    test.failing(`KNOWN BUG: ${name}`, () => {
      const record: TestRecord = { name, group, passed: false, knownBug: true, counts: {}, notes: [fix] };
      this.tests.push(record);
      try {
        body();
      } catch (error) {
        record.passed = true; // still reproduces, as expected
        throw error;
      }
    });
  }

  /** Adds n to a counter of the running test. */
  count(counter: string, n = 1): void {
    if (!this.current) throw new Error('Recorder.count outside a recorded test');
    this.current.counts[counter] = (this.current.counts[counter] ?? 0) + n;
  }

  note(text: string): void {
    this.current?.notes.push(text);
  }

  /** Writes the suite's (or part's) record, then the markdown when every suite is complete (call in afterAll). */
  finish(): void {
    const record: SuiteRecord = { suite: this.suite, bundle: bundleHash(this.bundle), declared: this.declared, tests: this.tests };
    mkdirSync(RECORD_DIR, { recursive: true });
    writeFileSync(join(RECORD_DIR, `${this.name}.json`), JSON.stringify(record, null, 2));
    const doc = renderFromRecords();
    if (doc) writeFileSync(DOC, doc);
  }
}

function loadFile(name: string): SuiteRecord | null {
  const path = join(RECORD_DIR, `${name}.json`);
  return existsSync(path) ? (JSON.parse(readFileSync(path, 'utf8')) as SuiteRecord) : null;
}

/** A suite's record; for a suite split across files, its parts' records in order (null unless every part ran on one bundle). */
function load(suite: Suite): SuiteRecord | null {
  const parts = SUITE_PARTS[suite];
  if (!parts) return loadFile(suite);
  const records = parts.map((part) => loadFile(`${suite}-${part}`));
  if (records.some((r) => !r) || new Set(records.map((r) => r!.bundle)).size !== 1) return null;
  const all = records as SuiteRecord[];
  return { suite, bundle: all[0].bundle, declared: all.reduce((n, r) => n + r.declared, 0), tests: all.flatMap((r) => r.tests) };
}

function complete(r: SuiteRecord | null): r is SuiteRecord {
  return !!r && r.tests.length === r.declared && r.tests.every((t) => t.passed);
}

/** The markdown, or null when the records are missing, partial, failed or from different bundles. */
export function renderFromRecords(): string | null {
  const faults = load('faults');
  const security = load('security');
  const scim = load('scim');
  if (!complete(faults) || !complete(security) || !complete(scim) || faults.bundle !== security.bundle || scim.bundle !== faults.bundle) return null;
  return render(faults, security, scim);
}

function sum(records: SuiteRecord[], counter: string): number {
  return records.flatMap((r) => r.tests).reduce((n, t) => n + (t.counts[counter] ?? 0), 0);
}

function table(r: SuiteRecord, columns: [string, string][]): string {
  const head = `| test | ${columns.map(([, title]) => title).join(' | ')} | result |`;
  const rule = `|---|${columns.map(() => '---:').join('|')}|---|`;
  const rows = r.tests.filter((t) => !t.knownBug).map((t) => `| ${t.name.replace(/\|/g, '\\|')} | ${columns.map(([key]) => (t.counts[key] ?? 0).toLocaleString('en-US')).join(' | ')} | ${t.passed ? 'pass' : 'FAIL'} |`);
  return [head, rule, ...rows].join('\n');
}

export function render(faults: SuiteRecord, security: SuiteRecord, scim: SuiteRecord): string {
  const both = [faults, security, scim];
  const n = (counter: string) => sum(both, counter).toLocaleString('en-US');
  const notes = both.flatMap((r) => r.tests.filter((t) => !t.knownBug).flatMap((t) => t.notes.map((note) => `- ${t.name}: ${note}`)));
  const bugs = both.flatMap((r) => r.tests.filter((t) => t.knownBug).map((t) => `- **${t.name}** (still reproduces). ${t.notes.join(' ')}`));
  return `# Reliability and security figures

Generated by the fault suite \`test/e2e/faults/\`, \`test/e2e/security.test.ts\` and \`test/scim/trust.test.ts\` (through
\`scripts/reliability.ts\`) from what they ran against the built bundle \`dist/Code.js\` in the simulated Apps Script
runtime, the last against real SCIM servers on loopback (all suites on the same bundle, every test passing;
otherwise this file is left as it was). Do not edit by hand: run
\`npx jest test/e2e/faults test/e2e/security.test.ts test/scim/trust.test.ts\`.

## Summary

| figure | value |
|---|---:|
| fault scenarios tried (each one injected failure or cut-off, followed to the end) | ${n('faultScenarios')} |
| execution cut-off points among them | ${n('cutPoints')} |
| transient directory errors retried with backoff | ${n('retriedErrors')} |
| accounts lost | ${n('accountsLost')} |
| accounts duplicated | ${n('accountsDuplicated')} |
| locks left held after a cut-off | ${n('stuckLocks')} |
| roster writes from a partial or failed read | ${n('writesFromPartialRead')} |
| bad inputs tried (malformed and hostile payloads) | ${n('badInputs')} |
| … refused with a catalog message naming the field | ${n('refusedNamingField')} |
| … refused with another catalog message (unknown user, account not found…) | ${n('refusedOther')} |
| … accepted harmlessly | ${n('acceptedHarmless')} |
| unexpected errors (crashes) from bad input | ${n('unexpectedErrors')} |
| unauthorized calls refused (callers × server functions) | ${n('unauthorizedRefused')} |
| state changes by refused or rejected calls | ${n('stateChangesByRejected')} |
| secret values found in results, logs, mail or sheets | ${n('secretLeaks')} |
| sheet cells turned into formulas | ${n('formulaCells')} |
| directory users in the hidden state sheet at a checkpoint once a sync has planned (largest), of those read | ${n('stateUsersKept')} of ${n('stateUsersRead')} (in scope or with an account: ${n('stateUsersNeeded')}) |
| … at a checkpoint while the directory is still being read (largest) | ${n('stateUsersBeforePlan')} |
| roster accounts sharing one email after renames onto a kept address | ${n('accountsSharingEmail')} |
| accounts on two rows after an edit between a write's check and the write, written over by a later sync | ${n('windowWritesOverDuplicates')} |
| SCIM trust scenarios tried (a changed base URL, a quoting app, colliding or swapped identities, odd listings, a lost ledger) | ${n('scimScenarios')} |
| requests sent to a base URL the token was not saved for | ${n('tokenSentElsewhere')} |
| token or Authorization values found in History, results, logs, mail or sheets | ${n('tokenLeaks')} |
| app accounts carrying another person's identity, or shared by two people | ${n('identityMerges')} |
| writes from a SCIM listing that may be incomplete | ${n('incompleteListWrites')} |
| deactivations counted as done that were not sent | ${n('deactivationsMiscounted')} |
| locally disabled accounts re-activated after the ledger was lost | ${n('reactivatedLocallyDisabled')} |

## Fault suite

${table(faults, [
  ['faultScenarios', 'scenarios'],
  ['cutPoints', 'cut-offs'],
  ['retriedErrors', 'retries'],
  ['accountsChecked', 'accounts checked'],
  ['heldUsers', 'users held'],
  ['accountsLost', 'lost'],
  ['accountsDuplicated', 'duplicated'],
  ['emails', 'emails checked'],
])}

## Security suite

${table(security, [
  ['serverFunctions', 'functions'],
  ['badInputs', 'bad inputs'],
  ['unauthorizedRefused', 'refusals'],
  ['unexpectedErrors', 'crashes'],
  ['stateChangesByRejected', 'changes by rejected calls'],
  ['secretLeaks', 'secret leaks'],
  ['formulaCells', 'formula cells'],
  ['escapedValues', 'values escaped'],
  ['secretChecks', 'secret checks'],
  ['scopes', 'scopes'],
  ['namespaces', 'namespaces'],
])}
## SCIM trust suite

${table(scim, [
  ['scimScenarios', 'scenarios'],
  ['changedUrls', 'changed URLs'],
  ['tokenSentElsewhere', 'sent elsewhere'],
  ['placesChecked', 'places checked'],
  ['tokenLeaks', 'leaks'],
  ['appAccountsChecked', 'app accounts checked'],
  ['identityMerges', 'merged identities'],
  ['incompleteListWrites', 'writes from incomplete lists'],
  ['deactivationsMiscounted', 'miscounted deactivations'],
  ['reactivatedLocallyDisabled', 're-activated'],
])}
${bugs.length ? `\n## Known bugs (kept as tests that fail until fixed)\n\n${bugs.join('\n')}\n` : ''}${notes.length ? `\n## Notes from the runs\n\n${notes.join('\n')}\n` : ''}`;
}

if (require.main === module) {
  const doc = renderFromRecords();
  if (!doc) {
    console.error('No complete, passing records of the three suites for one bundle in .cache/reliability: run the suites first.');
    process.exit(1);
  }
  if (process.argv.includes('--check')) {
    const current = existsSync(DOC) ? readFileSync(DOC, 'utf8') : '';
    if (current !== doc) {
      console.error('docs/reliability.md is out of date: run the fault, security and SCIM trust suites.');
      process.exit(1);
    }
  } else {
    writeFileSync(DOC, doc);
    console.log(`wrote ${DOC}`);
  }
}
