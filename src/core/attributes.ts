// Attribute mapping: what an app needs beyond name and email (student ID, grade,
// school, title, department, manager…), each value taken from one Directory user
// field, a custom schema field, a named part of the OU path, or a constant, with
// a simple transform. Pure: the directory adapter hands over the raw fields the
// mapping names (`directoryFields`), and this module turns them into values,
// each with where it came from, or a problem when it cannot be derived.
import { DirectoryUser } from './model';
import { Checks, checks, isEmail } from './validate';

/** Sources read from the Directory user resource (besides orgUnitPath and primaryEmail, always read). */
export const DIRECTORY_SOURCES = [
  'name.givenName',
  'name.familyName',
  'primaryEmail',
  'orgUnitPath',
  'organizations.title',
  'organizations.department',
  'organizations.costCenter',
  'organizations.description',
  'organizations.name',
  'relations.manager',
  'locations.buildingId',
  'locations.floorName',
  'locations.area',
  'locations.deskCode',
] as const;
// Plus the open-ended families `externalIds.<type>`, `phones.<type>` and `customSchemas.<Schema>.<field>`.

export type Transform = 'lower' | 'upper' | 'localPart' | 'gradeFromYear';
export const TRANSFORMS: Transform[] = ['lower', 'upper', 'localPart', 'gradeFromYear'];

/** One row of the mapping table. */
export interface AttributeMapping {
  /** The attribute's name: the Roster column's header, and how Preview names it ("Grade"). */
  name: string;
  /** A Directory field (see DIRECTORY_SOURCES), `externalIds.<type>`, `phones.<type>`, `customSchemas.<Schema>.<field>`, or `constant`. */
  source: string;
  /** With source orgUnitPath: a pattern with named parts, e.g. `/Students/{school}/Grade {grade}`. */
  pattern?: string;
  /** The named part of the pattern this attribute takes (required with a pattern). */
  part?: string;
  /** With source constant: the value. */
  value?: string;
  transform?: Transform;
  /** With gradeFromYear: the day (MM-DD) every graduation year moves up a grade; 07-01 by default. */
  rollover?: string;
  /** With gradeFromYear: the grade of the graduating class; 12 by default. */
  finalGrade?: number;
  /** The SCIM attribute it is written to (core `title`, `urn:…:enterprise:2.0:User:department`, or a custom URN's attribute); not sent when absent. */
  scim?: string;
}

export interface DerivedValue {
  value: string;
  /** Where it came from, in an admin's words: "OU /Students/Lincoln High/Grade 10". */
  from: string;
}

export interface AttributeProblem {
  attribute: string;
  problem: string;
}

export interface Derived {
  values: Record<string, DerivedValue>;
  problems: AttributeProblem[];
}

// ---------- which Directory fields a mapping needs ----------

/** The raw fields the directory must return for the mapping (keys of DirectoryUser.fields). */
export function directoryFields(mappings: AttributeMapping[]): string[] {
  const out = new Set<string>();
  for (const m of mappings) if (m.source !== 'constant' && m.source !== 'orgUnitPath' && m.source !== 'primaryEmail') out.add(m.source);
  return [...out].sort();
}

/** The custom schemas a mapping reads (users.list customFieldMask); empty when none is mapped. */
export function customSchemasOf(sources: string[]): string[] {
  return [...new Set(sources.filter((s) => s.startsWith('customSchemas.')).map((s) => s.split('.')[1]))].sort();
}

/**
 * The `fields` selector parts for the mapped sources (users.list and users.get), e.g.
 * `externalIds(type,customType,value)`; the caller joins them to what it always reads.
 */
export function fieldSelectors(sources: string[]): string[] {
  const parts = new Set<string>();
  for (const s of sources) {
    const [family] = s.split('.');
    if (s === 'name.givenName' || s === 'name.familyName') parts.add(`name/${s.split('.')[1]}`);
    else if (family === 'externalIds' || family === 'phones') parts.add(`${family}(type,customType,value,primary)`);
    else if (family === 'relations') parts.add('relations(type,customType,value)');
    else if (family === 'organizations') parts.add('organizations(primary,title,department,costCenter,description,name)');
    else if (family === 'locations') parts.add('locations(type,buildingId,floorName,area,deskCode)');
    else if (family === 'customSchemas') parts.add(`customSchemas/${s.split('.')[1]}`);
  }
  return [...parts].sort();
}

