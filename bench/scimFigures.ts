// Figures the SCIM bench (bench/scim.ts) and bench/render.ts share.

/** Google: "URL Fetch calls … 100,000 / day" for a Google Workspace account (developers.google.com/apps-script/guides/services/quotas). */
export const WORKSPACE_URLFETCH_PER_DAY = 100_000;
/** The district size whose first sync the days are computed for. */
export const TARGET_USERS = 100_000;
/**
 * The share of the daily quota Roster Sync leaves for the sidebar, Finalize and Test connection: the
 * product's own figure (src/destinations/scim/quota.ts), the one input of the days that is not Google's.
 */
export const HEADROOM_SHARE = 0.05;
