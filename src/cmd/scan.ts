import { UsageError } from './exit.js';
export async function runScan(_paths: string[], _opts: Record<string, unknown>): Promise<number> {
  throw new UsageError('scan is not implemented yet');
}
