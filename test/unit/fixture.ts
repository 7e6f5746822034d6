// A small school for unit tests: students by grade, teachers, an admin, groups.
import { Rule } from '../../src/core/settings';
import { TestWorld, makeWorld } from '../fakes/memory';

export const RULES: Rule[] = [
  { id: 'students', type: 'ou', orgUnitPath: '/Students', includeSubOrgUnits: true, role: 'student' },
  { id: 'teachers', type: 'ou', orgUnitPath: '/Staff/Teachers', includeSubOrgUnits: true, role: 'teacher' },
  { id: 'admins', type: 'ou', orgUnitPath: '/Staff/Admin', includeSubOrgUnits: false, role: 'admin' },
  { id: 'coaches', type: 'group', groupEmail: 'coaches@school.example', role: 'teacher' },
];

export function school(): TestWorld {
  const w = makeWorld();
  const d = w.directory;
  for (const ou of ['/Students', '/Students/2025', '/Students/2026', '/Staff', '/Staff/Teachers', '/Staff/Admin', '/Staff/Support', '/Alumni']) d.addOu(ou);
  d.addUser('100000000000000000001', 'ana@school.example', 'Ana Lima', '/Students/2025');
  d.addUser('100000000000000000002', 'ben@school.example', 'Ben Ng', '/Students/2025');
  d.addUser('100000000000000000003', 'cy@school.example', 'Cy Ortiz', '/Students/2026');
  d.addUser('100000000000000000004', 'dee@school.example', 'Dee Park', '/Staff/Teachers');
  d.addUser('100000000000000000005', 'eve@school.example', 'Eve Quinn', '/Staff/Admin');
  d.addUser('100000000000000000006', 'fay@school.example', 'Fay Roth', '/Staff/Support');
  d.addUser('100000000000000000007', 'gus@school.example', 'Gus Shaw', '/Staff/Support', { suspended: true });
  d.addUser('100000000000000000008', 'hal@school.example', 'Hal Tran', '/Students/2026', { suspended: true });
  // Fay coaches through a nested group; the nesting has a cycle.
  d.groups.set('coaches@school.example', { email: 'coaches@school.example', userIds: [], groupEmails: ['assistant-coaches@school.example'] });
  d.groups.set('assistant-coaches@school.example', { email: 'assistant-coaches@school.example', userIds: ['100000000000000000006'], groupEmails: ['coaches@school.example'] });
  w.setSettings({ rules: RULES });
  return w;
}
