// One validation kit for everything Roster Sync reads from outside: the settings
// document, each destination's settings, and every argument the browser sends.
// A failure is a UserError naming the field and the problem, never a crash.
// (A schema library would add tens of KB to a bundle Apps Script loads on every call.)
import { UserError, msg } from './messages';

const EMAIL = /^[^\s@<>"'(),;:\\]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+$/;
const CONTROL = /[\u0000-\u0008\u000b\u000c\u000e-\u001f]/;

export function isEmail(value: unknown): value is string {
  return typeof value === 'string' && value.length <= 254 && EMAIL.test(value);
}

export interface Checks {
  fail(field: string, problem: string): never;
  object(value: unknown, field: string): Record<string, unknown>;
  list(value: unknown, field: string, max: number): unknown[];
  int(value: unknown, field: string, min: number, max: number): number;
  oneOf<T extends string>(value: unknown, field: string, options: readonly T[]): T;
  bool(value: unknown, field: string): boolean;
  /** Trimmed text without control characters. */
  text(value: unknown, field: string, max: number, options?: { optional?: boolean; min?: number }): string;
  /** A lower-cased email address. */
  email(value: unknown, field: string): string;
}

/** The checks, reporting through `invalidSetting` (a saved document) or `invalidInput` (a browser argument). */
export function checks(messageId: 'invalidSetting' | 'invalidInput'): Checks {
  const fail = (field: string, problem: string): never => {
    throw new UserError(msg(messageId, { field, problem }));
  };
  const text: Checks['text'] = (value, field, max, options = {}) => {
    if (value === undefined || value === null || value === '') {
      if (options.optional) return '';
      fail(field, 'is required');
    }
    if (typeof value !== 'string') fail(field, 'must be text');
    const trimmed = (value as string).trim();
    if (trimmed.length > max) fail(field, `must be at most ${max} characters`);
    if (trimmed.length < (options.min ?? 0)) fail(field, `must be at least ${options.min} characters`);
    if (CONTROL.test(trimmed)) fail(field, 'contains control characters');
    return trimmed;
  };
  return {
    fail,
    object(value, field) {
      if (typeof value !== 'object' || value === null || Array.isArray(value)) fail(field, 'must be an object');
      return value as Record<string, unknown>;
    },
    list(value, field, max) {
      if (!Array.isArray(value)) fail(field, 'must be a list');
      if ((value as unknown[]).length > max) fail(field, `must have at most ${max} entries`);
      return value as unknown[];
    },
    int(value, field, min, max) {
      if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) fail(field, `must be a whole number from ${min} to ${max}`);
      return value as number;
    },
    oneOf<T extends string>(value: unknown, field: string, options: readonly T[]): T {
      if (typeof value !== 'string' || !options.includes(value as T)) fail(field, `must be one of ${options.join(', ')}`);
      return value as T;
    },
    bool(value, field) {
      if (typeof value !== 'boolean') fail(field, 'must be true or false');
      return value as boolean;
    },
    text,
    email(value, field) {
      if (!isEmail(typeof value === 'string' ? value.trim() : value)) fail(field, 'must be an email address such as name@school.edu');
      return (value as string).trim().toLowerCase();
    },
  };
}
