#!/usr/bin/env node
// Writes docs/status.schema.json (JSON Schema of `coffre status --json`) from the zod schema
// in src/ui/status-schema.ts, as built in dist/. Run after `npm run build` whenever that
// schema changes; tests/unit/status-render.test.ts fails until the two agree.
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { statusDocumentSchema } from '../dist/ui/status-schema.js';

const schema = { title: 'coffre status --json, version 1', ...z.toJSONSchema(statusDocumentSchema, { target: 'draft-2020-12' }) };
const out = fileURLToPath(new URL('../docs/status.schema.json', import.meta.url));
writeFileSync(out, `${JSON.stringify(schema, null, 2)}\n`);
console.log(`wrote ${out}`);
