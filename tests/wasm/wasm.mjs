// Loads the wasm module built for node (scripts/lib.sh build_wasm).
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const repo = root;
export const chronicle = createRequire(import.meta.url)(path.join(root, 'target/wasm/node/chronicle_wasm.js'));
