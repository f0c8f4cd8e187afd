/**
 * Export folders as `nlpkit export` writes them, read as the Python runtime reads
 * them (`keras_nlpkit/ondevice/model_folder.py`): `manifest.json` first, then only
 * the files it lists, each checked against its size and SHA-256.
 */
import {createHash} from 'node:crypto';
import {existsSync, readFileSync, statSync} from 'node:fs';
import path from 'node:path';
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
  tokenizer: string | null;
  settings: Record<string, unknown>;
}

export interface ExportFolder {
  directory: string;
  manifest: Manifest;
  argument: string;
}

function readManifest(directory: string, argument: string): Manifest {
  const file = path.join(directory, MANIFEST_FILE);
  let value: unknown;
  try {
    value = JSON.parse(readFileSync(file, 'utf8'));
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

/** The export folder of `folder` (itself, or its `export/`), of the given kind. */
export function findExportFolder(folder: string, kind: string, argument = '--model'): ExportFolder {
  if (!existsSync(folder) || !statSync(folder).isDirectory()) {
    const what = existsSync(folder) ? 'not a folder' : 'no such folder';
    throw new UserInputError(`${argument}: ${what}. Received: ${folder}`);
  }
  for (const candidate of [folder, path.join(folder, EXPORT_FOLDER)]) {
    if (existsSync(path.join(candidate, MANIFEST_FILE))) {
      const manifest = readManifest(candidate, argument);
      if (manifest.kind !== kind) {
        throw new UserInputError(
          `${argument}: this is a ${manifest.kind} model, not a ${kind} one. Received: ${folder}`,
        );
      }
      return {directory: candidate, manifest, argument};
    }
  }
  throw new UserInputError(
    `${argument}: not a model folder (no ${MANIFEST_FILE} in it or in ${EXPORT_FOLDER}/). Received: ${folder}`,
  );
}

/** The bytes of a file the manifest lists, checked against its size and SHA-256. */
export function readListedFile(folder: ExportFolder, name: string): Uint8Array {
  const entry = folder.manifest.files?.[name];
  const file = path.join(folder.directory, name);
  if (entry === undefined) {
    throw new UserInputError(
      `${folder.argument}: the manifest does not list ${name}. Received: ${folder.directory}`,
    );
  }
  let data: Buffer;
  try {
    data = readFileSync(file);
  } catch {
    throw new UserInputError(`${folder.argument}: ${name} is missing or unreadable. Received: ${file}`);
  }
  const digest = createHash('sha256').update(data).digest('hex');
  if (data.length !== entry.bytes || digest !== entry.sha256) {
    throw new UserInputError(
      `${folder.argument}: ${name} is damaged (its size or checksum differs from the manifest's). Received: ${file}`,
    );
  }
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}
