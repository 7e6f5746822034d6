// A simulated Apps Script runtime for end-to-end tests, the local demo and
// benchmarks. It loads the built bundle (dist/Code.js) into a fresh Node `vm`
// context per execution, as Apps Script re-evaluates the global scope for each
// one, and installs fakes of Google's services. Everything that outlives an
// execution in Google (properties, spreadsheets, triggers, locks, caches, the
// directory, sent mail, the clock) lives on the SimRuntime object.
//
// Time is simulated: each service call advances the clock by its latency
// (LatencyModel), Utilities.sleep and lock waits advance it too, Date inside
// the script reads it, and an execution that runs past executionLimitMs dies
// with Google's "Exceeded maximum execution time".
import * as fs from 'fs';
import * as vm from 'vm';
import { CacheStores, makeCacheService } from './fakes/cache';
import { DirectorySwitches, makeAdminDirectory } from './fakes/directory';
import { FakeDirectoryState, seededRandom } from './fakes/directoryState';
import { AuthMode, Exec, authAllows, permissionMessage } from './fakes/exec';
import { makeHtmlService } from './fakes/html';
import { ReportsSwitches, makeAdminReports } from './fakes/reports';
import { LockKind, LockTable, makeLockService } from './fakes/lock';
import { makeConsole, makeLogger } from './fakes/logger';
import { MailState, SentMail, makeMailApp } from './fakes/mail';
import { PropertyStores, makePropertiesService } from './fakes/properties';
import { TriggerRecord, TriggerStore, makeScriptApp, nextFire } from './fakes/script';
import { makeSession } from './fakes/session';
import { DateCell, FormulaCell, SheetData, SpreadsheetData, SpreadsheetStore, evaluate } from './fakes/sheetData';
import { makeSpreadsheetApp } from './fakes/spreadsheet';
import { UiState } from './fakes/ui';
import { UrlFetchImpl, makeUrlFetchApp } from './fakes/urlfetch';
import { UrlFetchQuota } from './fakes/urlFetchQuota';
import { makeUtilities, zoned } from './fakes/utilities';

export { FakeDirectoryState } from './fakes/directoryState';
export { googleError, GoogleErrors } from './fakes/directory';
export type { AuthMode, Exec } from './fakes/exec';
export type { UrlFetchImpl, HttpResponseLike } from './fakes/urlfetch';

/**
 * Simulated latency of service calls, in ms. A call's cost is
 * perMethod[name] ?? perMethod['<Service>.*'] ?? defaultMs, plus perCellMs per
 * cell for Range reads/writes. Counter names are 'AdminDirectory.Users.list',
 * 'Range.getValues', 'Properties.setProperty', 'Lock.tryLock', ...
 */
export interface LatencyModel {
  perMethod: Record<string, number>;
  defaultMs: number;
  perCellMs: number;
  /** Charged once at the start of every execution (script load). */
  startupMs: number;
  /**
   * Script CPU: the Node CPU time an execution's thread spends between service calls (the bundle,
   * and the simulator's own fakes, so an overestimate) is charged to the clock times this factor.
   * 0: CPU is free.
   */
  cpuFactor?: number;
  /**
   * Sheets buffers writes and commits them before the next read of the spreadsheet: a read after
   * writes costs flushMs plus flushPerCellMs per cell written since the last read.
   */
  flushMs?: number;
  flushPerCellMs?: number;
  /**
   * A Directory REST request through UrlFetchApp costs UrlFetchApp's own latency (per request, per
   * round for fetchAll); true: plus the advanced-service latency of the same method (the slowest
   * request of a round), the pessimistic reading.
   */
  restAtServiceLatency?: boolean;
}

export const DEFAULT_LATENCY: LatencyModel = {
  perMethod: {
    'AdminDirectory.Users.list': 400,
    'AdminDirectory.Users.get': 150,
    'AdminDirectory.Groups.list': 300,
    'AdminDirectory.Groups.get': 150,
    'AdminDirectory.Members.list': 250,
    'AdminDirectory.Members.get': 150,
    'AdminDirectory.Members.hasMember': 150,
    'AdminDirectory.Orgunits.list': 300,
    'AdminDirectory.*': 200,
    'AdminReports.Activities.list': 400,
    'Range.getValues': 50,
    'Range.getDisplayValues': 50,
    'Range.getFormulas': 50,
    'Range.setValues': 50,
    'Range.setValue': 50,
    'Range.*': 5,
    'Sheet.appendRow': 50,
    'Sheet.insertRowsAfter': 30,
    'Sheet.deleteRows': 30,
    'Sheet.*': 2,
    'Spreadsheet.insertSheet': 100,
    'Spreadsheet.*': 5,
    'SpreadsheetApp.openById': 150,
    'SpreadsheetApp.create': 500,
    'SpreadsheetApp.*': 5,
    'Properties.*': 10,
    'PropertiesService.*': 5,
    'Cache.*': 5,
    'Lock.*': 5,
    'ScriptApp.TriggerBuilder.create': 300,
    'ScriptApp.getProjectTriggers': 100,
    'ScriptApp.getUserTriggers': 100,
    'ScriptApp.deleteTrigger': 150,
    'MailApp.sendEmail': 300,
    'UrlFetchApp.fetch': 300,
    'UrlFetchApp.fetchAll': 400,
    'Utilities.sleep': 0,
  },
  defaultMs: 1,
  perCellMs: 0.002,
  startupMs: 0,
};