type Raw = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/** The mapped fields of a Directory user resource, as text ('' when the user has none). */
export function extractFields(raw: Raw, sources: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const s of sources) out[s] = extractOne(raw, s);
  return out;
}

function extractOne(raw: Raw, source: string): string {
  const [family, key, field] = source.split('.');
  const list = (v: unknown): Raw[] => (Array.isArray(v) ? (v as Raw[]).filter((x) => x && typeof x === 'object') : []);
  const ofType = (items: Raw[], type: string) => {
    const typed = items.filter((x) => x.type === type || (x.type === 'custom' && x.customType === type));
    return typed.find((x) => x.primary === true) ?? typed[0];
  };
  const text = (v: unknown) => (v === undefined || v === null ? '' : String(v).trim());
  switch (family) {
    case 'name':
      return text(raw.name?.[key]);
    case 'externalIds':
    case 'phones':
      return text(ofType(list(raw[family]), key)?.value);
    case 'relations':
      return text(ofType(list(raw.relations), key)?.value);
    case 'organizations':
    case 'locations': {
      const items = list(raw[family]);
      return text((items.find((x) => x.primary === true) ?? items[0])?.[key]);
    }
    case 'customSchemas': {
      const v = raw.customSchemas?.[key]?.[field];
      // Multi-valued custom fields are lists of { value } objects (Google's manage-schemas guide).
      if (Array.isArray(v)) return v.map((x) => text(x && typeof x === 'object' ? x.value : x)).filter(Boolean).join(', ');
      return text(v);
    }
    default:
      return '';
  }
}

// ---------- deriving values ----------

const PART = /\{([A-Za-z][A-Za-z0-9_]{0,30})\}/g;

/** Compiled patterns, so a sync of 100,000 users compiles each pattern once. */
const compiled = new Map<string, { regex: RegExp; parts: string[]; scope: string }>();

function patternOf(pattern: string): { regex: RegExp; parts: string[]; scope: string } {
  let c = compiled.get(pattern);
  if (!c) compiled.set(pattern, (c = { ...compilePattern(pattern), scope: patternScope(pattern) }));
  return c;
}

/** The pattern as a regular expression with one named group per part (a user in a sub-OU still matches). */
export function compilePattern(pattern: string): { regex: RegExp; parts: string[] } {
  const parts: string[] = [];
  let source = '';
  let last = 0;
  for (const m of pattern.matchAll(PART)) {
    source += escapeRegex(pattern.slice(last, m.index));
    source += `(?<${m[1]}>[^/]+?)`;
    parts.push(m[1]);
    last = m.index! + m[0].length;
  }
  source += escapeRegex(pattern.slice(last));
  return { regex: new RegExp(`^${source}(?:/.*)?$`, 'i'), parts };
}

/** The OU a pattern speaks of: its path up to the first named part (`/Students` for `/Students/{school}/Grade {grade}`). */
export function patternScope(pattern: string): string {
  const fixed = pattern.slice(0, Math.max(0, pattern.indexOf('{')));
  return fixed.slice(0, fixed.lastIndexOf('/')) || '/';
}

function ouWithin(path: string, scope: string): boolean {
  const p = path.toLowerCase();
  const s = scope.toLowerCase();
  return s === '/' || p === s || p.startsWith(`${s}/`);
}

