/**
 * The demo page: a search box whose suggestion strip follows every keystroke, and
 * misspelled words underlined with their corrections, all computed in this page by
 * the TypeScript runtime on LiteRT.js (WebAssembly). `nlpkit serve-demo` serves it,
 * with `config.json` saying where the export folders are.
 *
 * The strip is `QueryCompleter.suggest(text of the box)`, the same call and so the
 * same words as `nlpkit complete`. A word counts as finished once a space follows
 * it; a finished word of letters whose best correction (`SpellingCorrector.correct`,
 * as `nlpkit correct`) is another word is underlined, and its corrections listed.
 *
 * For tests and benchmarks, `window.nlpkitDemo` holds:
 *   ready     a Promise of {loadMs, error}, settled once the first strip is shown
 *             (error: the message on the page, or null);
 *   timings   [{text, ms}], one per strip shown: ms from the input event to the strip;
 *   spelling  whether misspelled words are checked (a spelling model was served and
 *             the runtime has SpellingCorrector).
 * `[data-testid=strip]` and `[data-testid=corrections]` carry `data-text`: the box's
 * text they were computed for.
 */
import * as nlpkit from './dist/index.js';

const K = 3; // words in the strip
const CORRECTIONS = 3; // corrections offered for a misspelled word
const CHECKED_WORD = /^[\p{L}']+$/u; // numbers and symbols are not spell-checked

const byTestId = (id) => document.querySelector(`[data-testid="${id}"]`);
const input = byTestId('query');
const strip = byTestId('strip');
const underlay = byTestId('underlay');
const list = byTestId('corrections');
const errorBox = byTestId('error');
const timing = byTestId('timing');

const demo = {ready: null, timings: [], loadMs: null, error: null, spelling: false};
window.nlpkitDemo = demo;

let completer = null;
let corrector = null;
const corrections = new Map(); // finished word → its corrections ([] when spelled right)
// Model calls run one at a time; a keystroke made while one runs replaces any
// earlier one still waiting, so the strip never lags behind by more than a call.
let wanted = null; // {text, start}: the latest box text not yet served
let running = false;
let settled = null; // resolves the first strip's promise (ready)

function words(text) {
  return text.toLowerCase().split(/\s+/).filter((w) => w.length > 0);
}

/** The words of `text` a space has finished (the last one is still being typed). */
function finishedWords(text) {
  const all = words(text);
  return /\s$/.test(text) ? all : all.slice(0, -1);
}

function update() {
  wanted = {text: input.value, start: performance.now()};
  if (!running) pump();
}

async function pump() {
  running = true;
  try {
    while (wanted !== null) {
      const job = wanted;
      wanted = null;
      const suggestions = await completer.suggest(job.text, K);
      if (wanted !== null) continue; // a newer keystroke: this strip is already stale
      showStrip(job.text, suggestions);
      demo.timings.push({text: job.text, ms: performance.now() - job.start});
      showTimings();
      if (corrector !== null) {
        for (const word of new Set(finishedWords(job.text))) {
          if (wanted !== null) break;
          if (CHECKED_WORD.test(word) && !corrections.has(word)) {
            corrections.set(word, await correctionsOf(word));
          }
        }
        if (wanted !== null) continue;
      }
      showSpelling(job.text);
    }
  } catch (error) {
    fail(error);
  } finally {
    running = false;
  }
  if (settled !== null) {
    settled();
    settled = null;
  }
}

/** The corrector's answers when its best one is not the word itself, else []. */
async function correctionsOf(word) {
  const answers = await corrector.correct(word, CORRECTIONS);
  return answers.length > 0 && answers[0][0] !== word ? answers.map(([w]) => w) : [];
}

function showStrip(text, suggestions) {
  const buttons = suggestions.map((word) => {
    const button = document.createElement('button');
    button.type = 'button';
    button.textContent = word;
    button.dataset.testid = 'suggestion';
    // Keep the focus (and the caret) in the box when a suggestion is tapped.
    button.addEventListener('pointerdown', (event) => event.preventDefault());
    button.addEventListener('click', () => accept(word));
    return button;
  });
  strip.replaceChildren(...buttons);
  strip.dataset.text = text;
}

function misspelled(word) {
  return (corrections.get(word.toLowerCase()) ?? []).length > 0;
}

/** Underlines the finished misspelled words in the box and lists their corrections. */
function showSpelling(text) {
  const parts = text.split(/(\s+)/);
  const finished = /\s$/.test(text) ? parts.length : parts.length - 1;
  underlay.replaceChildren(
    ...parts.map((part, i) => {
      if (i >= finished || !misspelled(part)) return document.createTextNode(part);
      const mark = document.createElement('mark');
      mark.className = 'misspelled';
      mark.textContent = part;
      return mark;
    }),
  );
  underlay.scrollLeft = input.scrollLeft;
  const flagged = [...new Set(finishedWords(text))].filter(misspelled);
  list.replaceChildren(
    ...flagged.map((word) => {
      const item = document.createElement('li');
      item.dataset.testid = 'correction';
      item.dataset.word = word;
      const mark = document.createElement('mark');
      mark.className = 'misspelled';
      mark.textContent = word;
      const options = corrections.get(word).map((replacement) => {
        const button = document.createElement('button');
        button.type = 'button';
        button.textContent = replacement;
        button.dataset.testid = 'correction-option';
        button.addEventListener('click', () => replaceWord(word, replacement));
        return button;
      });
      item.append(mark, ' → ', ...options);
      return item;
    }),
  );
  list.dataset.text = text;
}

/** Replaces the word being typed (or, after a space, adds the next one) with `word`. */
function accept(word) {
  const text = input.value;
  const head = text === '' || /\s$/.test(text) ? text : text.replace(/\S+$/u, '');
  input.value = `${head}${word} `;
  input.setSelectionRange(input.value.length, input.value.length);
  input.focus();
  update();
}

/** Every finished occurrence of `word` (any case) becomes `replacement`. */
function replaceWord(word, replacement) {
  const escaped = word.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const pattern = new RegExp(`(^|\\s)${escaped}(?=\\s)`, 'giu');
  input.value = input.value.replace(pattern, (_, before) => `${before}${replacement}`);
  input.focus();
  update();
}

function showTimings() {
  const ms = demo.timings.map((t) => t.ms).sort((a, b) => a - b);
  const median = ms[Math.floor((ms.length - 1) / 2)];
  const last = demo.timings[demo.timings.length - 1].ms;
  timing.textContent =
    `Strip in ${last.toFixed(1)} ms (median ${median.toFixed(1)} ms over ${ms.length} keystrokes) · ` +
    `page ready in ${Math.round(demo.loadMs)} ms`;
}

function fail(error) {
  const message = error instanceof nlpkit.UserInputError ? error.message : String(error?.message ?? error);
  demo.error = message;
  errorBox.textContent = message;
  errorBox.hidden = false;
  input.disabled = true;
  input.placeholder = 'The demo could not start: see the message below';
  timing.textContent = '';
  console.error(error);
}

async function fetchJson(name) {
  const response = await fetch(name);
  if (!response.ok) {
    throw new nlpkit.UserInputError(
      `${name}: ${response.status} ${response.statusText} (is this page served by nlpkit serve-demo?)`,
    );
  }
  return response.json();
}

async function load() {
  const config = await fetchJson('config.json');
  const url = (path) => new URL(path, window.location.href).href;
  await nlpkit.ensureLiteRt(url(config.wasm));
  if (config.spelling !== null) {
    if ('SpellingCorrector' in nlpkit) {
      corrector = await nlpkit.SpellingCorrector.load(url(config.spelling), {
        variant: 'dynamic_int8',
        argument: '--spelling-model',
      });
    } else {
      console.warn('ondevice-js has no SpellingCorrector yet: completion only, no spelling checks');
    }
  }
  demo.spelling = corrector !== null;
  // With a corrector, completion is typo-tolerant, as `nlpkit complete --spelling-model`.
  const options = corrector !== null ? {variant: 'int8', corrector} : {variant: 'int8'};
  completer = await nlpkit.QueryCompleter.load(url(config.queries), options);
  demo.loadMs = performance.now(); // since navigation started
  input.disabled = false;
  input.placeholder = 'Search';
  input.focus();
}

input.addEventListener('input', update);
input.addEventListener('scroll', () => (underlay.scrollLeft = input.scrollLeft));
input.addEventListener('keydown', (event) => {
  const first = strip.querySelector('button');
  if (event.key === 'Tab' && !event.shiftKey && !event.altKey && !event.ctrlKey && first !== null) {
    event.preventDefault(); // Tab accepts instead of leaving the box
    accept(first.textContent);
  }
});

demo.ready = (async () => {
  try {
    await load();
    const shown = new Promise((resolve) => (settled = resolve));
    update(); // the strip of the empty box: the likeliest first words
    await shown;
  } catch (error) {
    fail(error);
  }
  return {loadMs: demo.loadMs, error: demo.error};
})();