/**
 * The calibrated model (figures and their sources in bench/README.md): Directory pages at the
 * latencies measured for real domains, start-up, script CPU at 5× Node, the flush a read after
 * writes forces, and UrlFetchApp's cost per request (per round for fetchAll).
 */
export const CALIBRATED_LATENCY: LatencyModel = {
  perMethod: {
    ...DEFAULT_LATENCY.perMethod,
    'AdminDirectory.Users.list': 1500,
    'AdminDirectory.Users.get': 300,
    'AdminDirectory.Members.list': 800,
    'AdminDirectory.Orgunits.list': 600,
    'UrlFetchApp.fetch': 400,
    'UrlFetchApp.fetchAll': 400,
  },
  defaultMs: 1,
  perCellMs: 0.0125,
  startupMs: 1000,
  cpuFactor: 5,
  flushMs: 500,
  flushPerCellMs: 0.015,
};

/** A model with every latency (and CPU and flush cost) multiplied by `factor`: the sensitivity runs. */
export function scaledLatency(model: LatencyModel, factor: number): LatencyModel {
  return {
    perMethod: Object.fromEntries(Object.entries(model.perMethod).map(([k, v]) => [k, v * factor])),
    defaultMs: model.defaultMs * factor,
    perCellMs: model.perCellMs * factor,
    startupMs: model.startupMs * factor,
    cpuFactor: (model.cpuFactor ?? 0) * factor,
    flushMs: (model.flushMs ?? 0) * factor,
    flushPerCellMs: (model.flushPerCellMs ?? 0) * factor,
    restAtServiceLatency: model.restAtServiceLatency,
  };
}

export interface SimRuntimeOptions {
  /** The bundle, e.g. dist/Code.js (read once, compiled once). */
  scriptPath: string;
  /** Where HtmlService finds `<name>.html`. */
  htmlDir: string;
  directory: FakeDirectoryState;
  clockStartMs?: number;
  /** Overrides merged into DEFAULT_LATENCY (perMethod entries are merged too). */
  latency?: Partial<LatencyModel>;
  executionLimitMs?: number;
  /** Editor add-on rules for triggers (one per user per document, at most hourly). Default true. */
  addon?: boolean;
  /** Script and spreadsheet time zone. */
  timeZone?: string;
  /** Active user for executions that do not name one; default: the directory's first super admin. */
  defaultUser?: string;
  /** Directory calls need a super admin as effective user (Google: 403 otherwise). Default true. */
  enforceAdmin?: boolean;
  /** Seed for Math.random, trigger minutes and UUIDs inside the simulation. */
  seed?: number;
  /** Synchronous HTTP for UrlFetchApp; without it UrlFetchApp throws. */
  urlFetch?: UrlFetchImpl;
  mailDailyQuota?: number;
  /**
   * UrlFetchApp calls each user may make per day (fetchAll counts each request), for every script of
   * theirs together; default Google's documented figure (100,000 for Workspace, 20,000 for gmail.com).
   */
  urlFetchDailyQuota?: number;
  /** Real (wall-clock) guard against runaway loops in the script, ms. Default 60 s. */
  wallTimeoutMs?: number;
  /** Name of the bound spreadsheet created for sidebar executions. */
  spreadsheetName?: string;
  /** Extra globals for every execution, e.g. ROSTER_SYNC_BUDGET_MS to force small execution budgets in tests. */
  globals?: Record<string, unknown>;
  /** Total trigger runtime a user may use per (UTC) day; Workspace accounts get 6 hours. */
  triggerDailyRuntimeMs?: number;
  /**
   * Hourly triggers fire exactly 60 minutes after their previous firing (the longest gap Google's
   * randomized minute allows), instead of at a random minute of each hour.
   */
  exactHourlyTriggers?: boolean;
}

export interface RunContext {
  /** Active user's email (Session.getActiveUser). Default: defaultUser, or '' in triggers. */
  user?: string;
  /** Effective user (whose authority). Default: the active user. */
  effectiveUser?: string;
  authMode?: AuthMode;
  /** A time-driven trigger execution: no active document and no UI. */
  trigger?: boolean;
  /** The open document; default: the bound spreadsheet (null for triggers). */
  docId?: string | null;
}

export type Fault = (callIndex: number, args: unknown[]) => Error | undefined;

