// Argument handling shared by the CLI commands.

import { parseArgs, type ParseArgsConfig } from 'node:util';

/** Thrown by a command for a malformed command line; the dispatcher prints usage and
 *  exits with status 2 (other errors exit with 1). */
export class UsageError extends Error {
  override name = 'UsageError';
}

/** node:util parseArgs in strict mode, with its errors turned into UsageError. */
export function parseCommandArgs<Options extends NonNullable<ParseArgsConfig['options']>>(
  args: string[],
  options: Options,
) {
  try {
    return parseArgs({ args, options, allowPositionals: true, strict: true });
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    if (typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS')) {
      throw new UsageError((error as Error).message);
    }
    throw error;
  }
}
