#!/usr/bin/env node
/**
 * Translates sentences with the TypeScript `Translator` in a real headless Chromium:
 * the built runtime (`dist/`) and LiteRT.js's WebAssembly loaded by the page as the
 * demo page loads them (its import map, no bundler), the export folder fetched over
 * HTTP. A server of its own on 127.0.0.1 serves ondevice-js/ and, under `/model/`,
 * the export folder.
 *
 *   node e2e/translate_in_browser.mjs < job.json > result.json
 *
 * The job: {model: an export folder's path, sentences: [...], beams: [1, 3],
 * variants?: ['float32'], chromium?: '/usr/bin/chromium', timeoutMs?: 60000}.
 * The result (stdout, one JSON object): {variants: {variant: {loadMs, beams: {beam:
 * [{ids, text, ms}]}}}, pageErrors, failed}: one row a sentence, `ms` from the
 * sentence to its text. Used by tests/ondevice/test_web_demo.py and
 * bench/translate_browser.mjs.
 */
import {readFile} from 'node:fs/promises';
import {createServer} from 'node:http';
import path from 'node:path';
import {fileURLToPath} from 'node:url';
import {withChromium} from './chromium.mjs';

const PACKAGE = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const MODEL = '/model/';
// Module scripts and WebAssembly are refused by browsers under any other type.
const TYPES = {'.html': 'text/html', '.js': 'text/javascript', '.json': 'application/json', '.wasm': 'application/wasm'};

async function readStdin() {
  const chunks = [];
  for await (const chunk of process.stdin) chunks.push(chunk);
  return JSON.parse(Buffer.concat(chunks).toString('utf8'));
}

/** A page holding nothing but the demo page's import map, so the runtime's bare
 * imports of LiteRT.js resolve as they do there. */
async function page() {
  const demo = await readFile(path.join(PACKAGE, 'web', 'index.html'), 'utf8');
  const importMap = demo.match(/<script type="importmap">[\s\S]*?<\/script>/);
  if (importMap === null) throw new Error('web/index.html has no import map');
  return `<!doctype html><meta charset="utf-8"><title>translate</title>${importMap[0]}`;
}

/** Serves `/` (the page), ondevice-js/'s files and the export folder's under MODEL. */
async function serve(model) {
  const html = await page();
  const server = createServer(async (request, response) => {
    const url = decodeURIComponent(new URL(request.url, 'http://host').pathname);
    const [root, name] = url.startsWith(MODEL) ? [model, url.slice(MODEL.length)] : [PACKAGE, url.slice(1)];
    const file = path.resolve(root, name);
    // Cross-origin isolated, as `nlpkit serve-demo`: performance.now() ticks in µs.
    const headers = {'Cross-Origin-Opener-Policy': 'same-origin', 'Cross-Origin-Embedder-Policy': 'require-corp'};
    try {
      if (url !== '/' && !file.startsWith(root + path.sep)) throw new Error('outside the folders served');
      const body = url === '/' ? html : await readFile(file);
      const type = TYPES[url === '/' ? '.html' : path.extname(file)] ?? 'application/octet-stream';
      response.writeHead(200, {...headers, 'Content-Type': type}).end(body);
    } catch {
      response.writeHead(404, headers).end();
    }
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return server;
}

/** In the page: loads each variant and translates every sentence at every beam. */
async function translateAll({variants, sentences, beams}) {
  const nlpkit = await import('/dist/index.js');
  await nlpkit.ensureLiteRt(new URL('/node_modules/@litertjs/core/wasm/', location.href).href);
  const out = {};
  for (const variant of variants) {
    const start = performance.now();
    const translator = await nlpkit.Translator.load(new URL('/model/', location.href).href, {variant});
    out[variant] = {loadMs: performance.now() - start, beams: {}};
    for (const beam of beams) {
      out[variant].beams[beam] = [];
      for (const sentence of sentences) {
        const begin = performance.now();
        const ids = await translator.translateIds(translator.sourceIds(sentence), beam);
        const text = translator.detokenize(ids);
        out[variant].beams[beam].push({ids, text, ms: performance.now() - begin});
      }
    }
  }
  return out;
}

async function main() {
  const job = await readStdin();
  const timeout = job.timeoutMs ?? 60000;
  const server = await serve(path.resolve(job.model));
  const result = {pageErrors: [], failed: []};
  try {
    await withChromium({executablePath: job.chromium, timeout}, async (context) => {
      const tab = context.pages()[0] ?? (await context.newPage());
      tab.setDefaultTimeout(timeout);
      tab.on('pageerror', (error) => result.pageErrors.push(String(error)));
      tab.on('requestfailed', (request) => result.failed.push(request.url()));
      await tab.goto(`http://127.0.0.1:${server.address().port}/`, {waitUntil: 'load'});
      const task = {variants: job.variants ?? ['float32'], sentences: job.sentences, beams: job.beams};
      result.variants = await tab.evaluate(translateAll, task);
    });
  } finally {
    server.close();
  }
  process.stdout.write(JSON.stringify(result) + '\n');
}

main().catch((error) => {
  process.stderr.write(`translate_in_browser: ${error.stack ?? error}\n`);
  process.exit(1);
});
