// The Contoso demo organization: Initialize-MmsDemo, and `mms serve` on a new database.
export { loadDemo, loadDemoIfEmpty, describeDemo, DEFAULT_DEMO_SEED, type DemoSummary, type LoadDemoOptions, type NextStep } from './load-demo.js';
