/**
 * `nlpkit-ondevice complete --model DIR [--spelling-model DIR2] [--k 3] [--variant int8]`:
 * typed prefixes on stdin, one a line (a trailing space asks for the next word); one
 * JSON array of suggestions a line on stdout. The same contract as `nlpkit complete --json`.
 *
 * With `--phrases N`, an entry may be a phrase of up to N words, printed with its
 * spaces. With `--history FILE` (the user's local history, created if missing), a line ending
 * in a tab is a submitted query: it is learnt, FILE is replaced atomically (written
 * beside it, then renamed), and the answer is `[]`.
 *
 * `nlpkit-ondevice correct --model DIR [--k 5] [--variant dynamic_int8]`: one word a
 * line on stdin; one JSON array of corrections a line, best first. The same contract
 * as `nlpkit correct --json`. With `--context`, each line is a sentence, corrected in
 * context; one JSON object a line, `{"text", "corrected", "changes": [{"start", "end",
 * "typed", "output"}]}` (code-point offsets), as `nlpkit correct --context --json`. A
 * model trained without `--context-corpus` is refused, naming `context_lm.bin`.
 *
 * `nlpkit-ondevice translate --model DIR [--variant float32] [--beam K]`: one sentence a
 * line on stdin; one translation a line (plain text), as the Python runtime's
 * `Translator.translate` gives it. `--beam` is from 1 (greedy) to the export's
 * num_beams, its default.
 *
 * A bad folder or file is one `nlpkit-ondevice: error: …` line and exit 2.
 */
import {existsSync, readFileSync, renameSync, writeFileSync} from 'node:fs';
import {createInterface} from 'node:readline';
import {UserInputError} from './errors.js';
import {LocalHistory} from './local_history.js';
import {QueryCompleter} from './query_completer.js';
import {applied} from './sentence_corrector.js';
import {SpellingCorrector} from './spelling_corrector.js';
import {Translator} from './translator.js';

const USAGE =
  'usage: nlpkit-ondevice complete --model DIR [--spelling-model DIR2] [--k N] [--variant VARIANT] [--history FILE] [--phrases N] | ' +
  'nlpkit-ondevice correct --model DIR [--k N] [--variant VARIANT] [--context] | ' +
  'nlpkit-ondevice translate --model DIR [--variant VARIANT] [--beam K]';
const FLAGS: Record<string, string[]> = {
  complete: ['--model', '--spelling-model', '--k', '--variant', '--history', '--phrases'],
  correct: ['--model', '--k', '--variant', '--context'],
  translate: ['--model', '--variant', '--beam'],
};
const SWITCHES = new Set(['--context']); // flags that take no value

function parse(argv: string[]): {command: string; options: Map<string, string>} {
  const [command, ...rest] = argv;
  if (!(command in FLAGS)) throw new UserInputError(`command: choose complete, correct or translate. Received: ${command} (${USAGE})`);
  const options = new Map<string, string>();
  for (let i = 0; i < rest.length; i += 2) {
    const flag = rest[i];
    if (SWITCHES.has(flag) && FLAGS[command].includes(flag)) {
      options.set(flag, '');
      i -= 1;
      continue;
    }
    if (!FLAGS[command].includes(flag) || i + 1 >= rest.length) {
      throw new UserInputError(`${flag}: not an argument of ${command} (${USAGE})`);
    }
    options.set(flag, rest[i + 1]);
  }
  if (!options.has('--model')) throw new UserInputError(`--model: required (${USAGE})`);
  return {command, options};
}

function positive(options: Map<string, string>, flag: string, fallback: number): number {
  const value = Number(options.get(flag) ?? fallback);
  if (!Number.isInteger(value) || value < 1) {
    throw new UserInputError(`${flag}: a positive integer. Received: ${options.get(flag)}`);
  }
  return value;
}

/** Answers each stdin line with one JSON line, in order. */
async function answerLines(answer: (line: string) => Promise<unknown>): Promise<void> {
  const lines = createInterface({input: process.stdin, crlfDelay: Infinity});
  for await (const line of lines) process.stdout.write(JSON.stringify(await answer(line)) + '\n');
}

async function complete(options: Map<string, string>): Promise<void> {
  const k = positive(options, '--k', 3);
  const maxWords = positive(options, '--phrases', 1);
  const spelling = options.get('--spelling-model');
  const corrector =
    spelling === undefined ? undefined : await SpellingCorrector.load(spelling, {argument: '--spelling-model'});
  const file = options.get('--history');
  const history =
    file === undefined
      ? undefined
      : existsSync(file)
        ? LocalHistory.fromText(readFileSync(file, 'utf-8'), {}, (m) => process.stderr.write(`${file}: ${m}\n`))
        : new LocalHistory();
  const completer = await QueryCompleter.load(options.get('--model')!, {
    variant: options.get('--variant') ?? 'int8',
    corrector,
    history,
  });
  await answerLines(async (line) => {
    if (history === undefined || !line.endsWith('\t')) return completer.suggest(line, k, maxWords);
    history.learn(line); // submitted
    writeFileSync(`${file}.tmp`, history.toText());
    renameSync(`${file}.tmp`, file!);
    return [];
  });
}

async function correct(options: Map<string, string>): Promise<void> {
  const k = positive(options, '--k', 5);
  const corrector = await SpellingCorrector.load(options.get('--model')!, {variant: options.get('--variant')});
  if (options.has('--context')) {
    const sentences = await corrector.sentenceCorrector(); // refuses a model without the LM before any input
    await answerLines(async (text) => {
      const decisions = await sentences.decisions(text);
      const changes = decisions.filter((d) => d.output !== d.typed).map(({start, end, typed, output}) => ({start, end, typed, output}));
      return {text, corrected: applied(text, decisions), changes};
    });
    return;
  }
  await answerLines(async (line) => (await corrector.correct(line, k)).map(([word]) => word));
}

async function translate(options: Map<string, string>): Promise<void> {
  const translator = await Translator.load(options.get('--model')!, {variant: options.get('--variant')});
  const beam = positive(options, '--beam', translator.numBeams);
  if (beam > translator.numBeams) {
    throw new UserInputError(`--beam: from 1 to ${translator.numBeams} (the export's num_beams). Received: ${beam}`);
  }
  const lines = createInterface({input: process.stdin, crlfDelay: Infinity});
  for await (const line of lines) process.stdout.write(`${await translator.translate(line, beam)}\n`);
}

const COMMANDS: Record<string, (options: Map<string, string>) => Promise<void>> = {complete, correct, translate};

export async function main(argv: string[]): Promise<number> {
  try {
    const {command, options} = parse(argv);
    await COMMANDS[command](options);
    return 0;
  } catch (error) {
    if (error instanceof UserInputError) {
      process.stderr.write(`nlpkit-ondevice: error: ${error.message}\n`);
      return 2;
    }
    throw error;
  }
}
