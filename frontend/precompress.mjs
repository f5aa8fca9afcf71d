// Trunk's post_build hook (Trunk.toml): writes X.br and X.gz beside every .wasm, .js and .css in the
// staging directory, so the backend serves them precompressed (backend/src/web.rs) and never spends
// CPU compressing at request time. Node's own zlib does it: nothing to download at build time.
//
// It runs after Trunk has written the final (wasm-opt'ed, hashed) files and before it moves them to
// dist/, so each variant is made from exactly the bytes served raw.

import { readFileSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { brotliCompressSync, constants, gzipSync } from "node:zlib";

const staging = process.env.TRUNK_STAGING_DIR;
if (!staging) {
  console.error("precompress.mjs: TRUNK_STAGING_DIR is not set; run it as Trunk's post_build hook");
  process.exit(1);
}

const COMPRESSED = /\.(wasm|js|css)$/;

function* files(dir) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) yield* files(path);
    else if (COMPRESSED.test(entry.name)) yield path;
  }
}

let count = 0;
for (const path of files(staging)) {
  const raw = readFileSync(path);
  // The strongest settings a browser decodes: quality 11, and the largest standard window (24 bits;
  // "large window" brotli is not something browsers accept). Compressing once per build pays for it.
  const br = brotliCompressSync(raw, {
    params: {
      [constants.BROTLI_PARAM_QUALITY]: constants.BROTLI_MAX_QUALITY,
      [constants.BROTLI_PARAM_LGWIN]: constants.BROTLI_MAX_WINDOW_BITS,
      [constants.BROTLI_PARAM_MODE]: path.endsWith(".wasm")
        ? constants.BROTLI_MODE_GENERIC
        : constants.BROTLI_MODE_TEXT,
      [constants.BROTLI_PARAM_SIZE_HINT]: raw.length,
    },
  });
  const gz = gzipSync(raw, { level: constants.Z_BEST_COMPRESSION });
  writeFileSync(`${path}.br`, br);
  writeFileSync(`${path}.gz`, gz);
  console.log(
    `precompressed ${path.slice(staging.length + 1)}: ${raw.length} B raw, ${gz.length} B gzip, ${br.length} B brotli`,
  );
  count += 1;
}
if (count === 0) {
  console.error(`precompress.mjs: no .wasm, .js or .css in ${staging}`);
  process.exit(1);
}
