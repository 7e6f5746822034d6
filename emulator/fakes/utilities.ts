// Fake Utilities: sleep moves the simulated clock; formatDate follows Java's
// SimpleDateFormat letters (what Apps Script uses) via Intl; digests and
// base64 return Java-style signed byte arrays.
import { createHash, createHmac } from 'crypto';
import { Exec } from './exec';

type Bytes = number[];

const DIGESTS: Record<string, string> = { MD5: 'md5', SHA_1: 'sha1', SHA_256: 'sha256', SHA_384: 'sha384', SHA_512: 'sha512' };
const MACS: Record<string, string> = { HMAC_MD5: 'md5', HMAC_SHA_1: 'sha1', HMAC_SHA_256: 'sha256', HMAC_SHA_384: 'sha384', HMAC_SHA_512: 'sha512' };

export const toSigned = (buf: Uint8Array): Bytes => Array.from(buf, (b) => (b > 127 ? b - 256 : b));
const fromSigned = (bytes: ArrayLike<number>): Buffer => Buffer.from(Array.from(bytes, (b) => b & 0xff));
const toBuffer = (v: unknown): Buffer => (typeof v === 'string' ? Buffer.from(v, 'utf8') : fromSigned(v as number[]));

export function makeUtilities(exec: Exec, uuid: () => string): unknown {
  const c = (m: string, args: unknown[] = []) => exec.call(`Utilities.${m}`, args);
  return {
    DigestAlgorithm: enumOf(Object.keys(DIGESTS)),
    MacAlgorithm: enumOf(Object.keys(MACS)),
    Charset: enumOf(['US_ASCII', 'UTF_8']),
    sleep(milliseconds: number) {
      c('sleep', [milliseconds]);
      const ms = Number(milliseconds);
      if (!(ms >= 0) || ms > 300000) throw exec.error('Invalid argument: milliseconds');
      exec.wait(ms);
    },
    formatDate(date: Date, timeZone: string, format: string) {
      c('formatDate');
      return formatDate(exec, date, timeZone, format);
    },
    formatString(template: string, ...args: unknown[]) {
      c('formatString');
      return formatString(template, args);
    },
    getUuid() {
      c('getUuid');
      return uuid();
    },
    base64Encode: (data: unknown) => (c('base64Encode'), toBuffer(data).toString('base64')),
    base64EncodeWebSafe: (data: unknown) => (c('base64EncodeWebSafe'), toBuffer(data).toString('base64url') + pad(toBuffer(data).length)),
    base64Decode: (s: string) => (c('base64Decode'), toSigned(Buffer.from(String(s), 'base64'))),
    base64DecodeWebSafe: (s: string) => (c('base64DecodeWebSafe'), toSigned(Buffer.from(String(s), 'base64url'))),
    computeDigest(algorithm: string, value: unknown) {
      c('computeDigest');
      const alg = DIGESTS[String(algorithm)];
      if (!alg) throw exec.error(`Invalid argument: algorithm`);
      return toSigned(createHash(alg).update(toBuffer(value)).digest());
    },
    computeHmacSignature(algorithm: string, value: unknown, key: unknown) {
      c('computeHmacSignature');
      const alg = MACS[String(algorithm)];
      if (!alg) throw exec.error(`Invalid argument: algorithm`);
      return toSigned(createHmac(alg, toBuffer(key)).update(toBuffer(value)).digest());
    },
    computeHmacSha256Signature(value: unknown, key: unknown) {
      c('computeHmacSha256Signature');
      return toSigned(createHmac('sha256', toBuffer(key)).update(toBuffer(value)).digest());
    },
    newBlob(data: unknown, contentType?: string, name?: string) {
      c('newBlob');
      return makeBlob(toBuffer(data ?? ''), contentType ?? null, name ?? null);
    },
    parseCsv(csv: string, delimiter = ',') {
      c('parseCsv');
      return parseCsv(String(csv), delimiter);
    },
  };
}

function pad(n: number): string {
  return '='.repeat((3 - (n % 3)) % 3);
}

function enumOf(names: string[]): Record<string, string> {
  return Object.freeze(Object.fromEntries(names.map((n) => [n, n])));
}

export function makeBlob(data: Buffer, contentType: string | null, name: string | null): unknown {
  let type = contentType;
  let blobName = name;
  const blob = {
    getBytes: () => toSigned(data),
    getDataAsString: () => data.toString('utf8'),
    getContentType: () => type,
    setContentType: (t: string) => ((type = t), blob),
    getName: () => blobName,
    setName: (n: string) => ((blobName = n), blob),
    copyBlob: () => makeBlob(Buffer.from(data), type, blobName),
    getAs: () => blob,
  };
  return blob;
}

// ---- formatDate ---------------------------------------------------------------

interface Zoned {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
  weekday: number; // 0 = Sunday
  offsetMin: number;
}

const formatters = new Map<string, Intl.DateTimeFormat>();

/** Wall-clock parts of an instant in a zone; 'GMT+2' style fixed offsets are accepted too. */
export function zoned(ms: number, timeZone: string): Zoned {
  const fixed = /^(?:GMT|UTC)([+-])(\d{1,2})(?::?(\d{2}))?$/.exec(timeZone);
  if (fixed) {
    const off = (fixed[1] === '-' ? -1 : 1) * (Number(fixed[2]) * 60 + Number(fixed[3] ?? 0));
    return { ...zoned(ms + off * 60000, 'UTC'), offsetMin: off };
  }
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
      weekday: 'short',
    });
    formatters.set(timeZone, f);
  }
  const p: Record<string, string> = {};
  for (const part of f.formatToParts(new Date(ms))) p[part.type] = part.value;
  const z = {
    year: Number(p.year),
    month: Number(p.month),
    day: Number(p.day),
    hour: Number(p.hour) % 24,
    minute: Number(p.minute),
    second: Number(p.second),
    weekday: ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'].indexOf(p.weekday),
  };
  const asUtc = Date.UTC(z.year, z.month - 1, z.day, z.hour, z.minute, z.second);
  return { ...z, offsetMin: Math.round((asUtc - Math.floor(ms / 1000) * 1000) / 60000) };
}

const MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];
const DAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];

function offset(min: number, colon: boolean, zForZero: boolean): string {
  if (zForZero && min === 0) return 'Z';
  const sign = min < 0 ? '-' : '+';
  const a = Math.abs(min);
  const hh = String(Math.floor(a / 60)).padStart(2, '0');
  const mm = String(a % 60).padStart(2, '0');
  return `${sign}${hh}${colon ? ':' : ''}${mm}`;
}

function field(letter: string, n: number, z: Zoned, ms: number, tz: string): string | null {
  const num = (v: number) => String(v).padStart(n, '0');
  switch (letter) {
    case 'y':
      return n === 2 ? String(z.year % 100).padStart(2, '0') : num(z.year);
    case 'M':
      return n >= 4 ? MONTHS[z.month - 1] : n === 3 ? MONTHS[z.month - 1].slice(0, 3) : num(z.month);
    case 'd':
      return num(z.day);
    case 'H':
      return num(z.hour);
    case 'k':
      return num(z.hour === 0 ? 24 : z.hour);
    case 'h':
      return num(z.hour % 12 === 0 ? 12 : z.hour % 12);
    case 'm':
      return num(z.minute);
    case 's':
      return num(z.second);
    case 'S':
      return String(((ms % 1000) + 1000) % 1000).padStart(3, '0').slice(0, Math.max(n, 3));
    case 'E':
      return n >= 4 ? DAYS[z.weekday] : DAYS[z.weekday].slice(0, 3);
    case 'u':
      return String(z.weekday === 0 ? 7 : z.weekday);
    case 'a':
      return z.hour < 12 ? 'AM' : 'PM';
    case 'D': {
      const doy = (Date.UTC(z.year, z.month - 1, z.day) - Date.UTC(z.year, 0, 1)) / 86400000 + 1;
      return num(doy);
    }
    case 'Z':
      return offset(z.offsetMin, false, false);
    case 'X':
      return n === 1 ? offset(z.offsetMin, false, true).slice(0, 3) : offset(z.offsetMin, n >= 3, true);
    case 'z':
      return z.offsetMin === 0 && /^(UTC|GMT|Etc\/UTC|Etc\/GMT)$/.test(tz) ? tz.replace('Etc/', '') : shortZoneName(ms, tz, z);
    default:
      return null;
  }
}

function shortZoneName(ms: number, tz: string, z: Zoned): string {
  try {
    const parts = new Intl.DateTimeFormat('en-US', { timeZone: tz, timeZoneName: 'short' }).formatToParts(new Date(ms));
    return parts.find((p) => p.type === 'timeZoneName')?.value ?? `GMT${offset(z.offsetMin, true, false)}`;
  } catch {
    return `GMT${offset(z.offsetMin, true, false)}`;
  }
}

export function formatDate(exec: Exec, date: Date, timeZone: string, pattern: string): string {
  const ms = Number(date?.getTime?.());
  if (!Number.isFinite(ms)) throw exec.error('Invalid argument: date');
  let z: Zoned;
  try {
    z = zoned(ms, String(timeZone));
  } catch {
    throw exec.error(`Invalid argument: timeZone`);
  }
  let out = '';
  for (let i = 0; i < pattern.length; ) {
    const ch = pattern[i];
    if (ch === "'") {
      const end = pattern.indexOf("'", i + 1);
      if (end === i + 1) {
        out += "'";
        i += 2;
        continue;
      }
      if (end < 0) throw exec.error('Unterminated quote');
      out += pattern.slice(i + 1, end);
      i = end + 1;
      continue;
    }
    if (!/[A-Za-z]/.test(ch)) {
      out += ch;
      i++;
      continue;
    }
    let n = 1;
    while (pattern[i + n] === ch) n++;
    const text = field(ch, n, z, ms, String(timeZone));
    if (text === null) throw exec.error(`Illegal pattern character '${ch}'`);
    out += text;
    i += n;
  }
  return out;
}

// ---- small helpers --------------------------------------------------------------

function formatString(template: string, args: unknown[]): string {
  let i = 0;
  return String(template).replace(/%(-)?(0)?(\d+)?(?:\.(\d+))?([sdfx%])/g, (_m, left, zero, width, prec, conv) => {
    if (conv === '%') return '%';
    const v = args[i++];
    let s =
      conv === 'd' ? String(Math.trunc(Number(v))) :
      conv === 'f' ? Number(v).toFixed(prec === undefined ? 6 : Number(prec)) :
      conv === 'x' ? Math.trunc(Number(v)).toString(16) :
      String(v);
    const w = Number(width ?? 0);
    if (s.length < w) s = left ? s.padEnd(w) : s.padStart(w, zero ? '0' : ' ');
    return s;
  });
}

function parseCsv(csv: string, delimiter: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < csv.length; i++) {
    const ch = csv[i];
    if (quoted) {
      if (ch === '"' && csv[i + 1] === '"') (cell += '"'), i++;
      else if (ch === '"') quoted = false;
      else cell += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === delimiter) row.push(cell), (cell = '');
    else if (ch === '\n' || ch === '\r') {
      if (ch === '\r' && csv[i + 1] === '\n') i++;
      row.push(cell), rows.push(row), (row = []), (cell = '');
    } else cell += ch;
  }
  if (cell || row.length) row.push(cell), rows.push(row);
  return rows;
}
