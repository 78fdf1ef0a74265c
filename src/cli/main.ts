// CLI entry: `npm run -s cli -- <command> [args...]`.
// Each command lives in src/cli/<command>.ts and exports `run(args)` and a one-line `usage`.
// Adding a command is one import and one entry in COMMANDS.

import { describe } from '../errors';
import { UsageError } from './args';
import * as embedImage from './embed-image';
import * as embedText from './embed-text';
import * as preprocess from './preprocess';
import * as tokenize from './tokenize';

interface Command {
  usage: string;
  run(args: string[]): Promise<void>;
}

const COMMANDS: Record<string, Command> = {
  tokenize,
  preprocess,
  'embed-image': embedImage,
  'embed-text': embedText,
};

const EXIT_USAGE = 2;
const EXIT_FAILURE = 1;

function usageText(): string {
  const lines = Object.values(COMMANDS).map((command) => `  ${command.usage}`);
  return `usage: npm run -s cli -- <command> [args...]\ncommands:\n${lines.join('\n')}\n`;
}

async function main(argv: string[]): Promise<number> {
  const [name, ...args] = argv;
  if (name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(usageText());
    return 0;
  }
  const command = name !== undefined && Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : undefined;
  if (!command) {
    process.stderr.write(name === undefined ? usageText() : `unknown command: ${name}\n${usageText()}`);
    return EXIT_USAGE;
  }
  try {
    await command.run(args);
    return 0;
  } catch (error) {
    if (error instanceof UsageError) {
      process.stderr.write(`${name}: ${error.message}\nusage: ${command.usage}\n`);
      return EXIT_USAGE;
    }
    process.stderr.write(`${name}: ${describe(error)}\n`);
    return EXIT_FAILURE;
  }
}

// exitCode rather than process.exit() so pending stdout writes are flushed first.
process.exitCode = await main(process.argv.slice(2));