export interface ExecutionRecord {
  id: number;
  fn: string;
  startMs: number;
  endMs: number;
  ok: boolean;
  error: string | null;
  trigger: boolean;
  calls: Record<string, number>;
  /** Node CPU the execution's thread used (script and fakes), ms; charged to the clock × cpuFactor. */
  cpuMs: number;
}

export interface LogEntry {
  execId: number;
  atMs: number;
  level: string;
  text: string;
}

export interface TriggerRun {
  uid: string;
  handler: string;
  atMs: number;
  ok: boolean;
  result?: unknown;
  error?: string;
}

const EXCEEDED = 'Exceeded maximum execution time';
const HOUR = 3_600_000;

interface VmIntrinsics {
  Error: ErrorConstructor;
  TypeError: ErrorConstructor;
  Date: DateConstructor;
}

class Execution implements Exec {
  readonly startMs: number;
  dead = false;
  /** Service calls the script made after the limit (it caught the error and carried on). */
  private afterDeath = 0;
  readonly calls: Record<string, number> = {};
  context!: vm.Context;
  intrinsics!: VmIntrinsics;

  constructor(
    private readonly rt: SimRuntime,
    readonly id: number,
    readonly user: string,
    readonly effectiveUser: string,
    readonly authMode: AuthMode,
    readonly trigger: boolean,
    readonly activeDocId: string | null,
    readonly timeZone: string,
  ) {
    this.startMs = rt.nowMs();
  }

  /** Node CPU (µs) at the last charge; null until the execution's script starts. */
  private cpuMark: number | null = null;
  cpuMs = 0;
  /** Cells written per spreadsheet since its last read (Sheets commits them before a read). */
  private readonly unflushed = new Map<string, number>();

  call(method: string, args: unknown[], cells = 0): void {
    this.count(method);
    // Whole milliseconds, so Date.now() in the script stays an integer.
    this.wait(Math.ceil(this.chargeCpu() + this.rt.latencyOf(method) + cells * this.rt.latency.perCellMs));
    const fault = this.rt.faultFor(method, args);
    if (fault) throw this.adopt(fault);
  }

  count(method: string): void {
    this.rt.recordCall(method);
    this.calls[method] = (this.calls[method] ?? 0) + 1;
  }

  latency(method: string): number {
    return this.rt.latencyOf(method);
  }

  restLatency(method: string): number {
    return this.rt.latency.restAtServiceLatency ? this.rt.latencyOf(method) : 0;
  }

  fault(method: string, args: unknown[]): Error | undefined {
    const fault = this.rt.faultFor(method, args);
    return fault ? this.adopt(fault) : undefined;
  }

  startCpu(): void {
    this.cpuMark = cpuNowUs();
  }

  /** Script CPU measured but not yet charged to the clock, ms of Node CPU. */
  private owedCpuMs = 0;

  /** The script's CPU since the last charge, in simulated ms (cpuFactor × Node CPU). */
  chargeCpu(): number {
    this.measureCpu();
    const ms = this.owedCpuMs;
    this.owedCpuMs = 0;
    return ms * (this.rt.latency.cpuFactor ?? 0);
  }

  private measureCpu(): void {
    if (this.cpuMark === null) return;
    const now = cpuNowUs();
    const ms = (now - this.cpuMark) / 1000;
    this.cpuMark = now;
    this.cpuMs += ms;
    this.owedCpuMs += ms;
  }

  /** Work the simulator does for Google (building a listing, storing cells): not the script's CPU. */
  untimed<T>(work: () => T): T {
    this.measureCpu();
    try {
      return work();
    } finally {
      if (this.cpuMark !== null) this.cpuMark = cpuNowUs();
    }
  }

  flushAll(): void {
    for (const id of [...this.unflushed.keys()]) this.reading(id);
  }

  wroteCells(spreadsheetId: string, cells: number): void {
    this.unflushed.set(spreadsheetId, (this.unflushed.get(spreadsheetId) ?? 0) + cells);
  }

  /** A read of the spreadsheet: first the writes it buffered are committed (Google: a read empties the write cache). */
  reading(spreadsheetId: string): void {
    const cells = this.unflushed.get(spreadsheetId);
    if (cells === undefined) return;
    this.unflushed.delete(spreadsheetId);
    const { flushMs = 0, flushPerCellMs = 0 } = this.rt.latency;
    if (!flushMs && !flushPerCellMs) return;
    this.count('Spreadsheet.flush (before a read)');
    this.wait(Math.ceil(flushMs + cells * flushPerCellMs));
  }