function escapeRegex(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Every mapped value of one user, each with where it came from; a value that cannot be derived is a problem instead. */
export function deriveAttributes(user: DirectoryUser, mappings: AttributeMapping[], nowIso: string): Derived {
  const derived: Derived = { values: {}, problems: [] };
  for (const m of mappings) {
    const one = deriveOne(user, m, nowIso);
    if ('problem' in one) derived.problems.push({ attribute: m.name, problem: one.problem });
    else derived.values[m.name] = one;
  }
  return derived;
}

function deriveOne(user: DirectoryUser, m: AttributeMapping, nowIso: string): DerivedValue | { problem: string } {
  let raw: string;
  let from: string;
  if (m.source === 'constant') {
    raw = m.value ?? '';
    from = 'a constant';
  } else if (m.source === 'orgUnitPath') {
    from = `OU ${user.orgUnitPath}`;
    if (m.pattern) {
      // The pattern speaks of the OUs under its fixed start (/Students for /Students/{school}/…): a user
      // elsewhere (a teacher) simply has no such value; one under it whose OU does not fit is a problem.
      const { regex, scope } = patternOf(m.pattern);
      if (!ouWithin(user.orgUnitPath, scope)) return { value: '', from: `OU ${user.orgUnitPath} (outside ${scope})` };
      const match = regex.exec(user.orgUnitPath);
      if (!match) return { problem: `the OU ${user.orgUnitPath} does not match the pattern ${m.pattern}` };
      raw = match.groups?.[m.part ?? ''] ?? '';
    } else raw = user.orgUnitPath;
  } else if (m.source === 'primaryEmail') {
    raw = user.email;
    from = 'the primary email';
  } else {
    raw = user.fields?.[m.source] ?? '';
    from = describeSource(m.source);
    // The Admin console stores a manager as an email: anything else cannot name a person in the app.
    if (m.source === 'relations.manager' && raw) {
      if (!isEmail(raw as unknown)) return { problem: `the manager "${raw.slice(0, 60)}" is not an email address` };
      raw = raw.toLowerCase();
    }
  }
  return transform(raw, m, from, nowIso);
}

function describeSource(source: string): string {
  const [family, key, field] = source.split('.');
  if (family === 'customSchemas') return `custom field ${key}.${field}`;
  if (family === 'relations' && key === 'manager') return 'the manager';
  if (family === 'name') return key === 'givenName' ? 'the given name' : 'the family name';
  return `${family} ${key}`;
}

function transform(raw: string, m: AttributeMapping, from: string, nowIso: string): DerivedValue | { problem: string } {
  switch (m.transform) {
    case 'lower':
      return { value: raw.toLowerCase(), from };
    case 'upper':
      return { value: raw.toUpperCase(), from };
    case 'localPart':
      return { value: raw.split('@')[0], from };
    case 'gradeFromYear': {
      if (!/^\d{4}$/.test(raw)) return { problem: `${from} gives "${raw.slice(0, 40)}", not a graduation year` };
      const finalGrade = m.finalGrade ?? 12;
      const grade = finalGrade - (Number(raw) - schoolYearEnd(nowIso, m.rollover ?? '07-01'));
      if (grade < 0 || grade > finalGrade) return { problem: `${from} gives the class of ${raw}, which is in no grade this school year (it would be grade ${grade})` };
      return { value: String(grade), from: `${from}: class of ${raw}` };
    }
    default:
      return { value: raw, from };
  }
}

/** The calendar year in which the current school year ends: after the rollover day, the next one. */
export function schoolYearEnd(nowIso: string, rollover: string): number {
  const year = Number(nowIso.slice(0, 4));
  return nowIso.slice(5, 10) >= rollover ? year + 1 : year;
}

// ---------- settings ----------

const NAME = /^[A-Za-z][A-Za-z0-9 _.-]{0,39}$/;
const SCHEMA_FIELD = /^customSchemas\.[A-Za-z][A-Za-z0-9_]{0,63}\.[A-Za-z][A-Za-z0-9_]{0,63}$/;
const TYPED = /^(externalIds|phones)\.[A-Za-z][A-Za-z0-9_ -]{0,39}$/;
const SCIM_PATH = /^(?:[A-Za-z][A-Za-z0-9_-]*(?:\.[A-Za-z][A-Za-z0-9_-]*)?|urn:[A-Za-z0-9:._-]+:[A-Za-z][A-Za-z0-9_-]*(?:\.[A-Za-z][A-Za-z0-9_-]*)?)$/;
/** SCIM attributes Roster Sync itself manages: a mapping row must not write over them. */
const MANAGED_SCIM = ['id', 'userName', 'externalId', 'displayName', 'name', 'emails', 'active', 'roles', 'groups', 'meta', 'schemas', 'password'];

export function isSource(value: unknown): value is string {
  return typeof value === 'string' && ((DIRECTORY_SOURCES as readonly string[]).includes(value) || value === 'constant' || SCHEMA_FIELD.test(value) || TYPED.test(value));
}

/** Validates the mapping table; `reserved` are names taken by the destination's own columns. */
export function validateAttributes(raw: unknown, reserved: readonly string[] = []): AttributeMapping[] {
  const c: Checks = checks('invalidSetting');
  const rows = c.list(raw ?? [], 'attributes', 100);
  const names = new Set<string>();
  const scimPaths = new Set<string>();
  const taken = new Set(reserved.map((r) => r.toLowerCase()));
  return rows.map((rawRow, i) => {
    const field = `attributes[${i}]`;
    const r = c.object(rawRow, field);
    const name = c.text(r.name, `${field}.name`, 40);
    if (!NAME.test(name)) c.fail(`${field}.name`, 'must start with a letter and hold only letters, digits, space, - _ .');
    if (taken.has(name.toLowerCase()) || name.toLowerCase() === 'groups') c.fail(`${field}.name`, `"${name}" is a column Roster Sync already writes`);
    if (names.has(name.toLowerCase())) c.fail(`${field}.name`, 'is used by another attribute');
    names.add(name.toLowerCase());
    if (!isSource(r.source)) c.fail(`${field}.source`, 'must be a Directory field such as organizations.title, externalIds.organization, customSchemas.Rostering.homeroom, orgUnitPath or constant');
    const row: AttributeMapping = { name, source: r.source as string };
    if (r.pattern !== undefined && r.pattern !== '') {
      if (row.source !== 'orgUnitPath') c.fail(`${field}.pattern`, 'is only for the source orgUnitPath');
      const pattern = c.text(r.pattern, `${field}.pattern`, 300);
      if (!pattern.startsWith('/')) c.fail(`${field}.pattern`, 'must be an OU path with named parts, such as /Students/{school}/Grade {grade}');
      const { parts } = compilePattern(pattern);
      if (!parts.length) c.fail(`${field}.pattern`, 'names no part: write each part in braces, such as {grade}');
      if (new Set(parts).size !== parts.length) c.fail(`${field}.pattern`, 'names a part twice');
      const part = c.text(r.part, `${field}.part`, 31);
      if (!parts.includes(part)) c.fail(`${field}.part`, `must be one of the pattern's parts: ${parts.join(', ')}`);
      row.pattern = pattern;
      row.part = part;
    }
    if (row.source === 'constant') row.value = c.text(r.value ?? '', `${field}.value`, 200, { optional: true });
    if (r.transform !== undefined && r.transform !== '' && r.transform !== 'none') row.transform = c.oneOf(r.transform, `${field}.transform`, TRANSFORMS);
    if (row.transform === 'gradeFromYear') {
      const rollover = r.rollover ?? '07-01';
      if (typeof rollover !== 'string' || !/^(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])$/.test(rollover)) c.fail(`${field}.rollover`, 'must be a day MM-DD such as 07-01');
      row.rollover = rollover as string;
      row.finalGrade = r.finalGrade === undefined ? 12 : c.int(r.finalGrade, `${field}.finalGrade`, 1, 20);
    }
    if (r.scim !== undefined && r.scim !== '') {
      const path = c.text(r.scim, `${field}.scim`, 200);
      if (!SCIM_PATH.test(path)) c.fail(`${field}.scim`, 'must be a SCIM attribute such as title or urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department');
      if (MANAGED_SCIM.includes(path.split(/[.:]/)[0]) && !path.startsWith('urn:')) c.fail(`${field}.scim`, `"${path}" is written by Roster Sync itself`);
      if (scimPaths.has(path.toLowerCase())) c.fail(`${field}.scim`, 'is written by another attribute');
      scimPaths.add(path.toLowerCase());
      row.scim = path;
    }
    return row;
  });
}
