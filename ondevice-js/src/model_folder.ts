/**
 * Export folders as `nlpkit export` writes them, read as the Python runtime reads
 * them (`keras_nlpkit/ondevice/model_folder.py`): `manifest.json` first, then only
 * the files it lists, each checked against its size and SHA-256.
 *
 * A folder is a path in Node and a URL in a browser (`http://…/model/`, files
 * fetched from it); both are read through `FileSource`, so the rest of the runtime
 * is the same in both places. The checksum is Web Crypto's, which Node 20 has too.
 */
import {UserInputError} from './errors.js';

export const MANIFEST_FILE = 'manifest.json';
export const FORMAT = 'keras-nlpkit-export';
export const FORMAT_VERSION = 1;
const EXPORT_FOLDER = 'export';

export interface FileEntry {
  bytes: number;
  sha256: string;
}

export interface Manifest {
  format: string;
  format_version: number;
  kind: string;
  files: Record<string, FileEntry>;
  variants: Record<string, string>;
  signatures: string[];
  /** Declared tensors: variant → signature → inputs/outputs → name → shape and dtype. */
  tensors?: Record<string, Record<string, Record<'inputs' | 'outputs', Record<string, {shape: number[]; dtype: string}>>>>;
  tokenizer: string | null;
  settings: Record<string, unknown>;
}

/** Where a folder's files come from: `read` gives null for a file that is not there. */
export interface FileSource {
  readonly location: string;
  read(name: string): Promise<Uint8Array | null>;
  /** The folder's `export/` subfolder. */
  child(name: string): FileSource;
  /** How messages name a file of it. */
  describe(name: string): string;
}

export interface ExportFolder {
  directory: string;
  source: FileSource;
  manifest: Manifest;
  argument: string;
}

function isUrl(location: string): boolean {
  const inNode = typeof process !== 'undefined' && !!process.versions?.node;
  return !inNode || /^(https?|blob|data):/.test(location);
}

/** Files fetched relative to a URL (the browser, or a server Node reads from). */
class UrlSource implements FileSource {
  readonly location: string;
  constructor(location: string) {
    this.location = location.endsWith('/') ? location : `${location}/`;
  }
  async read(name: string): Promise<Uint8Array | null> {
    let response: Response;
    try {
      response = await fetch(new URL(name, new URL(this.location, globalThis.location?.href)));
    } catch {
      return null;
    }
    return response.ok ? new Uint8Array(await response.arrayBuffer()) : null;
  }
  child(name: string): FileSource {
    return new UrlSource(`${this.location}${name}/`);
  }
  describe(name: string): string {
    return `${this.location}${name}`;
  }
}

/** Files of a folder on disk (Node). */
class PathSource implements FileSource {
  constructor(readonly location: string) {}
  async read(name: string): Promise<Uint8Array | null> {
    const {readFile} = await import('node:fs/promises');
    try {
      const data = await readFile(this.describe(name));
      return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    } catch {
      return null;
    }
  }
  child(name: string): FileSource {
    return new PathSource(this.describe(name));
  }
  describe(name: string): string {
    return this.location.endsWith('/') ? `${this.location}${name}` : `${this.location}/${name}`;
  }
}

async function checkFolder(location: string, argument: string): Promise<void> {
  const {stat} = await import('node:fs/promises');
  const info = await stat(location).catch(() => null);
  if (info === null || !info.isDirectory()) {
    const what = info === null ? 'no such folder' : 'not a folder';
    throw new UserInputError(`${argument}: ${what}. Received: ${location}`);
  }
}

function parseManifest(data: Uint8Array, file: string, argument: string): Manifest {
  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder('utf-8', {fatal: true}).decode(data));
  } catch (error) {
    throw new UserInputError(
      `${argument}: ${MANIFEST_FILE} is unreadable or corrupt (${(error as Error).name}). Received: ${file}`,
    );
  }
  const manifest = value as Manifest;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new UserInputError(`${argument}: ${MANIFEST_FILE} is not a JSON object. Received: ${file}`);
  }
  if (manifest.format !== FORMAT || manifest.format_version !== FORMAT_VERSION) {
    throw new UserInputError(
      `${argument}: ${MANIFEST_FILE} is not a keras-nlpkit export manifest of format version ` +
        `${FORMAT_VERSION}. Received: format=${JSON.stringify(manifest.format)}, ` +
        `format_version=${JSON.stringify(manifest.format_version)} in ${file}`,
    );
  }
  return manifest;
}

/** The export folder of `location` (itself, or its `export/`), of the given kind.
 * `location` is a folder path (Node) or a URL (browser, or Node reading a server). */
export async function findExportFolder(location: string, kind: string, argument = '--model'): Promise<ExportFolder> {
  const url = isUrl(location);
  if (!url) await checkFolder(location, argument);
  const root: FileSource = url ? new UrlSource(location) : new PathSource(location);
  for (const source of [root, root.child(EXPORT_FOLDER)]) {
    const data = await source.read(MANIFEST_FILE);
    if (data === null) continue;
    const manifest = parseManifest(data, source.describe(MANIFEST_FILE), argument);
    if (manifest.kind !== kind) {
      throw new UserInputError(`${argument}: this is a ${manifest.kind} model, not a ${kind} one. Received: ${location}`);
    }
    return {directory: source.location, source, manifest, argument};
  }
  throw new UserInputError(
    `${argument}: not a model folder (no ${MANIFEST_FILE} in it or in ${EXPORT_FOLDER}/). Received: ${location}`,
  );
}

function hex(digest: ArrayBuffer): string {
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, '0')).join('');
}

/** The bytes of a file the manifest lists, checked against its size and SHA-256. */
export async function readListedFile(folder: ExportFolder, name: string): Promise<Uint8Array> {
  const entry = folder.manifest.files?.[name];
  const file = folder.source.describe(name);
  if (entry === undefined) {
    throw new UserInputError(`${folder.argument}: the manifest does not list ${name}. Received: ${folder.directory}`);
  }
  const data = await folder.source.read(name);
  if (data === null) {
    throw new UserInputError(`${folder.argument}: ${name} is missing or unreadable. Received: ${file}`);
  }
  const digest = hex(await globalThis.crypto.subtle.digest('SHA-256', data as Uint8Array<ArrayBuffer>));
  if (data.length !== entry.bytes || digest !== entry.sha256) {
    throw new UserInputError(
      `${folder.argument}: ${name} is damaged (its size or checksum differs from the manifest's). Received: ${file}`,
    );
  }
  return data;
}
