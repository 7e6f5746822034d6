// "Finalize sync": independent, cheap checks of the whole setup. Each says what
// it found and, when it fails, exactly how to fix it (from the message catalog).
import { Services } from './ports';
import { KEYS, readSettings } from './config';
import { Message, msg, toMessage } from './messages';
import { DirectoryError } from './googleErrors';
import { EMBEDDED_DESTINATION, Settings, describeRule, destinationSettingsOf } from './settings';
import { SCHEDULE_HANDLER } from './triggers';
import { lastFullSyncEntry } from './sync';
import { SyncOutcome } from './model';

/** `notRun`: a check it depends on failed, so its own answer would only repeat that failure. */
export type CheckStatus = 'pass' | 'fail' | 'warning' | 'notRun';

/** A fix that is one action, offered as a button: the server function that does it. */
export type CheckAction = 'reinstallTrigger';

export interface CheckResult {
  id: string;
  title: string;
  status: CheckStatus;
  found: string;
  fix: string;
  action?: CheckAction;
}

type Check = {
  id: string;
  title: string;
  /** Checks that must not fail for this one to say anything of its own (the root causes it shares). */
  needs?: string[];
  /** Says nothing of its own while the settings cannot be read (the Settings check says why, with the fix). */
  readsSettings?: true;
  run: (svc: Services, settings: Settings | null) => Omit<CheckResult, 'id' | 'title'>;
};

const pass = (found: string) => ({ status: 'pass' as const, found, fix: '' });
const failWith = (m: Message, found = m.text) => ({ status: 'fail' as const, found, fix: m.fix });

function directoryCheck(read: (svc: Services) => string) {
  return (svc: Services) => {
    try {
      return pass(read(svc));
    } catch (error) {
      return failWith(toMessage(error));
    }
  };
}

const CHECKS: Check[] = [
  {
    id: 'installed',
    title: 'Roster Sync is installed and authorized',
    run: (svc) => {
      const auth = svc.session.authorization();
      if (auth.required) return failWith({ ...msg('notInstalled'), fix: `${msg('notInstalled').fix} ${msg('authorizationRequired', { url: auth.url || 'the add-on menu' }).fix}` });
      const installer = svc.config.get(KEYS.installer);
      return installer ? pass(`Installed and linked by ${installer}; scheduled syncs run as ${svc.config.get(KEYS.syncAccount) || installer}.`) : failWith(msg('notLinked'));
    },
  },
  {
    id: 'apiAccess',
    title: 'Admin SDK API access is enabled',
    run: (svc) => {
      try {
        svc.directory.listOrgUnits();
        return pass('The Directory API answered.');
      } catch (error) {
        if (error instanceof DirectoryError && error.info.failure === 'apiDisabled') return failWith(msg('apiDisabled'));
        // Any other refusal means the API itself is on; the next checks say what is missing.
        return pass('The Directory API is reachable.');
      }
    },
  },
  {
    id: 'readUsers',
    needs: ['apiAccess'],
    title: 'The sync account can read users',
    run: directoryCheck((svc) => {
      const me = svc.session.effectiveUserEmail();
      const user = me ? svc.directory.getUser(me) : null;
      return user ? `Read ${user.email} from the directory.` : 'Users can be read.';
    }),
  },
  {
    id: 'readOrgUnits',
    needs: ['apiAccess'],
    title: 'The sync account can read organizational units',
    run: directoryCheck((svc) => `${svc.directory.listOrgUnits().length} organizational units found.`),
  },
  {
    id: 'readGroups',
    needs: ['apiAccess'],
    title: 'The sync account can read groups',
    run: directoryCheck((svc) => `${svc.directory.listGroupsPage('', null).items.length} groups found (first page).`),
  },
  {
    id: 'incremental',
    title: 'Incremental syncs can read the admin activity log',
    needs: ['apiAccess'],
    // Without the Reports privilege (or the audit scope) only the daily full syncs run: a warning, not a failure.
    run: (svc, settings) => {
      if (settings && !settings.incremental) return pass('Incremental syncs are off (Settings); only full syncs run.');
      const now = svc.clock.nowMs();
      try {
        svc.audit.listEventsPage('admin', now - 60 * 60_000, now, null);
        return pass('The admin activity log answered: between the daily full syncs, each hourly run applies what changed.');
      } catch (error) {
        const m = toMessage(error);
        return { status: 'warning', found: m.text, fix: m.fix };
      }
    },
  },
  {
    id: 'mappings',
    needs: ['apiAccess', 'readOrgUnits', 'readGroups'],
    title: 'Every mapped OU and group exists and matches someone',
    readsSettings: true,
    run: (svc, settings) => {
      if (!settings) return failWith(msg('corruptSettings', { problem: 'see the Settings check' }));
      if (!settings.rules.length) return { status: 'warning', found: msg('noRules').text, fix: msg('noRules').fix };
      const ous = new Set(svc.directory.listOrgUnits().map((o) => o.orgUnitPath.toLowerCase()));
      ous.add('/');
      const broken: Message[] = [];
      const empty: Message[] = [];
      for (const rule of settings.rules) {
        const rule_ = describeRule(rule);
        if (rule.type === 'ou') {
          if (!ous.has(rule.orgUnitPath.toLowerCase())) broken.push(msg('ouMissing', { path: rule.orgUnitPath, rule: rule_ }));
          else if (!svc.directory.ouHasUsers(rule.orgUnitPath)) empty.push(msg('ruleMatchesNobody', { rule: rule_ }));
        } else {
          const page = svc.directory.listMembersPage(rule.groupEmail, null);
          if (page === null) broken.push(msg('groupMissing', { email: rule.groupEmail, rule: rule_ }));
          else if (!page.items.length) empty.push(msg('ruleMatchesNobody', { rule: rule_ }));
        }
      }
      if (broken.length) return { status: 'fail', found: broken.map((b) => b.text).join(' '), fix: broken[0].fix };
      if (empty.length) return { status: 'warning', found: empty.map((b) => b.text).join(' '), fix: empty[0].fix };
      return pass(`${settings.rules.length === 1 ? "The rule points" : `All ${settings.rules.length} rules point`} at existing OUs and groups with members.`);
    },
  },
  {
    id: 'trigger',
    title: 'The schedule trigger is installed once',
    run: (svc) => {
      const mine = svc.triggers.list().filter((t) => t.handler === SCHEDULE_HANDLER);
      if (mine.length === 1) return pass('One hourly trigger runs scheduled syncs.');
      if (mine.length > 1) return { status: 'warning', found: `${mine.length} triggers run scheduled syncs.`, fix: 'Save the schedule once to remove the extra triggers.' };
      const owner = svc.config.get(KEYS.syncAccount);
      const me = svc.session.activeUserEmail();
      if (owner && owner !== me) return { status: 'warning', found: `Scheduled syncs run as ${owner}; their trigger is not visible to ${me || 'you'}.`, fix: `Sign in as ${owner} and run Finalize sync to check it.` };
      // The sync account can reinstall it in one click; anyone else would install a trigger that does nothing.
      return { ...failWith(msg('triggerMissing')), ...(owner && owner === me ? { action: 'reinstallTrigger' as const } : {}) };
    },
  },
  {
    id: 'destination',
    title: 'The roster destination can be read and written',
    readsSettings: true,
    // Each destination knows how to check itself (a sheet: writable and readable; an app: a cheap probe).
    run: (svc, settings) => {
      const destination = svc.destinations.get(settings?.destination ?? EMBEDDED_DESTINATION);
      if (!destination) return failWith(msg('corruptSettings', { problem: `the destination ${settings?.destination} is not known to this version` }));
      return destination.check(svc, settings ? destinationSettingsOf(settings) : null);
    },
  },
  {
    id: 'settings',
    title: 'Settings are valid and the last sync succeeded',
    run: (svc, settings) => {
      if (!settings) {
        try {
          readSettings(svc);
        } catch (error) {
          return failWith(toMessage(error));
        }
      }
      const last = lastFullSyncEntry(svc);
      if (!last) return pass('Settings are valid; no sync has run yet.');
      if (last.outcome === 'success') return pass(`Settings are valid; the last sync (${last.finishedAt}) succeeded.`);
      return { status: last.outcome === 'failed' ? 'fail' : 'warning', found: `The last sync (${last.finishedAt}) ${OUTCOME_WORDS[last.outcome]}: ${last.message}`, fix: last.fix };
    },
  },
];

