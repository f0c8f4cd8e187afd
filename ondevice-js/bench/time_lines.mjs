#!/usr/bin/env node
// Times the TypeScript runtime call by call, in process (benchmarks/ondevice_parity.py
// runs it beside the Python runtime): lines on stdin, one JSON object on stdout with
// each answer and its milliseconds, the load time and the RSS the load added.
//   node bench/time_lines.mjs complete MODEL [SPELLING_MODEL]
//   node bench/time_lines.mjs correct SPELLING_MODEL
import {createInterface} from 'node:readline';
import {QueryCompleter, SpellingCorrector} from '../dist/index.js';

const [command, model, spelling] = process.argv.slice(2);
const rssBefore = process.memoryUsage().rss;
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
const rssAdded = process.memoryUsage().rss - rssBefore; // LiteRT.js's WebAssembly included
// A second load, LiteRT.js already started: what the model folder itself costs.
const again = performance.now();
if (command === 'complete') await QueryCompleter.load(model);
const reloadMs = performance.now() - again;
const answers = [];
const ms = [];
for await (const line of createInterface({input: process.stdin, crlfDelay: Infinity})) {
  const start = performance.now();
  answers.push(await answer(line));
  ms.push(performance.now() - start);
}
process.stdout.write(JSON.stringify({load_ms: loadMs, reload_ms: reloadMs, rss_added_bytes: rssAdded, answers, ms}) + '\n');