  wait(ms: number): void {
    if (this.dead) {
      // Google would have killed the execution; a script that swallows the error and keeps going is stopped by force.
      if (++this.afterDeath > 100) interruptScript();
      throw this.error(EXCEEDED);
    }
    const limit = this.startMs + this.rt.executionLimitMs;
    if (this.rt.nowMs() + ms > limit) {
      // Google kills the execution at the limit; nothing after this point runs.
      this.rt.setClock(Math.max(this.rt.nowMs(), limit));
      this.dead = true;
      throw this.error(EXCEEDED);
    }
    this.rt.setClock(this.rt.nowMs() + ms);
  }

  nowMs(): number {
    return this.rt.nowMs();
  }

  error(message: string, props: Record<string, unknown> = {}): Error {
    const e = new this.intrinsics.Error(message);
    Object.assign(e, props);
    return e;
  }

  adopt(error: unknown): Error {
    const src = error as Error & Record<string, unknown>;
    const e = this.error(String(src?.message ?? error));
    for (const k of Object.keys(src ?? {})) (e as unknown as Record<string, unknown>)[k] = src[k];
    if (src?.name && src.name !== 'Error') e.name = src.name;
    return e;
  }

  date(ms: number): Date {
    return new this.intrinsics.Date(ms);
  }

  requireAuth(method: string, scope: string, minimum: 'LIMITED' | 'FULL' = 'FULL'): void {
    if (!authAllows(this.authMode, minimum)) throw this.error(permissionMessage(method, scope));
  }

  random(): number {
    return this.rt.random();
  }

  log(level: string, text: string): void {
    this.rt.logs.push({ execId: this.id, atMs: this.rt.nowMs(), level, text });
  }
}

/**
 * Stops the script running in the vm right now: vm contexts run with
 * breakOnSigint, so a SIGINT to ourselves terminates the script (even inside
 * this host function) and runInContext throws ERR_SCRIPT_EXECUTION_INTERRUPTED.
 */
function interruptScript(): void {
  process.kill(process.pid, 'SIGINT');
  const until = Date.now() + 2000;
  while (Date.now() < until) {
    // Wait for the signal watchdog to terminate the script.
  }
}

function cpuNowUs(): number {
  const u = process.cpuUsage();
  return u.user + u.system;
}

/** Shim making `new Date()` / `Date.now()` read the simulated clock inside the vm. */
const DATE_SHIM = `(function (now) {
  var RealDate = Date;
  function SimDate() {
    if (!new.target) return new RealDate(now()).toString();
    var args = arguments.length === 0 ? [now()] : Array.prototype.slice.call(arguments);
    return Reflect.construct(RealDate, args, new.target);
  }
  SimDate.prototype = RealDate.prototype;
  Object.defineProperty(RealDate.prototype, 'constructor', { value: SimDate, writable: true, configurable: true });
  SimDate.now = function () { return now(); };
  SimDate.parse = RealDate.parse;
  SimDate.UTC = RealDate.UTC;
  globalThis.Date = SimDate;
  return { Error: Error, TypeError: TypeError, Date: SimDate };
})`;

export class SimRuntime {
  readonly directory: FakeDirectoryState;
  readonly latency: LatencyModel;
  readonly executionLimitMs: number;
  readonly timeZone: string;
  readonly scriptId = '1SimScriptIdRosterSync0000000000000000000000000000000';
  readonly properties = new PropertyStores();
  readonly caches = new CacheStores();
  readonly locks = new LockTable();
  readonly triggers = new TriggerStore();
  readonly spreadsheets: SpreadsheetStore;
  readonly ui = new UiState();
  readonly mail: MailState;
  /** Each user's UrlFetchApp calls of the day (urlFetchQuota.ts). */
  readonly urlFetchQuota: UrlFetchQuota;
  readonly logs: LogEntry[] = [];
  readonly history: ExecutionRecord[] = [];
  readonly triggerRuns: TriggerRun[] = [];
  /** Service call counts by name since the last resetCounters(). */
  calls: Record<string, number> = {};
  executions = 0;
  readonly directorySwitches: DirectorySwitches;
  /** Set to true to make AdminDirectory undefined (advanced service not enabled in the manifest). */
  advancedServiceMissing = false;
  readonly reportsSwitches: ReportsSwitches;
  /** Set to true to make AdminReports undefined (the Reports advanced service not enabled). */
  reportsServiceMissing = false;
  /** Users who must (re)authorize the add-on; their FULL-mode executions fail. */
  readonly needsAuth = new Set<string>();
  readonly defaultUser: string;
  /** The spreadsheet the add-on is open in for sidebar/menu executions. */
  activeSpreadsheetId: string;

  private clockMs: number;
  private readonly options: SimRuntimeOptions;
  private script: vm.Script | null = null;
  private readonly rng: () => number;
  private readonly faults = new Map<string, { fault: Fault; seen: number }[]>();
  private current: Execution | null = null;
  private nextExecId = 1;
  /** Trigger runtime used, by 'owner|YYYY-MM-DD'. */
  private readonly triggerRuntime = new Map<string, number>();

