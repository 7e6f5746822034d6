// Google Groups chosen as app groups, on the Roster sheet: a Groups column lists the selected
// groups each account belongs to, nested membership flattened.
import { later, world } from './harness';
import { DEMO_DOMAIN } from '../../emulator/domain';

const at = (local: string) => `${local}@${DEMO_DOMAIN}`;

test('the Groups column lists the selected Google Groups each account is in, nested groups (and a cycle) flattened', () => {
  const w = world();
  w.save({ appGroups: [at('all-teachers'), at('robotics-club'), at('counselors')] });
  const d = w.rt.directory;
  expect(w.call('syncNow', {}).state).toBe('done');
  expect(w.rt.sheetValues('Roster')[0][11]).toBe('Groups');
  const groupsOf = (email: string) => w.roster().find((r) => r.Email === email)!.Groups;
  // Computed from the directory independently of the add-on: nested membership, a cycle visited once.
  const selected = [at('all-teachers'), at('robotics-club'), at('counselors')];
  const expected = (id: string) => selected.filter((g) => d.isMemberDeep(d.findGroup(g)!, id)).join(', ');
  for (const row of w.roster()) expect([row.Email, row.Groups]).toEqual([row.Email, expected(row.ID)]);
  const inTwo = w.roster().filter((r) => r.Groups.includes(', '));
  expect(inTwo.length).toBeGreaterThan(0);
  // robotics-club ⊃ stem-club ⊃ robotics-club: stem-club's own students are robotics-club members too.
  const stemOnly = d.findGroup(at('stem-club'))!.members.filter((m) => m.type === 'USER').map((m) => d.userById(m.id)!)[0];
  expect(groupsOf(stemOnly.primaryEmail)).toBe(at('robotics-club'));
  const counselorTeacher = d.userById(inTwo.find((r) => r.Groups === [at('all-teachers'), at('counselors')].join(', '))!.ID)!;
  const student = d.allUsers().find((u) => u.orgUnitPath === '/Students/Jefferson Elementary/Grade 1' && !u.suspended)!;
  expect(groupsOf(student.primaryEmail)).toBe('');

  later(w);
  expect(w.call('syncNow', {})).toMatchObject({ state: 'done', message: 'No changes.' });

  // Joining a nested group is a change of the account, with its reason.
  d.addMember(at('stem-club'), student.primaryEmail);
  later(w);
  const change = w.call('explainUser', { email: student.primaryEmail }).changes[0];
  expect(change).toMatchObject({ kind: 'update', reasons: [`joined the Google Groups ${at('robotics-club')}`] });
  w.call('syncNow', {});
  expect(groupsOf(student.primaryEmail)).toBe(at('robotics-club'));

  // A selected group that vanished from Google: nobody is taken out of it until it is back or deselected.
  d.deleteGroup(at('counselors'));
  later(w);
  expect(w.call('previewSync').changes.filter((c: { reasons: string[] }) => c.reasons.some((r) => r.includes('counselors')))).toEqual([]);
  expect(groupsOf(counselorTeacher.primaryEmail)).toBe([at('all-teachers'), at('counselors')].join(', '));
});
