// console and Logger, captured so tests can read (and assert on) what a script logs.
import { format } from 'util';
import { Exec } from './exec';

export function makeConsole(exec: Exec): unknown {
  const at = (level: string) => (...args: unknown[]) => exec.log(level, format(...args));
  return {
    log: at('info'),
    info: at('info'),
    warn: at('warning'),
    error: at('error'),
    debug: at('debug'),
    time: () => undefined,
    timeEnd: () => undefined,
  };
}

export function makeLogger(exec: Exec): unknown {
  const lines: string[] = [];
  const self = {
    log(data: unknown, ...values: unknown[]) {
      const text = typeof data === 'string' && values.length ? data.replace(/%s/g, () => String(values.shift())) : format(data);
      lines.push(text);
      exec.log('logger', text);
      return self;
    },
    getLog: () => lines.join('\n'),
    clear: () => {
      lines.length = 0;
    },
  };
  return self;
}
