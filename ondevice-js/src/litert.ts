/**
 * LiteRT.js (`@litertjs/core`), loaded once, in a browser or in Node.
 *
 * LiteRT.js is written for browsers and workers: its loader runs the Emscripten
 * script through `importScripts` or a `<script>` tag. In Node neither exists, so
 * `importScripts` is provided here, running that script as the CommonJS module it
 * also is. When LiteRT.js refuses a model it throws only "Failed to load model from
 * buffer" and prints the reason (e.g. "Variable tensors not yet supported"); the
 * reason is captured from the console and put into the error.
 */
import {loadAndCompile, loadLiteRt, type CompiledModel} from '@litertjs/core';
import {UserInputError} from './errors.js';

let loaded: Promise<unknown> | null = null;

function isNode(): boolean {
  return typeof process !== 'undefined' && !!process.versions?.node;
}

async function installNodeLoader(): Promise<string> {
  const {readFileSync} = await import('node:fs');
  const {createRequire} = await import('node:module');
  const path = await import('node:path');
  const {fileURLToPath} = await import('node:url');
  const vm = await import('node:vm');
  const require = createRequire(import.meta.url);
  const g = globalThis as Record<string, unknown>;
  g.self ??= globalThis;
  g.importScripts = (url: string | URL) => {
    const text = url.toString();
    const file = text.startsWith('file:') ? fileURLToPath(text) : text;
    const wrapped = vm.runInThisContext(
      `(function (exports, require, module, __filename, __dirname) {${readFileSync(file, 'utf8')}\n})`,
      {filename: file},
    );
    const module = {exports: {} as unknown};
    wrapped(module.exports, require, module, file, path.dirname(file));
    g.ModuleFactory = module.exports;
  };
  const core = path.dirname(require.resolve('@litertjs/core/package.json'));
  return path.join(core, 'wasm') + path.sep;
}

// Where LiteRT.js's console output goes: the real console, or a list being collected.
// Emscripten binds `console.error` & co. once, when LiteRT.js loads, so they are
// replaced by routers for the load: later output is routed through `sink`.
let sink: string[] | null = null;

function routed<T extends (...args: unknown[]) => void>(real: T): T {
  return ((...args: unknown[]) => {
    const line = args.map(String).join(' ');
    if (sink) sink.push(line);
    else if (!line.startsWith('INFO: ')) real(...args); // e.g. "Created … XNNPACK delegate": noise in a CLI
  }) as T;
}

/** Runs `fn` with LiteRT.js's console output collected into `lines`. */
async function collecting<T>(lines: string[], fn: () => Promise<T>): Promise<T> {
  const previous = sink;
  sink = lines;
  try {
    return await fn();
  } finally {
    sink = previous;
  }
}

/** Loads LiteRT.js once; `wasmDirectory` defaults to the package's own in Node. */
export async function ensureLiteRt(wasmDirectory?: string): Promise<void> {
  if (loaded === null) {
    loaded = (async () => {
      const directory = wasmDirectory ?? (isNode() ? await installNodeLoader() : undefined);
      if (directory === undefined) {
        throw new Error('ensureLiteRt: in a browser, pass the URL of @litertjs/core/wasm/');
      }
      const saved = {error: console.error, warn: console.warn, log: console.log, info: console.info};
      console.error = routed(saved.error);
      console.warn = routed(saved.warn);
      console.log = routed(saved.log);
      console.info = routed(saved.info);
      try {
        // In Node there is no WebGPU: LiteRT.js says so on the console, once (dropped).
        await collecting([], () => loadLiteRt(directory));
      } finally {
        Object.assign(console, saved);
      }
    })();
  }
  await loaded;
}

/** Compiles a `.tflite` for the CPU (XNNPACK in WebAssembly); `source` names it in errors. */
export async function compileModel(content: Uint8Array, source: string): Promise<CompiledModel> {
  await ensureLiteRt();
  const lines: string[] = [];
  try {
    return await collecting(lines, () => loadAndCompile(content, {accelerator: 'wasm'}));
  } catch (error) {
    const reasons = lines.filter((line) => line.includes("ERROR"));
    const reason = reasons.length ? reasons.join('; ') : String(error);
    throw new UserInputError(`${source}: LiteRT.js cannot load it (${reason.trim()})`);
  }
}
