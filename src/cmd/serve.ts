import { UsageError } from './exit.js';
export async function runServe(_opts: Record<string, unknown>): Promise<number> {
  throw new UsageError('serve is not implemented yet');
}