  constructor(options: SimRuntimeOptions) {
    this.options = options;
    this.directory = options.directory;
    const latency = options.latency ?? {};
    this.latency = { ...DEFAULT_LATENCY, ...latency, perMethod: { ...DEFAULT_LATENCY.perMethod, ...(latency.perMethod ?? {}) } };
    this.executionLimitMs = options.executionLimitMs ?? 360_000;
    this.timeZone = options.timeZone ?? 'America/Chicago';
    this.clockMs = options.clockStartMs ?? Date.UTC(2026, 8, 1, 13, 0, 0);
    this.rng = seededRandom(options.seed ?? 1234);
    this.directorySwitches = { apiDisabled: false, accessRevoked: false, enforceAdmin: options.enforceAdmin ?? true };
    this.reportsSwitches = { privilegeMissing: false, apiDisabled: false, enforceAdmin: options.enforceAdmin ?? true };
    // Changes made from now on (by tests, between executions) reach the admin audit log at the simulated time.
    this.directory.startAuditLog(() => this.clockMs);
    this.mail = { outbox: [], remaining: options.mailDailyQuota ?? 100 };
    this.urlFetchQuota = new UrlFetchQuota(options.urlFetchDailyQuota, () => this.clockMs);
    const admin = this.directory.allUsers().find((u) => u.isAdmin && !u.suspended);
    this.defaultUser = (options.defaultUser ?? admin?.primaryEmail ?? `admin@${this.directory.domain}`).toLowerCase();
    this.spreadsheets = new SpreadsheetStore(this.timeZone);
    this.activeSpreadsheetId = this.spreadsheets.create(options.spreadsheetName ?? 'Roster', this.defaultUser).id;
  }

  // ---- clock ------------------------------------------------------------------------

  nowMs(): number {
    return this.clockMs;
  }

  /** Sets the simulated clock (it never goes backwards). */
  setClock(ms: number): void {
    this.clockMs = Math.max(this.clockMs, ms);
  }

  /** Lets time pass between executions, firing clock triggers that come due on the way. */
  advance(ms: number): TriggerRun[] {
    const target = this.clockMs + ms;
    const runs: TriggerRun[] = [];
    for (;;) {
      const due = this.triggers.list
        .filter((t) => t.eventType === 'CLOCK' && t.nextFireMs <= target)
        .sort((a, b) => a.nextFireMs - b.nextFireMs)[0];
      if (!due) break;
      this.setClock(due.nextFireMs);
      runs.push(this.fireTrigger(due));
    }
    this.setClock(target);
    return runs;
  }

  /** Moves the clock n hours, firing hourly (and other) clock triggers at their randomized minutes. */
  advanceHours(n: number): TriggerRun[] {
    return this.advance(n * HOUR);
  }

  // ---- executions ----------------------------------------------------------------------

  /** One execution of a global function; returns its raw result (cross-realm objects). */
  run(fnName: string, args: unknown[] = [], ctx: RunContext = {}): unknown {
    if (this.current) throw new Error(`SimRuntime.run(${fnName}) called during execution of another function`);
    const exec = this.begin(ctx);
    let ok = false;
    let error: unknown = null;
    try {
      const result = this.invoke(exec, fnName, args);
      if (exec.dead) throw exec.error(EXCEEDED);
      ok = true;
      return result;
    } catch (e) {
      error = exec.dead ? exec.error(EXCEEDED) : e;
      exec.log('error', errorText(error));
      throw toHostError(error);
    } finally {
      this.end(exec, fnName, ok, error);
    }
  }

  /**
   * As google.script.run from the sidebar: private names (trailing '_') and
   * missing functions cannot be called, arguments must be plain data, and a
   * result containing a Date arrives as null; otherwise it is JSON-copied.
   */
  runFromBrowser(fnName: string, args: unknown[] = [], ctx: RunContext = {}): unknown {
    if (fnName.endsWith('_') || !/^[A-Za-z_$][\w$]*$/.test(fnName)) {
      throw new TypeError(`google.script.run.${fnName} is not a function`);
    }
    args.forEach((a, i) => {
      if (!isPlainData(a)) throw new Error(`Failed due to illegal value in property: ${i}`);
    });
    const copy = JSON.parse(JSON.stringify(args)) as unknown[];
    const result = this.run(fnName, copy, { authMode: 'FULL', ...ctx });
    if (result === undefined) return undefined;
    if (containsDate(result) || !isPlainData(result, true)) return null;
    return JSON.parse(JSON.stringify(result)) as unknown;
  }

  private begin(ctx: RunContext): Execution {
    const trigger = ctx.trigger ?? false;
    const user = (ctx.user ?? (trigger ? '' : this.defaultUser)).toLowerCase();
    const effective = (ctx.effectiveUser ?? (user || this.defaultUser)).toLowerCase();
    const docId = ctx.docId !== undefined ? ctx.docId : trigger ? null : this.activeSpreadsheetId;
    const exec = new Execution(this, this.nextExecId++, user, effective, ctx.authMode ?? 'FULL', trigger, docId, this.timeZone);
    this.current = exec;
    this.executions++;
    this.install(exec);
    return exec;
  }

