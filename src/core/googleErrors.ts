// Google's API errors reach Apps Script as thrown exceptions whose message (and,
// for advanced services, a `details` object) carries the HTTP code and reason.
// This turns them into one classification the engine and the catalog share.
import { Message, UserError, msg } from './messages';

export type GoogleFailure = 'notFound' | 'forbidden' | 'apiDisabled' | 'rateLimited' | 'unavailable' | 'badRequest' | 'notAuthorized' | 'other';

export interface GoogleErrorInfo {
  code: number;
  reason: string;
  message: string;
  failure: GoogleFailure;
}

const RATE_REASONS = ['rateLimitExceeded', 'userRateLimitExceeded', 'quotaExceeded', 'dailyLimitExceeded'];

export function classifyGoogleError(error: unknown): GoogleErrorInfo {
  const e = error as { message?: string; details?: { code?: number; message?: string; errors?: { reason?: string }[] } };
  const message = String(e?.message ?? error);
  let code = Number(e?.details?.code ?? 0);
  let reason = e?.details?.errors?.[0]?.reason ?? '';
  if (!code) code = inferCode(message);
  if (!reason) reason = inferReason(message);
  return { code, reason, message, failure: failureOf(code, reason, message) };
}

function inferCode(message: string): number {
  const m = /\b(400|401|403|404|409|429|500|502|503|504)\b/.exec(message);
  if (m) return Number(m[1]);
  if (/not found/i.test(message)) return 404;
  if (/not authorized|forbidden|domain cannot use apis|permission/i.test(message)) return 403;
  if (/rate limit|quota/i.test(message)) return 429;
  if (/backend error|internal error|service unavailable|timed out/i.test(message)) return 503;
  if (/invalid/i.test(message)) return 400;
  return 0;
}

function inferReason(message: string): string {
  if (/domain cannot use apis/i.test(message)) return 'domainCannotUseApis';
  if (/accessNotConfigured|has not been used in project|is not enabled|AdminDirectory is not defined/i.test(message)) return 'accessNotConfigured';
  if (/rate limit/i.test(message)) return 'rateLimitExceeded';
  if (/quota/i.test(message)) return 'quotaExceeded';
  return '';
}

function failureOf(code: number, reason: string, message: string): GoogleFailure {
  if (reason === 'domainCannotUseApis' || reason === 'accessNotConfigured') return 'apiDisabled';
  if (code === 429 || RATE_REASONS.includes(reason)) return 'rateLimited';
  if (code >= 500) return 'unavailable';
  if (code === 404) return 'notFound';
  if (code === 401 || /authorization is required|required permissions/i.test(message)) return 'notAuthorized';
  if (code === 403) return 'forbidden';
  if (code === 400) return 'badRequest';
  return 'other';
}

export function isTransient(error: unknown): boolean {
  const f = classifyGoogleError(error).failure;
  return f === 'rateLimited' || f === 'unavailable';
}

/** The catalog message an admin sees for a directory failure. */
export function directoryMessage(info: GoogleErrorInfo): Message {
  const detail = `${info.code || 'error'}${info.reason ? ` ${info.reason}` : ''}: ${info.message.replace(/^.*failed with error:\s*/, '').slice(0, 200)}`;
  switch (info.failure) {
    case 'apiDisabled':
      return msg('apiDisabled');
    case 'forbidden':
      return msg('noDirectoryAccess');
    case 'notAuthorized':
      return msg('notInstalled');
    case 'rateLimited':
    case 'unavailable':
      return msg('directoryUnavailable', { detail });
    default:
      return msg('directoryError', { detail });
  }
}

export class DirectoryError extends UserError {
  constructor(readonly info: GoogleErrorInfo) {
    super(directoryMessage(info));
    this.name = 'DirectoryError';
  }
}

/** The admin activity log (Reports API) refused or failed: incremental syncs cannot run, full syncs still can. */
export class ReportsError extends UserError {
  constructor(readonly info: GoogleErrorInfo) {
    super(reportsMessage(info));
    this.name = 'ReportsError';
  }

  /** A refusal (scope, privilege, API access) lasts until an admin acts; anything else usually passes. */
  get refused(): boolean {
    return ['forbidden', 'notAuthorized', 'apiDisabled', 'badRequest'].includes(this.info.failure);
  }
}

function reportsMessage(info: GoogleErrorInfo): Message {
  const detail = `${info.code || 'error'}${info.reason ? ` ${info.reason}` : ''}: ${info.message.replace(/^.*failed with error:\s*/, '').slice(0, 200)}`;
  return info.failure === 'rateLimited' || info.failure === 'unavailable' ? msg('reportsUnavailable', { detail }) : msg('reportsRefused', { detail });
}
