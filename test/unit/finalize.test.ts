import { runChecks } from '../../src/core/finalize';
import { ensureTrigger } from '../../src/core/triggers';
import { school } from './fixture';

function world() {
  const w = school();
  ensureTrigger(w.svc);
  return w;
}
const status = (w: ReturnType<typeof world>) => Object.fromEntries(runChecks(w.svc).map((c) => [c.id, c.status]));
const check = (w: ReturnType<typeof world>, id: string) => runChecks(w.svc).find((c) => c.id === id)!;
const googleError = (code: number, reason: string, message: string) => Object.assign(new Error(`API call failed with error: ${message}`), { details: { code, errors: [{ reason }] } });

test('a healthy setup passes every check, in order', () => {
  const w = world();
  expect(runChecks(w.svc).map((c) => [c.id, c.status])).toEqual([
    ['installed', 'pass'],
    ['apiAccess', 'pass'],
    ['readUsers', 'pass'],
    ['readOrgUnits', 'pass'],
    ['readGroups', 'pass'],
    ['incremental', 'pass'],
    ['mappings', 'pass'],
    ['trigger', 'pass'],
    ['destination', 'pass'],
    ['settings', 'pass'],
  ]);
});

test('each failure is reported with its catalog message and fix, without hiding the others', () => {
  let w = world();
  w.svc.session = { ...w.svc.session, authorization: () => ({ required: true, url: 'https://script.google.com/auth' }) };
  expect(check(w, 'installed')).toMatchObject({ status: 'fail', found: 'Roster Sync has not been properly installed in Google Workspace.' });
  expect(check(w, 'installed').fix).toContain('https://script.google.com/auth');

  w = world();
  w.directory.failOn = () => googleError(403, 'domainCannotUseApis', 'Domain cannot use apis.');
  const checks = runChecks(w.svc);
  expect(checks.find((c) => c.id === 'apiAccess')).toMatchObject({ status: 'fail', found: 'The API access has been disabled in the Google Admin console settings.' });
  expect(checks.find((c) => c.id === 'apiAccess')!.fix).toContain('Security → Access and data control → API controls');
  expect(checks.find((c) => c.id === 'trigger')!.status).toBe('pass');

  w = world();
  w.directory.failOn = () => googleError(403, 'forbidden', 'Not Authorized to access this resource/api');
  expect(status(w)).toMatchObject({ apiAccess: 'pass', readUsers: 'fail', readOrgUnits: 'fail', readGroups: 'fail' });
  expect(check(w, 'readUsers').found).toBe('This account cannot access the Google Workspace Directory.');
  expect(check(w, 'readUsers').fix).toContain('Organizational Units → Read, Users → Read and Groups → Read');

  w = world();
  w.directory.orgUnits = w.directory.orgUnits.filter((o) => o.orgUnitPath !== '/Staff/Admin');
  expect(check(w, 'mappings')).toMatchObject({ status: 'fail', found: 'The organizational unit /Staff/Admin in rule "OU /Staff/Admin → admin" no longer exists in Google Workspace.' });

  w = world();
  w.directory.user('eve@school.example').orgUnitPath = '/Staff/Support';
  expect(check(w, 'mappings')).toMatchObject({ status: 'warning', found: 'The rule "OU /Staff/Admin → admin" matches no user right now.' });

  w = world();
  w.triggers.triggers = [];
  expect(check(w, 'trigger')).toMatchObject({ status: 'fail', found: 'The schedule trigger is not installed.' });

  w = world();
  w.roster.protectedSheet = true;
  expect(check(w, 'destination')).toMatchObject({ status: 'fail', found: 'The roster sheet "Roster" cannot be written: it is protected.' });

  w = world();
  w.config.set('settings', '{"rules": [');
  expect(check(w, 'settings')).toMatchObject({ status: 'fail', found: 'The saved settings cannot be read: the stored value is not valid JSON.' });
});
