#!/usr/bin/env node
// Enforces the layering of DESIGN.md: every import from src/ goes only to an allowed layer,
// no import cycles between folders, and the deterministic core imports no node:* module.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';

const root = resolve(dirname(new URL(import.meta.url).pathname), '..');
const src = join(root, 'src');

// layer -> layers it may import (itself always allowed).
const allowed = {
  pkg: [],
  api: ['pkg'],
  'raft/quorum': ['pkg', 'api'],
  'raft/tracker': ['pkg', 'api', 'raft/quorum'],
  'raft/confchange': ['pkg', 'api', 'raft/quorum', 'raft/tracker'],
  raft: ['pkg', 'api', 'raft/quorum', 'raft/tracker', 'raft/confchange'],
  wal: ['pkg', 'api'],
  snap: ['pkg', 'api'],
  backend: ['pkg'],
  mvcc: ['pkg', 'api', 'backend'],
  lease: ['pkg', 'api', 'backend'],
  auth: ['pkg', 'api', 'backend'],
  v2store: ['pkg', 'api', 'backend'],
  transport: ['pkg', 'api'],
  server: ['pkg', 'api', 'raft', 'raft/quorum', 'raft/tracker', 'raft/confchange', 'wal', 'snap', 'backend', 'mvcc', 'lease', 'auth', 'v2store'],
  grpc: ['pkg', 'api', 'server'],
  http: ['pkg', 'api', 'server'],
  client: ['pkg', 'api'],
  ctl: ['pkg', 'api', 'client'],
  bin: '*',
};
const deterministic = ['raft', 'raft/quorum', 'raft/tracker', 'raft/confchange', 'mvcc', 'lease', 'auth', 'v2store'];

function walk(dir, out = []) {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) walk(p, out);
    else if (p.endsWith('.ts') && !p.endsWith('.d.ts')) out.push(p);
  }
  return out;
}

function layerOf(file) {
  const parts = relative(src, file).split(sep);
  if (parts[0] === 'raft' && parts.length > 2 && ['quorum', 'tracker', 'confchange'].includes(parts[1])) return `raft/${parts[1]}`;
  return parts[0];
}

const importRe = /(?:^|\n)\s*(?:import|export)\s+(type\s+)?(?:[^'"]*?\sfrom\s+)?['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g;
const problems = [];
const folderEdges = new Map();

for (const file of walk(src)) {
  const isTest = file.endsWith('.test.ts');
  const layer = layerOf(file);
  const rules = allowed[layer];
  const rel = relative(root, file);
  if (rules === undefined) {
    problems.push(`${rel}: folder src/${layer} is not a layer of DESIGN.md`);
    continue;
  }
  const text = readFileSync(file, 'utf8');
  for (const m of text.matchAll(importRe)) {
    const spec = m[2] ?? m[3];
    if (spec.startsWith('node:')) {
      if (deterministic.includes(layer) && !isTest) problems.push(`${rel}: the deterministic core may not import ${spec}`);
      continue;
    }
    if (!spec.startsWith('.')) continue;
    const target = resolve(dirname(file), spec);
    if (!target.startsWith(src + sep)) continue;
    const targetLayer = layerOf(target.replace(/\.js$/, '.ts'));
    if (targetLayer !== layer && rules !== '*' && !rules.includes(targetLayer)) {
      problems.push(`${rel}: layer ${layer} may not import ${targetLayer} (${spec})`);
    }
    if (!isTest) {
      const from = dirname(relative(src, file));
      const to = dirname(relative(src, target));
      if (from !== to) {
        if (!folderEdges.has(from)) folderEdges.set(from, new Set());
        folderEdges.get(from).add(to);
      }
    }
  }
}

// Cycle check between folders (depth-first search with colours).
const colour = new Map();
const stack = [];
function visit(node) {
  colour.set(node, 'grey');
  stack.push(node);
  for (const next of folderEdges.get(node) ?? []) {
    const c = colour.get(next);
    if (c === 'grey') problems.push(`import cycle between folders: ${[...stack.slice(stack.indexOf(next)), next].join(' -> ')}`);
    else if (c === undefined) visit(next);
  }
  stack.pop();
  colour.set(node, 'black');
}
for (const node of folderEdges.keys()) if (!colour.has(node)) visit(node);

if (problems.length > 0) {
  for (const p of problems) console.error(p);
  process.exit(1);
}
console.log('layers: ok');
