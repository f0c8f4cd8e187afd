#!/usr/bin/env node
// The TypeScript Translator beside the Python one on the first N val sentences: the
// fraction of identical translations and ms per sentence in each runtime (one sentence
// at a time, one thread; encode, the search's decode_step calls and SentencePiece).
// One JSON object on stdout. Build first (`npx tsc -p .`); run from ondevice-js/:
//   node bench/translate_val.mjs --model ../runs/translation-transformer/export \
//     [--data ../../shared/data/translation/multi30k/val.en.gz] [--limit 200] [--beam 4] \
//     [--variants float32,dynamic_int8] [--python ../.venv/bin/python] [--runtime browser]
// `--runtime browser` runs the TypeScript Translator in headless Chromium instead of
// Node (e2e/translate_in_browser.mjs; [--chromium /usr/bin/chromium]).
import {spawnSync} from 'node:child_process';
import {readFileSync} from 'node:fs';
import {dirname, resolve} from 'node:path';
import {fileURLToPath} from 'node:url';
import {gunzipSync} from 'node:zlib';
import {Translator} from '../dist/index.js';

const here = dirname(fileURLToPath(import.meta.url));
const flags = {
  '--model': resolve(here, '../../runs/translation-transformer/export'),
  '--data': resolve(here, '../../../shared/data/translation/multi30k/val.en.gz'),
  '--limit': '200',
  '--beam': '4',
  '--variants': 'float32,dynamic_int8',
  '--python': resolve(here, '../../.venv/bin/python'),
  '--runtime': 'node',
  '--chromium': '/usr/bin/chromium',
};
const argv = process.argv.slice(2);
for (let i = 0; i < argv.length; i += 2) {
  if (!(argv[i] in flags) || i + 1 >= argv.length) throw new Error(`${argv[i]}: not an argument (${Object.keys(flags)})`);
  flags[argv[i]] = argv[i + 1];
}
flags['--model'] = resolve(flags['--model']); // the Python runtime runs from the repository root
const beam = Number(flags['--beam']);
if (!['node', 'browser'].includes(flags['--runtime'])) throw new Error(`--runtime: node or browser, not ${flags['--runtime']}`);
const raw = readFileSync(flags['--data']);
const text = (flags['--data'].endsWith('.gz') ? gunzipSync(raw) : raw).toString('utf-8');
const sentences = text.split('\n').filter((line) => line.trim()).slice(0, Number(flags['--limit']));

// The Python runtime, timed the same way, in a process of its own (no TensorFlow).
const PYTHON = `
import json, sys, time
from keras_nlpkit.ondevice import Translator
translator = Translator(sys.argv[1], variant=sys.argv[2])
out, ms = [], []
for sentence in json.load(sys.stdin):
    start = time.perf_counter()
    out.append(translator.translate(sentence, beam=int(sys.argv[3])))
    ms.append(1000 * (time.perf_counter() - start))
print(json.dumps({"translations": out, "ms": ms}))
`;

function summary(ms) {
  const sorted = [...ms].sort((a, b) => a - b);
  const at = (q) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
  const round = (x) => Math.round(x * 10) / 10;
  return {mean: round(ms.reduce((a, b) => a + b, 0) / ms.length), median: round(at(0.5)), p95: round(at(0.95))};
}

/** `{translations, ms}` of the TypeScript Translator in Node. */
async function inNode(variant) {
  let translator;
  try {
    translator = await Translator.load(flags['--model'], {variant});
  } catch (error) {
    return {error: String(error.message ?? error)};
  }
  const translations = [];
  const ms = [];
  for (const sentence of sentences) {
    const start = performance.now();
    translations.push(await translator.translate(sentence, beam));
    ms.push(performance.now() - start);
  }
  return {translations, ms};
}

/** `{translations, ms}` of the TypeScript Translator in headless Chromium, timed in the
 * page as `inNode` times it (the load not counted). */
function inBrowser(variant) {
  const job = {model: flags['--model'], sentences, beams: [beam], variants: [variant], chromium: flags['--chromium']};
  const driver = spawnSync(process.execPath, [resolve(here, '../e2e/translate_in_browser.mjs')], {
    input: JSON.stringify({...job, timeoutMs: 600000}),
    encoding: 'utf-8',
    maxBuffer: 1 << 28,
  });
  if (driver.status !== 0) return {error: driver.stderr.slice(-2000)};
  const rows = JSON.parse(driver.stdout).variants[variant].beams[beam];
  return {translations: rows.map((row) => row.text), ms: rows.map((row) => row.ms)};
}

const report = {model: flags['--model'], runtime: flags['--runtime'], sentences: sentences.length, beam, variants: {}};
for (const variant of flags['--variants'].split(',')) {
  const python = spawnSync(flags['--python'], ['-c', PYTHON, flags['--model'], variant, String(beam)], {
    input: JSON.stringify(sentences),
    cwd: resolve(here, '../..'),
    encoding: 'utf-8',
    maxBuffer: 1 << 28,
  });
  if (python.status !== 0) throw new Error(`the Python runtime failed on ${variant}: ${python.stderr.slice(-2000)}`);
  const expected = JSON.parse(python.stdout.trim().split('\n').pop());
  const {translations, ms, error} = flags['--runtime'] === 'browser' ? inBrowser(variant) : await inNode(variant);
  if (error !== undefined) {
    report.variants[variant] = {error};
    continue;
  }
  const differing = sentences
    .map((sentence, i) => ({sentence, python: expected.translations[i], typescript: translations[i]}))
    .filter((row) => row.python !== row.typescript);
  report.variants[variant] = {
    identical: 1 - differing.length / sentences.length,
    ms_per_sentence: {typescript: summary(ms), python: summary(expected.ms)},
    differing: differing.slice(0, 5),
  };
}
process.stdout.write(JSON.stringify(report, null, 2) + '\n');
