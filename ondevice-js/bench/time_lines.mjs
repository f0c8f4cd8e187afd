#!/usr/bin/env node
// Times the TypeScript runtime call by call, in process (benchmarks/ondevice_parity.py
// runs it beside the Python runtime): lines on stdin, one JSON object on stdout with
// each answer and its milliseconds, and the load time.
//   node bench/time_lines.mjs complete MODEL [SPELLING_MODEL]
//   node bench/time_lines.mjs correct SPELLING_MODEL
import {createInterface} from 'node:readline';
import {QueryCompleter, SpellingCorrector} from '../dist/index.js';

const [command, model, spelling] = process.argv.slice(2);
const started = performance.now();
let answer;
if (command === 'complete') {
  const corrector = spelling ? await SpellingCorrector.load(spelling) : undefined;
  const completer = await QueryCompleter.load(model, {corrector});
  answer = (line) => completer.suggest(line, 3);
} else {
  const corrector = await SpellingCorrector.load(model);
  answer = async (line) => (await corrector.correct(line, 5)).map(([word]) => word);
}
const loadMs = performance.now() - started;
const answers = [];
const ms = [];
for await (const line of createInterface({input: process.stdin, crlfDelay: Infinity})) {
  const start = performance.now();
  answers.push(await answer(line));
  ms.push(performance.now() - start);
}
process.stdout.write(JSON.stringify({load_ms: loadMs, answers, ms}) + '\n');
