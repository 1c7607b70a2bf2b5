// The variable test/run.ts sets to the run's shared folder (demo-template.ts keeps the run's demo templates there);
// unset for a file run on its own. Apart from demo-template.ts, which the runner's own process must not load.
export const SHARED_DIR_ENV = 'MMS_TEST_SHARED_DIR';
