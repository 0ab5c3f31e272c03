// Builds the console and the GraphiQL page into dist/, which the binary embeds (src/http/console.rs). Run with
// `npm ci && npm run build` in console/ after changing anything under src/ or package-lock.json; dist/ is committed so
// that `cargo run --release` needs no Node.js. The output is the same byte for byte from the same inputs (CI checks).

import * as esbuild from 'esbuild';
import * as sass from 'sass';
import fs from 'node:fs';
import path from 'node:path';

const here = path.dirname(new URL(import.meta.url).pathname);
const dist = path.join(here, 'dist');
fs.rmSync(dist, { recursive: true, force: true });
fs.mkdirSync(dist, { recursive: true });

const css = sass.compile(path.join(here, 'src/console/console.scss'), {
  importers: [new sass.NodePackageImporter(here)],
  style: 'compressed',
  quietDeps: true,
  silenceDeprecations: ['import'],
});
fs.writeFileSync(path.join(dist, 'console.css'), css.css);

const common = {
  bundle: true,
  minify: true,
  format: 'esm',
  target: ['chrome120', 'firefox120', 'safari17'],
  legalComments: 'none',
  metafile: true,
  logLevel: 'warning',
  define: { 'process.env.NODE_ENV': '"production"' },
};
const built = [
  await esbuild.build({ ...common, entryPoints: { console: path.join(here, 'src/console/main.js') }, outdir: dist }),
  await esbuild.build({
    ...common,
    entryPoints: { graphiql: path.join(here, 'src/graphiql/main.jsx') },
    outdir: dist,
    jsx: 'automatic',
    loader: { '.woff2': 'file', '.woff': 'file', '.ttf': 'file', '.svg': 'file' },
    assetNames: 'assets/[name]-[hash]',
  }),
];

for (const page of ['console/index.html', 'graphiql/index.html']) {
  fs.copyFileSync(path.join(here, 'src', page), path.join(dist, page.replace('/index', '')));
}
// Our own icon: GOV.UK's images carry the crown, which is for GOV.UK services only.
fs.copyFileSync(path.join(here, 'src/console/favicon.svg'), path.join(dist, 'favicon.svg'));

// The licences of every package whose code is in a bundle, and of GOV.UK Frontend (styles and images).
const packages = new Map();
const packageOf = (file) => {
  const m = file.match(/^(.*node_modules\/(?:@[^/]+\/)?[^/]+)\//);
  return m ? path.resolve(here, m[1]) : null;
};
for (const b of built) {
  for (const input of Object.keys(b.metafile.inputs)) {
    const dir = packageOf(input);
    if (dir) packages.set(dir, true);
  }
}
packages.set(path.join(here, 'node_modules/govuk-frontend'), true);
const sections = [...packages.keys()].map((dir) => {
  const pkg = JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8'));
  const file = fs.readdirSync(dir).find((f) => /^licen[cs]e/i.test(f));
  const text = file ? fs.readFileSync(path.join(dir, file), 'utf8').trim() : `Licence: ${pkg.license}`;
  return { id: `${pkg.name}@${pkg.version}`, text };
}).sort((a, b) => a.id.localeCompare(b.id));
fs.writeFileSync(path.join(dist, 'THIRD-PARTY-LICENSES.txt'),
  `Third-party code in the orderwatch console and GraphiQL page (console/dist), with its licences.\n\n${
    sections.map((s) => `${'='.repeat(78)}\n${s.id}\n${'='.repeat(78)}\n${s.text}\n`).join('\n')}`);

const sizes = fs.readdirSync(dist).filter((f) => f.includes('.')).map((f) => `${f} ${fs.statSync(path.join(dist, f)).size}`);
console.log(`console/dist: ${sizes.join(', ')}; ${sections.length} third-party packages`);