  private end(exec: Execution, fn: string, ok: boolean, error: unknown): void {
    // The CPU after the last service call still takes time (the limit is not enforced on it here).
    this.setClock(this.clockMs + Math.ceil(exec.chargeCpu()));
    // Google releases an execution's locks when it ends, however it ends.
    this.locks.releaseAll(exec.id);
    this.current = null;
    this.history.push({
      id: exec.id,
      fn,
      startMs: exec.startMs,
      endMs: this.clockMs,
      ok,
      error: ok ? null : errorText(error),
      trigger: exec.trigger,
      calls: exec.calls,
      cpuMs: exec.cpuMs,
    });
  }

  private invoke(exec: Execution, fnName: string, args: unknown[]): unknown {
    const timeout = this.options.wallTimeoutMs ?? 60_000;
    if (this.latency.startupMs) exec.wait(this.latency.startupMs);
    if (exec.authMode === 'FULL' && this.needsAuth.has(exec.effectiveUser)) {
      throw exec.error('Authorization is required to perform that action.');
    }
    exec.startCpu();
    this.bundle().runInContext(exec.context, { timeout, breakOnSigint: true });
    const fn = vm.runInContext(`typeof globalThis[${JSON.stringify(fnName)}]`, exec.context);
    if (fn !== 'function') throw exec.error(`Script function not found: ${fnName}`);
    exec.context.__simCall = { name: fnName, args };
    return vm.runInContext('(function (c) { delete globalThis.__simCall; return globalThis[c.name].apply(globalThis, c.args); })(globalThis.__simCall)', exec.context, {
      timeout,
      breakOnSigint: true,
    });
  }

  private bundle(): vm.Script {
    if (!this.script) {
      const code = fs.readFileSync(this.options.scriptPath, 'utf8');
      this.script = new vm.Script(code, { filename: this.options.scriptPath });
    }
    return this.script;
  }

  /** Installs the fake globals into a fresh context for one execution. */
  private install(exec: Execution): void {
    const context = vm.createContext({});
    exec.context = context;
    exec.intrinsics = (vm.runInContext(DATE_SHIM, context) as (now: () => number) => VmIntrinsics)(() => this.clockMs);
    const rng = this.rng;
    vm.runInContext('(function (r) { Math.random = function () { return r(); }; })', context)(() => rng());
    const globals: Record<string, unknown> = {
      SpreadsheetApp: makeSpreadsheetApp(exec, { store: this.spreadsheets, ui: this.ui }),
      PropertiesService: makePropertiesService(exec, this.properties),
      LockService: makeLockService(exec, this.locks),
      CacheService: makeCacheService(exec, this.caches),
      ScriptApp: makeScriptApp(exec, { triggers: this.triggers, addon: this.options.addon ?? true, scriptId: this.scriptId, needsAuth: this.needsAuth }),
      HtmlService: makeHtmlService(exec, { htmlDir: this.options.htmlDir, evalInScript: (code) => vm.runInContext(code, context) }),
      Session: makeSession(exec, this.scriptId),
      Utilities: makeUtilities(exec, () => this.uuid()),
      MailApp: makeMailApp(exec, this.mail),
      UrlFetchApp: makeUrlFetchApp(exec, this.options.urlFetch, this.advancedServiceMissing ? undefined : { state: this.directory, switches: this.directorySwitches }, this.urlFetchQuota),
      Logger: makeLogger(exec),
      console: makeConsole(exec),
    };
    Object.assign(globals, this.options.globals ?? {});
    if (!this.advancedServiceMissing) globals.AdminDirectory = makeAdminDirectory(exec, this.directory, this.directorySwitches);
    if (!this.reportsServiceMissing) globals.AdminReports = makeAdminReports(exec, this.directory, this.reportsSwitches);
    for (const [k, v] of Object.entries(globals)) {
      Object.defineProperty(context, k, { value: v, writable: true, configurable: true, enumerable: false });
    }
  }

  // ---- triggers -------------------------------------------------------------------------

  /** Runs every installed clock trigger's handler now, each as its own execution. */
  fireTriggers(): TriggerRun[] {
    return this.triggers.list.filter((t) => t.eventType === 'CLOCK').map((t) => this.fireTrigger(t));
  }

