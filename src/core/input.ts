// Validation of everything the browser sends: every server function reads its
// arguments through these, so a malformed or hostile payload gets a clear error
// naming the field and changes nothing. An absent optional argument takes its fallback.
import { checks } from './validate';

const check = checks('invalidInput');

export function args(raw: unknown, field = 'request'): Record<string, unknown> {
  if (raw === undefined || raw === null) return {};
  return check.object(raw, field);
}

export const text = check.text;

export function email(raw: unknown, field: string): string {
  return check.email(check.text(raw, field, 254), field);
}

export function int(raw: unknown, field: string, min: number, max: number, fallback?: number): number {
  if (raw === undefined && fallback !== undefined) return fallback;
  return check.int(raw, field, min, max);
}

export function oneOf<T extends string>(raw: unknown, field: string, options: readonly T[], fallback?: T): T {
  if ((raw === undefined || raw === '') && fallback !== undefined) return fallback;
  return check.oneOf(raw, field, options);
}

export function bool(raw: unknown, field: string, fallback = false): boolean {
  return raw === undefined ? fallback : check.bool(raw, field);
}

export function list<T>(raw: unknown, field: string, max: number, item: (value: unknown, field: string) => T): T[] {
  if (raw === undefined) return [];
  return check.list(raw, field, max).map((v, i) => item(v, `${field}[${i}]`));
}

export function accountId(raw: unknown, field: string): string {
  const value = check.text(raw, field, 64);
  if (!/^(?:\d{1,30}|manual-[A-Za-z0-9]{1,40})$/.test(value)) check.fail(field, 'is not an account id');
  return value;
}
