// Validation of everything the browser sends: every server function reads its
// arguments through these, so a malformed or hostile payload gets a clear error
// naming the field and changes nothing.
import { UserError, msg } from './messages';
import { isEmail } from './settings';

function bad(field: string, problem: string): never {
  throw new UserError(msg('invalidInput', { field, problem }));
}

export function args(raw: unknown, field = 'request'): Record<string, unknown> {
  if (raw === undefined || raw === null) return {};
  if (typeof raw !== 'object' || Array.isArray(raw)) bad(field, 'must be an object');
  return raw as Record<string, unknown>;
}

export function text(raw: unknown, field: string, max: number, options: { optional?: boolean; min?: number } = {}): string {
  if (raw === undefined || raw === null || raw === '') {
    if (options.optional) return '';
    bad(field, 'is required');
  }
  if (typeof raw !== 'string') bad(field, 'must be text');
  const value = raw.trim();
  if (value.length > max) bad(field, `must be at most ${max} characters`);
  if (value.length < (options.min ?? 0)) bad(field, `must be at least ${options.min} characters`);
  if (/[\u0000-\u0008\u000b\u000c\u000e-\u001f]/.test(value)) bad(field, 'contains control characters');
  return value;
}

export function email(raw: unknown, field: string): string {
  const value = text(raw, field, 254);
  if (!isEmail(value)) bad(field, 'must be an email address such as name@school.edu');
  return value.toLowerCase();
}

export function int(raw: unknown, field: string, min: number, max: number, fallback?: number): number {
  if (raw === undefined && fallback !== undefined) return fallback;
  if (typeof raw !== 'number' || !Number.isInteger(raw) || raw < min || raw > max) bad(field, `must be a whole number from ${min} to ${max}`);
  return raw;
}

export function oneOf<T extends string>(raw: unknown, field: string, options: readonly T[], fallback?: T): T {
  if ((raw === undefined || raw === '') && fallback !== undefined) return fallback;
  if (typeof raw !== 'string' || !options.includes(raw as T)) bad(field, `must be one of ${options.join(', ')}`);
  return raw as T;
}

export function bool(raw: unknown, field: string, fallback = false): boolean {
  if (raw === undefined) return fallback;
  if (typeof raw !== 'boolean') bad(field, 'must be true or false');
  return raw;
}

export function list<T>(raw: unknown, field: string, max: number, item: (value: unknown, field: string) => T): T[] {
  if (raw === undefined) return [];
  if (!Array.isArray(raw)) bad(field, 'must be a list');
  if (raw.length > max) bad(field, `must have at most ${max} entries`);
  return raw.map((v, i) => item(v, `${field}[${i}]`));
}

export function accountId(raw: unknown, field: string): string {
  const value = text(raw, field, 64);
  if (!/^(?:\d{1,30}|manual-[A-Za-z0-9]{1,40})$/.test(value)) bad(field, 'is not an account id');
  return value;
}
