#!/usr/bin/env node
// Thin launcher: the compiled CLI lives in dist/ (built by `npm ci` through `prepare`).
// Top-level await on purpose: if the event loop ever empties while a command is still
// pending, Node exits with code 13 instead of a silent 0.
const { main } = await import('../dist/cli/main.js');
await main(process.argv);
