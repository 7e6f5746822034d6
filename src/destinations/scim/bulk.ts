// Chunking and Bulk request sizing (within the app's maxOperations and maxPayloadSize).
import { BULK_SCHEMA } from './schemas';

export function chunk<T>(items: T[], size: number): T[][] {
  const n = Math.max(1, Math.floor(size));
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += n) out.push(items.slice(i, i + n));
  return out;
}

export function utf8Bytes(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c <= 0xdbff) {
      n += 4;
      i++;
    } else n += 3;
  }
  return n;
}

export interface BulkOperation {
  method: 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  path: string;
  bulkId?: string;
  data?: unknown;
}

const BULK_ENVELOPE = utf8Bytes(JSON.stringify({ schemas: [BULK_SCHEMA], Operations: [] }));

/**
 * Splits operations into Bulk requests within the server's maxOperations and
 * maxPayloadSize (bytes of the JSON body). Operations too large for any Bulk
 * request come back in `single`, to be sent as plain requests.
 */
export function bulkChunks<T extends BulkOperation>(ops: T[], maxOperations: number, maxPayloadSize: number): { bulks: T[][]; single: T[] } {
  const bulks: T[][] = [];
  const single: T[] = [];
  const limitOps = Math.max(1, maxOperations);
  const budget = maxPayloadSize - BULK_ENVELOPE - 64; // headroom for the separators and failOnErrors
  let current: T[] = [];
  let size = 0;
  for (const op of ops) {
    const bytes = utf8Bytes(JSON.stringify(op)) + 1;
    if (bytes > budget) {
      single.push(op);
      continue;
    }
    if (current.length >= limitOps || size + bytes > budget) {
      bulks.push(current);
      current = [];
      size = 0;
    }
    current.push(op);
    size += bytes;
  }
  if (current.length) bulks.push(current);
  return { bulks, single };
}

export function bulkBody(ops: BulkOperation[]): Record<string, unknown> {
  return { schemas: [BULK_SCHEMA], Operations: ops };
}