const OUTCOME_WORDS: Record<SyncOutcome, string> = { success: 'succeeded', warning: 'finished with changes held back', failed: 'failed', halted: 'was halted', partial: 'was partly applied', discarded: 'was discarded', changed: 'changed settings' };

/**
 * Runs the checks in order. A check whose root cause already failed (API access disabled) is
 * not run: the failure is said once, with its fix, instead of repeated by every check after it.
 */
export function runChecks(svc: Services): CheckResult[] {
  let settings: Settings | null = null;
  try {
    settings = readSettings(svc);
  } catch {
    settings = null;
  }
  const done = new Map<string, CheckResult>();
  const settingsCheck = CHECKS.find((c) => c.id === 'settings')!;
  for (const check of CHECKS) {
    const blocker = (check.needs ?? []).map((id) => done.get(id)).find((r) => r && (r.status === 'fail' || r.status === 'notRun'));
    if (blocker) done.set(check.id, notRun(check, blocker));
    else if (check.readsSettings && !settings) done.set(check.id, { id: check.id, title: check.title, status: 'notRun', found: `Not run: the settings cannot be read (see “${settingsCheck.title}”).`, fix: '' });
    else done.set(check.id, runOne(svc, check, settings));
  }
  return [...done.values()];
}

function notRun(check: Check, blocker: CheckResult): CheckResult {
  const root = blocker.status === 'notRun' ? blocker.found : `Not run: “${blocker.title}” failed first.`;
  return { id: check.id, title: check.title, status: 'notRun', found: root, fix: '' };
}

function runOne(svc: Services, check: Check, settings: Settings | null): CheckResult {
  try {
    return { id: check.id, title: check.title, ...check.run(svc, settings) };
  } catch (error) {
    const m = toMessage(error);
    return { id: check.id, title: check.title, status: 'fail', found: m.text, fix: m.fix };
  }
}