  private fireTrigger(t: TriggerRecord): TriggerRun {
    const at = this.clockMs;
    if (t.schedule) {
      const once = t.schedule.atMs !== undefined || t.schedule.afterMs !== undefined;
      if (once) this.triggers.remove(t.uid);
      else if (this.options.exactHourlyTriggers && t.schedule.everyHours) t.nextFireMs = t.nextFireMs + t.schedule.everyHours * HOUR;
      else t.nextFireMs = nextFire(t.schedule, Math.max(at, t.nextFireMs), () => this.random());
    }
    const z = zoned(at, this.timeZone);
    const event = {
      authMode: 'FULL',
      triggerUid: t.uid,
      year: z.year,
      month: z.month,
      'day-of-month': z.day,
      'day-of-week': z.weekday === 0 ? 7 : z.weekday,
      'week-of-year': weekOfYear(z.year, z.month, z.day),
      hour: z.hour,
      minute: z.minute,
      second: z.second,
      timezone: this.timeZone,
    };
    const run: TriggerRun = { uid: t.uid, handler: t.handler, atMs: at, ok: true };
    const budgetKey = `${t.owner}|${new Date(at).toISOString().slice(0, 10)}`;
    const used = this.triggerRuntime.get(budgetKey) ?? 0;
    try {
      if (used >= (this.options.triggerDailyRuntimeMs ?? 6 * HOUR)) throw new Error('Service using too much computer time for one day');
      run.result = this.run(t.handler, [event], { trigger: true, effectiveUser: t.owner, authMode: 'FULL' });
    } catch (e) {
      // Add-on triggers send no failure email; the failure shows only here (the executions log).
      run.ok = false;
      run.error = errorText(e);
    }
    this.triggerRuntime.set(budgetKey, used + (this.clockMs - at));
    this.triggerRuns.push(run);
    return run;
  }

  // ---- counters, faults, switches ----------------------------------------------------------

  recordCall(method: string): void {
    this.calls[method] = (this.calls[method] ?? 0) + 1;
  }

  resetCounters(): void {
    this.calls = {};
    this.executions = 0;
  }

  latencyOf(method: string): number {
    const p = this.latency.perMethod;
    if (p[method] !== undefined) return p[method];
    const parts = method.split('.');
    for (let i = parts.length - 1; i > 0; i--) {
      const wildcard = parts.slice(0, i).join('.') + '.*';
      if (p[wildcard] !== undefined) return p[wildcard];
    }
    return this.latency.defaultMs;
  }

  /**
   * Makes calls to `method` (a counter name like 'AdminDirectory.Users.list') fail
   * when `fault(n, args)` returns an Error; n counts calls since injection, from 1.
   * Returns a function that removes the fault.
   */
  inject(method: string, fault: Fault): () => void {
    const entry = { fault, seen: 0 };
    const list = this.faults.get(method) ?? [];
    list.push(entry);
    this.faults.set(method, list);
    return () => {
      const l = this.faults.get(method);
      if (l) l.splice(l.indexOf(entry), 1);
    };
  }

  clearFaults(): void {
    this.faults.clear();
  }

  faultFor(method: string, args: unknown[]): Error | undefined {
    for (const entry of this.faults.get(method) ?? []) {
      const e = entry.fault(++entry.seen, args);
      if (e) return e;
    }
    return undefined;
  }

  /** The domain turns API access off: every directory call gets 403 domainCannotUseApis. */
  disableAdminApi(on = true): void {
    this.directorySwitches.apiDisabled = on;
    this.reportsSwitches.apiDisabled = on;
  }

  /** The sync account's admin role loses (or never had) the Reports privilege: activities.list gets 403 forbidden. */
  revokeReportsPrivilege(on = true): void {
    this.reportsSwitches.privilegeMissing = on;
  }

  /** The effective user loses directory rights: every directory call gets 403 forbidden. */
  revokeDirectoryAccess(on = true): void {
    this.directorySwitches.accessRevoked = on;
  }

  /** Marks a user as needing to (re)authorize; FULL-mode executions for them fail. */
  requireAuthorization(user: string, on = true): void {
    if (on) this.needsAuth.add(user.toLowerCase());
    else this.needsAuth.delete(user.toLowerCase());
  }

  /**
   * Another (simulated) execution takes a lock, until `untilMs` or until the
   * returned function is called. kind 'document' uses the bound spreadsheet
   * unless docId is given; 'user' needs the user's email.
   */
  holdLock(kind: LockKind, opts: { docId?: string; user?: string; untilMs?: number } = {}): () => void {
    const scope = kind === 'script' ? 'project' : kind === 'document' ? opts.docId ?? this.activeSpreadsheetId : (opts.user ?? this.defaultUser).toLowerCase();
    return this.locks.holdExternally(LockTable.key(kind, scope), opts.untilMs);
  }

  /** Protects a sheet so only `editors` may edit it (the owner included only if listed). */
  protectSheet(ssId: string, sheetName: string, editors: string[] = []): void {
    const sheet = this.sheetData(ssId, sheetName);
    sheet.protections.push({
      type: 'SHEET',
      editors: new Set(editors.map((e) => e.toLowerCase())),
      description: 'protected by test',
      warningOnly: false,
      domainEdit: false,
      strict: true,
      range: null,
    });
  }

