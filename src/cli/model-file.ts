// Reads an ONNX model file for the CLI together with the external-data files its graph names
// (weights kept beside the graph, e.g. model.onnx_data or <stem>.bin). The graph is the
// authority on which files it needs, so we read exactly those instead of guessing names.

import { readFile } from 'node:fs/promises';
import { dirname, isAbsolute, join, normalize } from 'node:path';
import { externalDataLocations } from '../engine/onnx-external';
import type { ModelBytes } from '../engine/types';

export async function readModelFile(path: string): Promise<ModelBytes> {
  const model = new Uint8Array(await readFile(path));
  const locations = externalDataLocations(model);
  if (locations.length === 0) return { model };
  const dir = dirname(path);
  const externalData = await Promise.all(
    locations.map(async (location) => {
      // Like ONNX Runtime: locations are relative to the model's directory and may not leave it.
      const rel = normalize(location);
      if (isAbsolute(rel) || rel.split(/[\\/]/)[0] === '..')
        throw new Error(`${path}: external data location '${location}' points outside the model's directory`);
      const file = join(dir, rel);
      try {
        return { path: location, data: new Uint8Array(await readFile(file)) };
      } catch (error) {
        throw new Error(`${path} keeps weights in '${location}', but ${file} cannot be read: ${(error as Error).message}`);
      }
    }),
  );
  return { model, externalData };
}
