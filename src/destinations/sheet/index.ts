// The embedded default destination: the roster as a sheet of this spreadsheet.
import { Destination } from '../../core/ports';
import { toMessage } from '../../core/messages';
import { rosterProblem } from '../../core/sync';
import { EMBEDDED_DESTINATION } from '../../core/settings';
import { OpenContext } from '../context';
import { GROUPS_COLUMN, ROSTER_COLUMNS, SheetRoster } from './sheetRoster';

export const sheetDestination: Destination<never, OpenContext> = {
  id: EMBEDDED_DESTINATION,
  label: 'a sheet of this spreadsheet',
  describe: () => 'Roster',
  reservedAttributeNames: ROSTER_COLUMNS,
  open: (context) => {
    const attributes = (context.settings?.attributes ?? []).map((a) => a.name);
    return new SheetRoster(context.spreadsheet, context.settings?.appGroups?.length ? [...attributes, GROUPS_COLUMN] : attributes);
  },
  check(svc) {
    try {
      svc.roster.checkWritable();
      const { accounts, problems } = svc.roster.readAll();
      if (problems.length) {
        const m = rosterProblem(svc.roster.kind, problems);
        return { status: 'warning', found: `${problems.length} rows cannot be read. ${m.text}`, fix: m.fix };
      }
      return { status: 'pass', found: `${accounts.length} accounts in ${svc.roster.kind}.`, fix: '' };
    } catch (error) {
      const m = toMessage(error);
      return { status: 'fail', found: m.text, fix: m.fix };
    }
  },
};
