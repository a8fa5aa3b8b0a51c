// Chirp's browser bundles: `node frontend/build.mjs` (what `make frontend` runs).
//
// Each entry of ENTRIES is bundled by esbuild from the npm packages in
// frontend/node_modules into content-hashed files in web/static/dist/
// (`<name>-<hash>.js`, `.css`, and any font or wasm file they import), minified,
// for modern browsers. Its web workers, if it has any, are bundled the same way
// and the main bundle finds them by file name next to itself. Every file gets
// `.br` and `.gz` twins, which the server sends to browsers that accept them.
// web/static/dist/manifest.json, written last, maps each entry to its files:
//
//   {"graphiql": {"js": "graphiql-XXXX.js", "css": "graphiql-XXXX.css",
//                 "workers": {"editor": "graphiql-editor.worker-XXXX.js", ...}},
//    "client": {"js": "client-XXXX.js", "css": "client-XXXX.css", "workers": {}}}
//
// The server (web/assets.py, web/client.py) reads it; without it, /graphql and / say
// how to build.

import { mkdir, readdir, readFile, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import zlib from "node:zlib";

import * as esbuild from "esbuild";

const HERE = path.dirname(fileURLToPath(import.meta.url));
const OUT = path.join(HERE, "..", "web", "static", "dist");
// Browsers with ES2022, module workers and CSS nesting: about the last two years' releases.
const TARGET = ["chrome115", "edge115", "firefox115", "safari16.4"];

/**
 * The entry points. `main` is relative to frontend/; `workers` maps a name the
 * main bundle asks for (through the `__CHIRP_WORKERS__` constant: file names,
 * relative to the main bundle) to a module that runs as a web worker.
 */
const ENTRIES = [
  {
    name: "graphiql",
    main: "graphiql/main.tsx",
    workers: {
      // Monaco, GraphiQL's editor, runs its language services in workers.
      editor: "monaco-editor/esm/vs/editor/editor.worker.js",
      json: "monaco-editor/esm/vs/language/json/json.worker.js",
      graphql: "monaco-graphql/esm/graphql.worker.js",
    },
  },
  // The web client at / (web/client.py): an example app on the public API.
  { name: "client", main: "client/main.tsx" },
];

const COMMON = {
  absWorkingDir: HERE,
  bundle: true,
  minify: true,
  sourcemap: false,
  target: TARGET,
  platform: "browser",
  outdir: OUT,
  entryNames: "[name]-[hash]",
  assetNames: "[name]-[hash]",
  chunkNames: "[name]-[hash]",
  loader: {
    ".ttf": "file",
    ".woff": "file",
    ".woff2": "file",
    ".wasm": "file",
    ".svg": "file",
    ".png": "file",
  },
  define: { "process.env.NODE_ENV": '"production"' },
  legalComments: "none",
  metafile: true,
  logLevel: "warning",
};

/** The JS output each entry point of a build became (with its cssBundle, if any). */
function outputsByEntry(metafile, names) {
  const found = {};
  for (const [file, output] of Object.entries(metafile.outputs)) {
    const name = output.entryPoint && names[path.resolve(HERE, output.entryPoint)];
    if (name !== undefined && file.endsWith(".js")) found[name] = { file, ...output };
  }
  return found;
}

async function buildEntry(entry) {
  const workers = {};
  const workerEntries = Object.entries(entry.workers ?? {});
  if (workerEntries.length) {
    const names = {};
    const points = {};
    for (const [label, module] of workerEntries) {
      const file = fileURLToPath(import.meta.resolve(module));
      names[file] = label;
      points[`${entry.name}-${label}.worker`] = file;
    }
    const built = await esbuild.build({ ...COMMON, entryPoints: points, format: "iife" });
    for (const [label, output] of Object.entries(outputsByEntry(built.metafile, names))) {
      workers[label] = path.basename(output.file);
    }
  }
  const main = path.resolve(HERE, entry.main);
  const built = await esbuild.build({
    ...COMMON,
    entryPoints: { [entry.name]: main },
    format: "esm",
    jsx: "automatic",
    define: { ...COMMON.define, __CHIRP_WORKERS__: JSON.stringify(workers) },
  });
  const output = outputsByEntry(built.metafile, { [main]: entry.name })[entry.name];
  const css = output.cssBundle ? path.basename(output.cssBundle) : null;
  return { js: path.basename(output.file), css, workers };
}

const gzip = promisify(zlib.gzip);
const brotli = promisify(zlib.brotliCompress);

/** `.gz` and `.br` twins of every text file (fonts in woff2 are compressed already). */
async function compressAll() {
  for (const name of await readdir(OUT)) {
    if (!/\.(js|css|ttf|wasm|svg|json)$/.test(name)) continue;
    const data = await readFile(path.join(OUT, name));
    if (data.length < 1024) continue;
    const brotliOptions = {
      params: {
        [zlib.constants.BROTLI_PARAM_QUALITY]: 9,
        [zlib.constants.BROTLI_PARAM_SIZE_HINT]: data.length,
      },
    };
    await writeFile(path.join(OUT, `${name}.gz`), await gzip(data, { level: 9 }));
    await writeFile(path.join(OUT, `${name}.br`), await brotli(data, brotliOptions));
  }
}

async function main() {
  await rm(OUT, { recursive: true, force: true });
  await mkdir(OUT, { recursive: true });
  const manifest = {};
  for (const entry of ENTRIES) {
    manifest[entry.name] = await buildEntry(entry);
    console.log(`${entry.name}: ${JSON.stringify(manifest[entry.name])}`);
  }
  await compressAll();
  await writeFile(path.join(OUT, "manifest.json"), `${JSON.stringify(manifest, null, 2)}\n`);
  console.log(`wrote ${path.relative(process.cwd(), OUT)}/manifest.json`);
}

await main();