  /** Removes every protection of a sheet (the demo's undo of protectSheet). */
  unprotectSheet(ssId: string, sheetName: string): void {
    this.sheetData(ssId, sheetName).protections.splice(0);
  }

  // ---- inspection helpers for tests and the demo -------------------------------------------

  spreadsheet(ssId = this.activeSpreadsheetId): SpreadsheetData {
    const ss = this.spreadsheets.get(ssId);
    if (!ss) throw new Error(`no spreadsheet ${ssId}`);
    return ss;
  }

  sheetData(ssId: string, sheetName: string): SheetData {
    const sheet = this.spreadsheet(ssId).sheet(sheetName);
    if (!sheet) throw new Error(`no sheet ${sheetName} in ${ssId}`);
    return sheet;
  }

  /** A sheet's stored values as getDataRange().getValues() would return them (host Dates). */
  sheetValues(sheetName: string, ssId = this.activeSpreadsheetId): unknown[][] {
    const sheet = this.sheetData(ssId, sheetName);
    const rows = sheet.lastRow();
    const cols = sheet.lastCol();
    const out: unknown[][] = [];
    for (let r = 0; r < rows; r++) {
      const row: unknown[] = [];
      for (let c = 0; c < cols; c++) {
        const v = sheet.get(r, c);
        row.push(v instanceof DateCell ? new Date(v.ms) : v instanceof FormulaCell ? evaluate(v) : v);
      }
      out.push(row);
    }
    return out;
  }

  scriptProperties(): Record<string, string> {
    return this.properties.script.toObject();
  }

  userProperties(email: string): Record<string, string> {
    return this.properties.user(email).toObject();
  }

  documentProperties(docId = this.activeSpreadsheetId): Record<string, string> {
    return this.properties.document(docId).toObject();
  }

  get outbox(): SentMail[] {
    return this.mail.outbox;
  }

  /** Everything logged so far, one line per entry (for "secrets never logged" checks). */
  logText(): string {
    return this.logs.map((l) => `[${l.level}] ${l.text}`).join('\n');
  }

  lastExecution(): ExecutionRecord | undefined {
    return this.history[this.history.length - 1];
  }

  random(): number {
    return this.rng();
  }

  private uuid(): string {
    const hex = Array.from({ length: 32 }, () => Math.floor(this.rng() * 16).toString(16)).join('');
    return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-${'89ab'[Math.floor(this.rng() * 4)]}${hex.slice(17, 20)}-${hex.slice(20)}`;
  }
}

// ---- helpers -------------------------------------------------------------------------------------

function errorText(e: unknown): string {
  const err = e as { name?: string; message?: string };
  if (err && typeof err === 'object' && 'message' in err) return `${err.name && err.name !== 'Error' ? err.name + ': ' : ''}${err.message}`;
  return String(e);
}

/** Errors leave the vm as host Errors (so `instanceof Error` works in tests), keeping name and details. */
function toHostError(e: unknown): unknown {
  if (!e || typeof e !== 'object' || !('message' in e)) return e;
  if (e instanceof Error) return e;
  const src = e as Record<string, unknown>;
  const out = new Error(String(src.message)) as Error & Record<string, unknown>;
  out.name = String(src.name ?? 'Error');
  if (src.stack) out.stack = String(src.stack);
  for (const k of Object.keys(src)) out[k] = src[k];
  return out;
}

function containsDate(v: unknown, seen = new Set<unknown>()): boolean {
  if (Object.prototype.toString.call(v) === '[object Date]') return true;
  if (!v || typeof v !== 'object' || seen.has(v)) return false;
  seen.add(v);
  return Object.values(v as Record<string, unknown>).some((x) => containsDate(x, seen));
}

/** Primitives, null, arrays and plain objects of those (what google.script.run can carry). */
function isPlainData(v: unknown, allowUndefined = false): boolean {
  if (v === null || ['string', 'number', 'boolean'].includes(typeof v)) return true;
  if (v === undefined) return allowUndefined;
  if (typeof v !== 'object') return false;
  const tag = Object.prototype.toString.call(v);
  if (tag !== '[object Object]' && tag !== '[object Array]') return false;
  return Object.values(v as Record<string, unknown>).every((x) => isPlainData(x, true));
}

/** ISO-8601 week number. */
function weekOfYear(y: number, m: number, d: number): number {
  const date = new Date(Date.UTC(y, m - 1, d));
  date.setUTCDate(date.getUTCDate() + 3 - ((date.getUTCDay() + 6) % 7));
  const week1 = new Date(Date.UTC(date.getUTCFullYear(), 0, 4));
  return 1 + Math.round(((date.getTime() - week1.getTime()) / 86400000 - 3 + ((week1.getUTCDay() + 6) % 7)) / 7);
}
