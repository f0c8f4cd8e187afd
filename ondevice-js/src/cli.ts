/**
 * `nlpkit-ondevice complete --model DIR [--k 3] [--variant int8]`: typed prefixes on
 * stdin, one a line (a trailing space asks for the next word); one JSON array of
 * suggestions a line on stdout. The same contract as `nlpkit complete --json`.
 * A bad folder or file is one `nlpkit-ondevice: error: …` line and exit 2.
 */
import {createInterface} from 'node:readline';
import {UserInputError} from './errors.js';
import {QueryCompleter} from './query_completer.js';

const USAGE = 'usage: nlpkit-ondevice complete --model DIR [--k N] [--variant VARIANT]';

function parse(argv: string[]): {command: string; options: Map<string, string>} {
  const [command, ...rest] = argv;
  const options = new Map<string, string>();
  for (let i = 0; i < rest.length; i += 2) {
    const flag = rest[i];
    if (!['--model', '--k', '--variant', '--spelling-model'].includes(flag) || i + 1 >= rest.length) {
      throw new UserInputError(`${flag}: not an argument of ${command} (${USAGE})`);
    }
    options.set(flag, rest[i + 1]);
  }
  return {command, options};
}

async function complete(options: Map<string, string>): Promise<void> {
  const model = options.get('--model');
  if (model === undefined) throw new UserInputError(`--model: required (${USAGE})`);
  if (options.has('--spelling-model')) {
    throw new UserInputError(
      `--spelling-model: typo-tolerant completion needs the spelling corrector, which this ` +
        `runtime does not have yet (use nlpkit complete). Received: ${options.get('--spelling-model')}`,
    );
  }
  const k = Number(options.get('--k') ?? '3');
  if (!Number.isInteger(k) || k < 1) throw new UserInputError(`--k: a positive integer. Received: ${options.get('--k')}`);
  const completer = await QueryCompleter.load(model, {variant: options.get('--variant') ?? 'int8'});
  const lines = createInterface({input: process.stdin, crlfDelay: Infinity});
  for await (const line of lines) {
    process.stdout.write(JSON.stringify(await completer.suggest(line, k)) + '\n');
  }
}

export async function main(argv: string[]): Promise<number> {
  try {
    const {command, options} = parse(argv);
    if (command !== 'complete') throw new UserInputError(`command: choose complete. Received: ${command} (${USAGE})`);
    await complete(options);
    return 0;
  } catch (error) {
    if (error instanceof UserInputError) {
      process.stderr.write(`nlpkit-ondevice: error: ${error.message}\n`);
      return 2;
    }
    throw error;
  }
}
