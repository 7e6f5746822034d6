// Finds the Chromium the browser tests drive (Debian's package; never a browser download).
//   node scripts/browser.mjs            → exits 1 with the one instruction when there is none
//   node scripts/browser.mjs --install  → installs Debian's chromium with apt-get when it may (root)
import { execFileSync } from 'node:child_process';
import { accessSync, constants } from 'node:fs';

const INSTRUCTION =
  "The browser tests need Chromium. Install Debian's package (as root: apt-get update && apt-get install -y chromium), " +
  'or point CHROMIUM_PATH at a Chromium or Chrome binary; then run the tests again. `npm run test:all` installs it for you when run as root.';

export function chromiumPath() {
  for (const candidate of [process.env.CHROMIUM_PATH, '/usr/bin/chromium', '/usr/bin/chromium-browser']) {
    if (!candidate) continue;
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not this one
    }
  }
  return null;
}

function canInstall() {
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) return false;
  try {
    execFileSync('sh', ['-c', 'command -v apt-get'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

function install() {
  console.log("Installing Debian's chromium for the browser tests (apt-get)…");
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  execFileSync('apt-get', ['update', '-qq'], { stdio: 'inherit', env });
  execFileSync('apt-get', ['install', '-y', '-qq', 'chromium'], { stdio: ['ignore', 'ignore', 'inherit'], env });
}

if (!chromiumPath()) {
  if (process.argv.includes('--install') && canInstall()) install();
  if (!chromiumPath()) {
    console.error(INSTRUCTION);
    process.exit(1);
  }
}
