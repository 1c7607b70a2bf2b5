// Placeholder written by the CLI framework so main.ts type-checks; the lead replaces it with the worker.
import type { Config } from '../config.js';

export async function serve(config: Config): Promise<void> {
  void config;
}
