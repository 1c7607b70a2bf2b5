// placeholder, replaced below
import type { IoRow } from './io-report.js';
export interface CaldavSize { readonly meetings: number }
export const CALDAV_FULL: CaldavSize = { meetings: 300 };
export const CALDAV_QUICK: CaldavSize = { meetings: 50 };
export async function caldavScenario(_size: CaldavSize, _workDir: string, _keep: boolean): Promise<IoRow[]> { return []; }
