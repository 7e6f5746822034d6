// The rule picker's group search on the built bundle: a group is found by the start of its email or of its name.
import { world } from './harness';

const emails = (r: { groups: { email: string }[] }) => r.groups.map((g) => g.email.split('@')[0]).sort();

test('groups are found by the start of their email or of their name, each once', () => {
  const w = world();
  expect(emails(w.call('listGroups', { query: 'admins' }))).toEqual(['admins']);
  expect(emails(w.call('listGroups', { query: 'District' }))).toEqual(['admins']);
  expect(emails(w.call('listGroups', { query: 'coun' }))).toEqual(['counselors']);
  // A name with a space is quoted, as the Directory API's search guide asks.
  expect(emails(w.call('listGroups', { query: 'Lincoln High T' }))).toEqual(['lincoln-teachers']);
  expect(emails(w.call('listGroups', { query: 'robotics' }))).toEqual(['robotics-club']);
  expect(w.call('listGroups', { query: 'nobody-by-that-name' })).toEqual({ groups: [], nextPageToken: null });
});
