import { UsageError } from './exit.js';
export async function runController(_opts: Record<string, unknown>): Promise<number> {
  throw new UsageError('controller is not implemented yet');
}
